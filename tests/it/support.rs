//! Helpers shared by the integration tests.

use metacrawl_engine::{Catalog, Change, DriverRegistry, Engine};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Schema of the sample music-store warehouse, shared with `metacrawl demo`.
pub(crate) const MUSIC_SETUP: &str = include_str!("../../demo/music/setup.sql");
/// Schema changes applied to the music store between two refreshes.
pub(crate) const MUSIC_CHANGE: &str = include_str!("../../demo/music/change.sql");

/// A temporary folder holding a warehouse file and a store file.
pub(crate) struct Workspace {
    pub(crate) dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("create a temporary folder"),
        }
    }

    pub(crate) fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.path("metacrawl.db")
    }

    /// Creates `warehouse.db` from SQL and returns its `sqlite://` URL.
    pub(crate) fn sqlite_warehouse(&self, sql: &str) -> String {
        let path = self.path("warehouse.db");
        execute(&path, sql);
        format!("sqlite://{}", path.display())
    }

    /// Runs SQL on `warehouse.db`.
    pub(crate) fn change_warehouse(&self, sql: &str) {
        execute(&self.path("warehouse.db"), sql);
    }

    /// Opens an engine on this workspace's store with the built-in drivers and
    /// any extra registrations.
    pub(crate) fn engine(&self, extra: impl FnOnce(&mut DriverRegistry)) -> Engine {
        let mut registry = DriverRegistry::new();
        metacrawl_drivers::register_builtin(&mut registry);
        extra(&mut registry);
        Engine::open(&self.store_path(), registry).expect("open the store")
    }
}

/// Makes a new 2048-bit RSA private key (unencrypted PKCS#8 PEM) with the
/// `openssl` command.
pub(crate) fn rsa_private_key_pem() -> String {
    let output = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .expect("run openssl genpkey");
    assert!(output.status.success(), "openssl genpkey failed");
    String::from_utf8(output.stdout).expect("PEM text")
}

/// Decodes base64 in either alphabet (`+/` or `-_`), padding optional.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut count = 0;
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    for character in text.bytes() {
        let value = match character {
            b'A'..=b'Z' => character - b'A',
            b'a'..=b'z' => character - b'a' + 26,
            b'0'..=b'9' => character - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(bytes)
}

/// Serves `app` on a free port of 127.0.0.1 until the returned task is aborted.
pub(crate) async fn serve_locally(app: axum::Router) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a local test server");
    let port = listener.local_addr().expect("local address").port();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, task)
}

pub(crate) fn execute(path: &Path, sql: &str) {
    let connection = rusqlite::Connection::open(path).expect("open the warehouse");
    connection.execute_batch(sql).expect("run warehouse SQL");
}

/// Counts the rows of each temporal catalog table and of `changes`.
pub(crate) fn row_counts(store: &Path) -> [(String, i64); 5] {
    let connection = rusqlite::Connection::open(store).expect("open the store");
    [
        "catalog_databases",
        "catalog_schemas",
        "catalog_tables",
        "catalog_columns",
        "changes",
    ]
    .map(|table| {
        let count = connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .expect("count rows");
        (table.to_string(), count)
    })
}

/// Describes a catalog in one line per table and per column, every stored
/// field spelled out; optional fields appear only when set.
///
/// Table line: `DATABASE.SCHEMA.TABLE KIND [comment="..."] [partition of PARENT BOUND]`.
/// Column line: `  ORDINAL NAME "TYPE" [base="..."] [not-null] [pk] [default=...]
/// [generated=(...)] [identity=...] [comment="..."]`.
pub(crate) fn describe_catalog(catalog: &Catalog) -> String {
    let mut text = String::new();
    for database in &catalog.databases {
        for schema in &database.schemas {
            for table in &schema.tables {
                write!(
                    text,
                    "{}.{}.{} {}",
                    database.name, schema.name, table.name, table.kind
                )
                .unwrap();
                if let Some(comment) = &table.comment {
                    write!(text, " comment={comment:?}").unwrap();
                }
                if let Some(partition) = &table.partition_of {
                    let parent = match &partition.parent_schema {
                        Some(parent_schema) => format!("{parent_schema}.{}", partition.parent),
                        None => partition.parent.clone(),
                    };
                    write!(
                        text,
                        " partition of {parent} {}",
                        partition.bound.as_deref().unwrap_or("")
                    )
                    .unwrap();
                }
                text.push('\n');
                for column in &table.columns {
                    write!(
                        text,
                        "  {} {} {:?}",
                        column.ordinal, column.name, column.data_type
                    )
                    .unwrap();
                    if let Some(base_type) = &column.base_type {
                        write!(text, " base={base_type:?}").unwrap();
                    }
                    if !column.nullable {
                        text.push_str(" not-null");
                    }
                    if column.primary_key {
                        text.push_str(" pk");
                    }
                    if let Some(default) = &column.default {
                        write!(text, " default={default}").unwrap();
                    }
                    if let Some(expression) = &column.generated {
                        write!(text, " generated=({expression})").unwrap();
                    }
                    if let Some(identity) = &column.identity {
                        write!(text, " identity={identity}").unwrap();
                    }
                    if let Some(comment) = &column.comment {
                        write!(text, " comment={comment:?}").unwrap();
                    }
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// Describes each change on one line:
/// `KIND SCHEMA.TABLE.COLUMN: BEFORE -> AFTER [breaking]`, with `-` for a
/// missing value and the database name left out.
pub(crate) fn describe_changes(changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| {
            let path = [&change.schema, &change.table, &change.column]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(".");
            let before = change.before.as_deref().unwrap_or("-");
            let after = change.after.as_deref().unwrap_or("-");
            let breaking = if change.breaking { " breaking" } else { "" };
            format!("{} {path}: {before} -> {after}{breaking}", change.kind)
        })
        .collect()
}
