//! Store writes: the commit of a first snapshot of 300,000 columns (15,000
//! tables of 20 columns), and a refresh of that catalog unchanged, which must
//! write no catalog row.
//!
//! Run: `cargo bench --no-default-features --features sqlite --bench commit`
//! (the benchmark needs only the engine; the default build adds every driver).

#[path = "support/catalog_gen.rs"]
mod catalog_gen;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use metacrawl_engine::catalog::{DatabaseListing, SchemaListing};
use metacrawl_engine::diff::{SchemaPath, TableWrite};
use metacrawl_engine::driver::{DatabaseReader, Driver, DriverError, DriverFactory};
use metacrawl_engine::fingerprint::table_fingerprint;
use metacrawl_engine::store::{SnapshotCommit, Store};
use metacrawl_engine::{DriverRegistry, Engine, RefreshOptions, SchemaRead, Table, async_trait};
use std::path::Path;
use std::sync::Arc;

const SCHEMAS: usize = 15;
const TABLES_PER_SCHEMA: usize = 1_000;
const COLUMNS_PER_TABLE: usize = 20;

fn schemas() -> Vec<(String, Vec<Table>)> {
    (0..SCHEMAS)
        .map(|schema| {
            let tables = catalog_gen::tables(
                schema * TABLES_PER_SCHEMA,
                TABLES_PER_SCHEMA,
                COLUMNS_PER_TABLE,
            );
            (format!("schema_{schema:02}"), tables)
        })
        .collect()
}

fn first_commit(connection_id: i64, schemas: &[(String, Vec<Table>)]) -> SnapshotCommit {
    let tables = schemas
        .iter()
        .map(|(schema, tables)| {
            let writes = tables
                .iter()
                .map(|table| TableWrite::Insert {
                    fingerprint: table_fingerprint(table),
                    table: table.clone(),
                })
                .collect();
            let path = SchemaPath {
                database: "warehouse".to_string(),
                schema: schema.clone(),
            };
            (path, writes)
        })
        .collect();
    SnapshotCommit {
        connection_id,
        tables,
        ..SnapshotCommit::default()
    }
}

/// A driver that returns the same catalog on every refresh.
#[derive(Debug, Clone)]
struct StaticCatalog {
    schemas: Arc<Vec<(String, Vec<Table>)>>,
}

impl DriverFactory for StaticCatalog {
    fn name(&self) -> &'static str {
        "static"
    }
    fn schemes(&self) -> &'static [&'static str] {
        &["static"]
    }
    fn create(&self, _url: &str) -> Result<Arc<dyn Driver>, DriverError> {
        Ok(Arc::new(self.clone()))
    }
}

#[async_trait]
impl Driver for StaticCatalog {
    async fn list_databases(&self) -> Result<Vec<DatabaseListing>, DriverError> {
        Ok(vec![DatabaseListing {
            name: "warehouse".to_string(),
            stable_id: None,
        }])
    }

    async fn open_database(
        &self,
        _database: &DatabaseListing,
    ) -> Result<Box<dyn DatabaseReader>, DriverError> {
        Ok(Box::new(self.clone()))
    }
}

#[async_trait]
impl DatabaseReader for StaticCatalog {
    async fn list_schemas(&mut self) -> Result<Vec<SchemaListing>, DriverError> {
        Ok(self
            .schemas
            .iter()
            .map(|(name, _)| SchemaListing {
                name: name.clone(),
                stable_id: None,
                comment: None,
            })
            .collect())
    }

    async fn read_schema(
        &mut self,
        schema: &SchemaListing,
        _known: &metacrawl_engine::KnownVersions,
    ) -> Result<SchemaRead, DriverError> {
        let (_, tables) = self
            .schemas
            .iter()
            .find(|(name, _)| *name == schema.name)
            .expect("listed schema");
        Ok(tables.clone().into())
    }
}

fn catalog_rows(path: &Path) -> i64 {
    let connection = rusqlite::Connection::open(path).expect("open the store");
    connection
        .query_row(
            "SELECT (SELECT count(*) FROM catalog_tables) + (SELECT count(*) FROM catalog_columns)
                  + (SELECT count(*) FROM catalog_schemas) + (SELECT count(*) FROM catalog_databases)",
            [],
            |row| row.get(0),
        )
        .expect("count rows")
}

fn bench_first_commit(criterion: &mut Criterion) {
    let schemas = schemas();
    let mut group = criterion.benchmark_group("commit_300k_columns");
    group.sample_size(10);
    group.bench_function("first_snapshot", |bencher| {
        bencher.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("create a temporary folder");
                let store = Store::open(&dir.path().join("store.db")).expect("open the store");
                let connection = store
                    .insert_connection("bench", "static://bench", "static", None)
                    .expect("add a connection");
                let commit = first_commit(connection.id, &schemas);
                (dir, store, commit)
            },
            |(dir, store, commit)| {
                store.commit_snapshot(&commit).expect("commit");
                (dir, store)
            },
            BatchSize::PerIteration,
        );
    });

    let runtime = tokio::runtime::Runtime::new().expect("start tokio");
    let dir = tempfile::tempdir().expect("create a temporary folder");
    let store_path = dir.path().join("store.db");
    let mut registry = DriverRegistry::new();
    registry.register(Arc::new(StaticCatalog {
        schemas: Arc::new(schemas),
    }));
    let engine = Engine::open(&store_path, registry).expect("open the engine");
    engine
        .add_connection("bench", "static://bench", None)
        .expect("add a connection");
    runtime
        .block_on(engine.refresh("bench", RefreshOptions::default(), None))
        .expect("first refresh");

    let rows_before = catalog_rows(&store_path);
    let report = runtime
        .block_on(engine.refresh("bench", RefreshOptions::default(), None))
        .expect("unchanged refresh");
    let rows_written = catalog_rows(&store_path) - rows_before;
    println!(
        "unchanged refresh of {} columns: {} changes, {rows_written} catalog rows written",
        report.snapshot.counts.columns,
        report.changes.len()
    );
    assert_eq!(rows_written, 0);
    assert!(report.changes.is_empty());

    group.bench_function("unchanged_refresh", |bencher| {
        bencher.iter(|| {
            runtime
                .block_on(engine.refresh("bench", RefreshOptions::default(), None))
                .expect("unchanged refresh")
        });
    });
    group.finish();
}

criterion_group!(benches, bench_first_commit);
criterion_main!(benches);
