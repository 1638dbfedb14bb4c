//! `metacrawl demo`: a refresh and a change report on a sample SQLite
//! warehouse, with nothing to install.

use crate::{drivers, output};
use anyhow::Context as _;
use metacrawl_engine::{Engine, RefreshOptions};
use std::path::Path;

/// Schema of the sample music-store warehouse.
const SETUP_SQL: &str = include_str!("../demo/music/setup.sql");
/// Schema changes applied between the two refreshes.
const CHANGE_SQL: &str = include_str!("../demo/music/change.sql");

const WAREHOUSE_FILE: &str = "music.db";
const STORE_FILE: &str = "metacrawl.db";
const CONNECTION: &str = "music";

/// Builds the warehouse in `dir`, refreshes, changes the schema, refreshes
/// again and prints the changes.
pub(crate) async fn run(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the demo folder '{}'", dir.display()))?;
    let warehouse = dir.join(WAREHOUSE_FILE);
    let store = dir.join(STORE_FILE);
    for file in [&warehouse, &store] {
        remove_sqlite_file(file)?;
    }

    execute_sql(&warehouse, SETUP_SQL)?;
    eprintln!("built the sample warehouse {}", warehouse.display());

    let engine = Engine::open(&store, drivers::builtin_registry())?;
    let url = format!("sqlite://{}", warehouse.display());
    engine.add_connection(CONNECTION, &url, Some("sample music-store warehouse"))?;

    let first = engine
        .refresh(CONNECTION, RefreshOptions::default(), None)
        .await?;
    println!(
        "first refresh: snapshot {} with {} tables and {} columns",
        first.snapshot.id, first.snapshot.counts.tables, first.snapshot.counts.columns
    );

    execute_sql(&warehouse, CHANGE_SQL)?;
    eprintln!("applied schema changes to {}", warehouse.display());

    let second = engine
        .refresh(CONNECTION, RefreshOptions::default(), None)
        .await?;
    println!(
        "second refresh: snapshot {} with {} changes, {} breaking\n",
        second.snapshot.id, second.snapshot.change_count, second.snapshot.breaking_change_count
    );
    let changes: Vec<_> = second
        .changes
        .into_iter()
        .map(|change| (second.snapshot.id, change))
        .collect();
    print!("{}", output::changes_text(&changes));

    println!(
        "\nexplore further (from a clone, run `cargo run --` in place of `metacrawl`):\n  \
         metacrawl --store {store} catalog {CONNECTION} --snapshot {first}\n  \
         metacrawl --store {store} changes {CONNECTION} --json",
        store = store.display(),
        first = first.snapshot.id,
    );
    Ok(())
}

fn execute_sql(path: &Path, sql: &str) -> anyhow::Result<()> {
    let connection = rusqlite::Connection::open(path)
        .with_context(|| format!("cannot create the sample warehouse '{}'", path.display()))?;
    connection
        .execute_batch(sql)
        .with_context(|| format!("building the sample warehouse '{}' failed", path.display()))?;
    Ok(())
}

/// Removes a SQLite file and its WAL and shared-memory files, if present.
fn remove_sqlite_file(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| {
                    format!(
                        "cannot remove the earlier demo file '{}'",
                        Path::new(&file).display()
                    )
                });
            }
        }
    }
    Ok(())
}
