//! Embeds the metacrawl engine in another program: opens a store, registers
//! the built-in drivers, refreshes a SQLite warehouse twice around a schema
//! change, and prints the changes, both from the refresh result and from a
//! change subscription. No server, no tonic, no axum.
//!
//! Run: `cargo run --example embed`

use metacrawl_engine::{DriverRegistry, Engine, RefreshOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let folder = tempfile::tempdir()?;
    let warehouse = folder.path().join("shop.db");
    let shop = rusqlite::Connection::open(&warehouse)?;
    shop.execute_batch(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, total NUMERIC(10, 2));",
    )?;

    // The application chooses its drivers; the engine registers none itself.
    let mut registry = DriverRegistry::new();
    metacrawl_drivers::register_builtin(&mut registry);
    let engine = Engine::open(&folder.path().join("metacrawl.db"), registry)?;
    engine.add_connection("shop", &format!("sqlite://{}", warehouse.display()), None)?;
    let mut events = engine.subscribe();

    let first = engine
        .refresh("shop", RefreshOptions::default(), None)
        .await?;
    println!(
        "snapshot {}: {} tables, {} columns",
        first.snapshot.id, first.snapshot.counts.tables, first.snapshot.counts.columns
    );

    shop.execute_batch(
        "ALTER TABLE orders ADD COLUMN placed_at TEXT; ALTER TABLE customers DROP COLUMN email;",
    )?;
    let handle = engine.start_refresh("shop", RefreshOptions::default());
    let second = handle.wait().await?;
    for change in &second.changes {
        let column = change.column.as_deref().unwrap_or("-");
        let breaking = if change.breaking { " (breaking)" } else { "" };
        println!(
            "{} {}.{}{breaking}",
            change.kind,
            change.table.as_deref().unwrap_or("-"),
            column
        );
    }

    // The subscription saw both snapshots commit.
    let mut committed = Vec::new();
    while let Ok(event) = events.try_recv() {
        committed.push(event.report.snapshot.id);
    }
    println!("committed snapshots seen by the subscriber: {committed:?}");
    Ok(())
}
