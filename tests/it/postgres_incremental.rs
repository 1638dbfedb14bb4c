//! The Postgres version-token shortcut: after each kind of DDL, a refresh
//! that skips unchanged tables stores exactly what a full re-read stores, and
//! reports the same changes.

use crate::pg_support::fresh_database;
use crate::support::{Workspace, describe_catalog, describe_changes};
use metacrawl_engine::{Engine, RefreshOptions};

const SETUP: &str = "
    CREATE SCHEMA kinds;
    CREATE TYPE kinds.mood AS ENUM ('calm', 'busy');
    CREATE DOMAIN kinds.amount AS numeric(12,2) CHECK (VALUE >= 0);
    CREATE TABLE orders (
        order_id integer NOT NULL,
        mood kinds.mood,
        total kinds.amount,
        note text
    );
    CREATE TABLE untouched (id integer PRIMARY KEY, label text, origin inet);
    CREATE SCHEMA sales;
    CREATE TABLE sales.lines (
        id bigint GENERATED ALWAYS AS IDENTITY,
        qty integer DEFAULT 1,
        price numeric(10,2) DEFAULT 0,
        total numeric GENERATED ALWAYS AS (qty * price) STORED,
        created_at timestamptz DEFAULT now()
    );
    CREATE TABLE sales.refunds (
        id serial,
        qty integer DEFAULT 1,
        reason text DEFAULT 'none',
        created_at timestamptz DEFAULT now()
    );
    CREATE VIEW order_notes AS SELECT order_id, note FROM orders;
    CREATE MATERIALIZED VIEW order_moods AS SELECT mood, count(*) AS orders FROM orders GROUP BY mood;
    CREATE TABLE events (happened_on date NOT NULL, kind text) PARTITION BY RANGE (happened_on);
    CREATE TABLE events_2024_01 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2024-02-01');
    CREATE TABLE events_2024_02 PARTITION OF events FOR VALUES FROM ('2024-02-01') TO ('2024-03-01');
";

/// DDL statements, each of which changes what a crawl stores.
const DDL: &[&str] = &[
    "ALTER TABLE orders ADD COLUMN placed_at timestamptz",
    "ALTER TABLE untouched ALTER COLUMN label TYPE varchar(50)",
    "ALTER TABLE orders ALTER COLUMN placed_at SET NOT NULL",
    "ALTER TABLE orders ALTER COLUMN placed_at SET DEFAULT now()",
    "COMMENT ON COLUMN orders.note IS 'Free text'",
    "COMMENT ON TABLE orders IS 'One row per order'",
    "ALTER TABLE orders ADD PRIMARY KEY (order_id)",
    "ALTER TABLE orders RENAME COLUMN placed_at TO created_at",
    "ALTER TABLE orders DROP COLUMN created_at",
    "CREATE OR REPLACE VIEW order_notes AS SELECT order_id, note, mood FROM orders",
    "ALTER TABLE orders RENAME COLUMN note TO remark",
    "ALTER TABLE orders RENAME TO purchases",
    "ALTER TYPE kinds.mood RENAME TO feeling",
    "ALTER DOMAIN kinds.amount SET NOT NULL",
    "ALTER SCHEMA kinds RENAME TO types",
    "ALTER MATERIALIZED VIEW order_moods RENAME COLUMN orders TO order_count",
    "CREATE TABLE events_2024_03 PARTITION OF events FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')",
    "ALTER TABLE events DETACH PARTITION events_2024_01",
    "ALTER TABLE events RENAME TO happenings",
    "ALTER TABLE untouched ALTER COLUMN label SET NOT NULL",
    // Built-in types are covered by one digest that every token includes.
    "ALTER TYPE pg_catalog.inet RENAME TO network_address",
    "ALTER TABLE sales.lines ALTER COLUMN qty SET DEFAULT 2",
    "DROP VIEW order_notes",
];

async fn refresh(engine: &Engine, full: bool) -> Vec<String> {
    let options = RefreshOptions {
        full,
        ..RefreshOptions::default()
    };
    let report = engine.refresh("pg", options, None).await.unwrap();
    describe_changes(&report.changes)
}

fn catalog(engine: &Engine) -> String {
    let (_, catalog) = engine.catalog("pg", None).unwrap().unwrap();
    describe_catalog(&catalog)
}

#[tokio::test]
async fn version_shortcut_equals_full_reread() {
    let database = fresh_database("version_shortcut_equals_full_reread");
    database.execute(SETUP);
    let incremental_store = Workspace::new();
    let full_store = Workspace::new();
    let incremental = incremental_store.engine(|_| {});
    let full = full_store.engine(|_| {});
    incremental
        .add_connection("pg", &database.url(), None)
        .unwrap();
    full.add_connection("pg", &database.url(), None).unwrap();
    refresh(&incremental, false).await;
    refresh(&full, true).await;

    for statement in DDL {
        database.execute(statement);

        let incremental_changes = refresh(&incremental, false).await;
        let full_changes = refresh(&full, true).await;

        // A new primary key is stored but has no change kind of its own.
        if !statement.contains("PRIMARY KEY") {
            assert_ne!(
                incremental_changes,
                Vec::<String>::new(),
                "no change after {statement}"
            );
        }
        assert_eq!(
            incremental_changes, full_changes,
            "changes after {statement}"
        );
        assert_eq!(
            catalog(&incremental),
            catalog(&full),
            "catalog after {statement}"
        );
    }
}

#[tokio::test]
async fn unchanged_postgres_refresh_writes_no_rows() {
    let database = fresh_database("unchanged_postgres_refresh_writes_no_rows");
    database.execute(SETUP);
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine.add_connection("pg", &database.url(), None).unwrap();
    refresh(&engine, false).await;
    let before = crate::support::row_counts(&workspace.store_path());

    let changes = refresh(&engine, false).await;
    let full_changes = refresh(&engine, true).await;

    assert_eq!(changes, Vec::<String>::new());
    assert_eq!(full_changes, Vec::<String>::new());
    assert_eq!(crate::support::row_counts(&workspace.store_path()), before);
}

#[tokio::test]
async fn unchanged_tables_are_not_read_again() {
    use metacrawl_drivers::postgres::PostgresDriverFactory;
    use metacrawl_engine::{DriverFactory, KnownVersions};

    let database = fresh_database("unchanged_tables_are_not_read_again");
    database.execute(SETUP);
    let driver = PostgresDriverFactory.create(&database.url()).unwrap();
    let listing = driver.list_databases().await.unwrap().remove(0);
    let public = |schemas: Vec<metacrawl_engine::SchemaListing>| {
        schemas
            .into_iter()
            .find(|schema| schema.name == "public")
            .unwrap()
    };

    let mut reader = driver.open_database(&listing).await.unwrap();
    let schema = public(reader.list_schemas().await.unwrap());
    let first = reader
        .read_schema(&schema, &KnownVersions::new())
        .await
        .unwrap();
    let known: KnownVersions = first
        .tables
        .iter()
        .map(|table| (table.name.clone(), table.version.clone().unwrap()))
        .collect();
    drop(reader);
    database.execute("ALTER TABLE untouched ADD COLUMN extra text");
    let mut reader = driver.open_database(&listing).await.unwrap();
    let schema = public(reader.list_schemas().await.unwrap());
    let second = reader.read_schema(&schema, &known).await.unwrap();

    let read: Vec<&str> = second
        .tables
        .iter()
        .map(|table| table.name.as_str())
        .collect();
    assert_eq!(read, ["untouched"]);
    assert_eq!(
        second.unchanged_tables,
        [
            "events",
            "events_2024_01",
            "events_2024_02",
            "order_moods",
            "order_notes",
            "orders"
        ]
    );
}

/// Reads every schema of the database, announcing them all to `read_ahead`
/// first or not, with the given known versions per schema.
async fn read_all(
    database: &crate::pg_support::PgDatabase,
    known: &std::collections::HashMap<String, metacrawl_engine::KnownVersions>,
    ahead: bool,
) -> std::collections::BTreeMap<String, metacrawl_engine::SchemaRead> {
    use metacrawl_drivers::postgres::PostgresDriverFactory;
    use metacrawl_engine::{DriverFactory, KnownVersions};

    let driver = PostgresDriverFactory.create(&database.url()).unwrap();
    let listing = driver.list_databases().await.unwrap().remove(0);
    let mut reader = driver.open_database(&listing).await.unwrap();
    let schemas = reader.list_schemas().await.unwrap();
    let none = KnownVersions::new();
    let known_of = |name: &str| known.get(name).unwrap_or(&none);
    if ahead {
        let announced: Vec<_> = schemas
            .iter()
            .map(|schema| (schema, known_of(&schema.name)))
            .collect();
        reader.read_ahead(&announced).await;
    }
    let mut reads = std::collections::BTreeMap::new();
    for schema in &schemas {
        let read = reader
            .read_schema(schema, known_of(&schema.name))
            .await
            .unwrap();
        reads.insert(schema.name.clone(), read);
    }
    reads
}

#[tokio::test]
async fn read_ahead_equals_schema_reads() {
    use metacrawl_engine::KnownVersions;
    use std::collections::HashMap;

    let database = fresh_database("read_ahead_equals_schema_reads");
    database.execute(SETUP);

    let first = read_all(&database, &HashMap::new(), true).await;
    assert_eq!(first, read_all(&database, &HashMap::new(), false).await);

    // Defaults without a column reference are printed once per distinct
    // expression; a generated column's expression names its columns.
    let lines = &first["sales"].tables[0];
    let described: Vec<(&str, Option<&str>, Option<&str>)> = lines
        .columns
        .iter()
        .map(|column| {
            (
                column.name.as_str(),
                column.default.as_deref(),
                column.generated.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        described,
        [
            ("id", None, None),
            ("qty", Some("1"), None),
            ("price", Some("0"), None),
            ("total", None, Some("((qty)::numeric * price)")),
            ("created_at", Some("now()"), None),
        ]
    );
    let refund_defaults: Vec<Option<&str>> = first["sales"].tables[1]
        .columns
        .iter()
        .map(|column| column.default.as_deref())
        .collect();
    assert_eq!(
        refund_defaults,
        [
            Some("nextval('sales.refunds_id_seq'::regclass)"),
            Some("1"),
            Some("'none'::text"),
            Some("now()"),
        ]
    );

    let known: HashMap<String, KnownVersions> = first
        .iter()
        .map(|(schema, read)| {
            let versions = read
                .tables
                .iter()
                .map(|table| (table.name.clone(), table.version.clone().unwrap()))
                .collect();
            (schema.clone(), versions)
        })
        .collect();
    database.execute("ALTER TABLE sales.refunds ADD COLUMN note text DEFAULT 'none'");
    let second = read_all(&database, &known, true).await;
    assert_eq!(second, read_all(&database, &known, false).await);
    let read: Vec<(&str, &str)> = second
        .iter()
        .flat_map(|(schema, read)| {
            read.tables
                .iter()
                .map(move |table| (schema.as_str(), table.name.as_str()))
        })
        .collect();
    assert_eq!(read, [("sales", "refunds")]);
    assert_eq!(second["sales"].unchanged_tables, ["lines"]);
    assert_eq!(second["public"].unchanged_tables.len(), 7);
}
