//! Safety rules of a refresh, driven by the in-memory fixture driver: failed
//! crawls commit nothing, unreadable scopes keep their state, the fail-safe
//! stops mass drops, and renames are reported only on stable ids.

use crate::fixture_driver::{
    FixtureCatalog, FixtureFactory, SchemaContent, database, schema, table, tables,
};
use crate::support::{Workspace, row_counts};
use metacrawl_engine::store::JobRunStatus;
use metacrawl_engine::{
    Change, ChangeKind, DriverError, DriverErrorKind, Engine, EngineError, RefreshOptions,
};
use std::sync::{Arc, Mutex};

struct Fixture {
    workspace: Workspace,
    catalog: FixtureCatalog,
    engine: Engine,
}

impl Fixture {
    /// Creates a connection `wh` serving database `db` with schemas `a` (3 tables) and `b` (3 tables).
    fn new() -> Fixture {
        let workspace = Workspace::new();
        let catalog: FixtureCatalog = Arc::new(Mutex::new(vec![database(
            "db",
            vec![
                schema("a", SchemaContent::Tables(tables(3))),
                schema("b", SchemaContent::Tables(tables(3))),
            ],
        )]));
        let factory = FixtureFactory {
            catalog: Arc::clone(&catalog),
        };
        let engine = workspace.engine(|registry| {
            registry.register(Arc::new(factory));
        });
        engine.add_connection("wh", "fixture://wh", None).unwrap();
        Fixture {
            workspace,
            catalog,
            engine,
        }
    }

    fn set_schema(&self, name: &str, content: SchemaContent) {
        let mut catalog = self.catalog.lock().unwrap();
        let found = catalog[0]
            .schemas
            .iter_mut()
            .find(|candidate| candidate.listing.name == name)
            .unwrap();
        found.content = content;
    }

    async fn refresh(&self) -> Result<Vec<Change>, EngineError> {
        self.engine
            .refresh("wh", RefreshOptions::default(), None)
            .await
            .map(|report| report.changes)
    }

    fn latest_snapshot_id(&self) -> i64 {
        self.engine.history("wh").unwrap().last().unwrap().id
    }
}

fn kinds(changes: &[Change]) -> Vec<(ChangeKind, String)> {
    changes
        .iter()
        .map(|change| {
            let path = [&change.schema, &change.table, &change.column]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(".");
            (change.kind, path)
        })
        .collect()
}

#[tokio::test]
async fn failed_crawl_keeps_previous_snapshot() {
    let fixture = Fixture::new();
    fixture.refresh().await.unwrap();
    let snapshot_before = fixture.latest_snapshot_id();
    let rows_before = row_counts(&fixture.workspace.store_path());

    fixture.set_schema("a", SchemaContent::Tables(tables(4)));
    fixture.set_schema(
        "b",
        SchemaContent::Fails(DriverError::new(
            DriverErrorKind::Connection,
            "connection reset by peer while reading schema 'b'",
        )),
    );
    let error = fixture.refresh().await.unwrap_err();

    assert_eq!(
        error.to_string(),
        "refresh of connection 'wh' failed: connection reset by peer while reading schema 'b'"
    );
    assert_eq!(fixture.latest_snapshot_id(), snapshot_before);
    assert_eq!(row_counts(&fixture.workspace.store_path()), rows_before);
    let job_run = &fixture.engine.job_runs("wh", 1).unwrap()[0];
    assert_eq!(job_run.status, JobRunStatus::Failed);
    assert_eq!(job_run.error.as_deref(), Some(error.to_string().as_str()));
    assert_eq!(job_run.snapshot_id, None);
}

#[tokio::test]
async fn panicking_driver_fails_job_run() {
    let fixture = Fixture::new();
    fixture.refresh().await.unwrap();
    let rows_before = row_counts(&fixture.workspace.store_path());

    fixture.set_schema("b", SchemaContent::Panics);
    let error = fixture.refresh().await.unwrap_err();

    assert!(matches!(error, EngineError::Internal(_)), "{error:?}");
    assert_eq!(row_counts(&fixture.workspace.store_path()), rows_before);
    let job_run = &fixture.engine.job_runs("wh", 1).unwrap()[0];
    assert_eq!(job_run.status, JobRunStatus::Failed);

    fixture.set_schema("b", SchemaContent::Tables(tables(3)));
    assert_eq!(fixture.refresh().await.unwrap(), vec![]);
}

#[tokio::test]
async fn unreadable_schema_keeps_its_tables() {
    let fixture = Fixture::new();
    fixture.refresh().await.unwrap();

    fixture.set_schema("a", SchemaContent::Tables(tables(4)));
    fixture.set_schema(
        "b",
        SchemaContent::Fails(DriverError::new(
            DriverErrorKind::PermissionDenied,
            "permission denied for schema b",
        )),
    );
    let report = fixture
        .engine
        .refresh("wh", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(
        kinds(&report.changes),
        vec![(ChangeKind::TableAdded, "a.t03".to_string())]
    );
    assert_eq!(
        report.snapshot.warnings,
        vec![
            "schema 'db.b' unreadable (permission_denied): permission denied for schema b; \
             its previous state was kept and nothing in it is reported dropped"
                .to_string()
        ]
    );
    let (_, catalog) = fixture.engine.catalog("wh", None).unwrap().unwrap();
    let schema_b = &catalog.databases[0].schemas[1];
    assert_eq!(schema_b.name, "b");
    assert_eq!(schema_b.tables.len(), 3);
    assert_eq!(report.snapshot.counts.tables, 7);
}

#[tokio::test]
async fn unreadable_schemas_write_no_rows() {
    let fixture = Fixture::new();
    fixture.refresh().await.unwrap();
    let rows_before = row_counts(&fixture.workspace.store_path());

    for name in ["a", "b"] {
        fixture.set_schema(
            name,
            SchemaContent::Fails(DriverError::new(
                DriverErrorKind::TimedOut,
                "statement timeout",
            )),
        );
    }
    let report = fixture
        .engine
        .refresh("wh", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(report.changes, vec![]);
    assert_eq!(report.snapshot.warnings.len(), 2);
    assert_eq!(report.snapshot.counts.tables, 6);
    assert_eq!(row_counts(&fixture.workspace.store_path()), rows_before);
}

#[tokio::test]
async fn fail_safe_refuses_mass_drop() {
    let fixture = Fixture::new();
    fixture.set_schema("a", SchemaContent::Tables(tables(7)));
    fixture.refresh().await.unwrap();
    let rows_before = row_counts(&fixture.workspace.store_path());

    // 6 of 10 tables vanish: a keeps 4 of 7, b loses all 3.
    fixture.set_schema("a", SchemaContent::Tables(tables(4)));
    fixture.set_schema("b", SchemaContent::Tables(vec![]));
    let error = fixture.refresh().await.unwrap_err();

    assert_eq!(
        error.to_string(),
        "refresh of connection 'wh' would drop 6 of 10 known tables (60%), above the fail-safe \
         limit of 50%; nothing was committed. If the drops are expected, refresh again with the \
         fail-safe overridden (`metacrawl refresh wh --allow-mass-drop`)"
    );
    assert_eq!(row_counts(&fixture.workspace.store_path()), rows_before);
    assert_eq!(
        fixture.engine.job_runs("wh", 1).unwrap()[0].status,
        JobRunStatus::Failed
    );

    let options = RefreshOptions {
        allow_mass_drop: true,
        ..RefreshOptions::default()
    };
    let report = fixture.engine.refresh("wh", options, None).await.unwrap();
    let dropped = report
        .changes
        .iter()
        .filter(|change| change.kind == ChangeKind::TableDropped)
        .count();
    assert_eq!(dropped, 6);
    assert_eq!(report.snapshot.counts.tables, 4);
}

#[tokio::test]
async fn fail_safe_allows_drops_at_the_limit() {
    let fixture = Fixture::new();
    fixture.refresh().await.unwrap();

    fixture.set_schema("b", SchemaContent::Tables(vec![]));
    let changes = fixture.refresh().await.unwrap();

    assert_eq!(changes.len(), 3);
}

#[tokio::test]
async fn dropped_schema_reports_its_tables() {
    let fixture = Fixture::new();
    fixture.set_schema("a", SchemaContent::Tables(tables(7)));
    fixture.refresh().await.unwrap();

    fixture.catalog.lock().unwrap()[0].schemas.remove(1);
    let changes = fixture.refresh().await.unwrap();

    assert_eq!(
        kinds(&changes),
        vec![
            (ChangeKind::SchemaDropped, "b".to_string()),
            (ChangeKind::TableDropped, "b.t00".to_string()),
            (ChangeKind::TableDropped, "b.t01".to_string()),
            (ChangeKind::TableDropped, "b.t02".to_string()),
        ]
    );
    assert!(changes.iter().all(|change| change.breaking));
}

#[tokio::test]
async fn stable_ids_report_renames() {
    let fixture = Fixture::new();
    let mut orders = table("orders");
    orders.stable_id = Some("16384".to_string());
    orders.columns[1].stable_id = Some("16384.2".to_string());
    fixture.set_schema("a", SchemaContent::Tables(vec![orders.clone()]));
    fixture.refresh().await.unwrap();

    let mut renamed = orders.clone();
    renamed.name = "purchases".to_string();
    renamed.columns[1].name = "title".to_string();
    fixture.set_schema("a", SchemaContent::Tables(vec![renamed]));
    let changes = fixture.refresh().await.unwrap();

    let expected = vec![
        Change {
            kind: ChangeKind::TableRenamed,
            database: "db".to_string(),
            schema: Some("a".to_string()),
            table: Some("purchases".to_string()),
            column: None,
            before: Some("orders".to_string()),
            after: Some("purchases".to_string()),
            breaking: true,
        },
        Change {
            kind: ChangeKind::ColumnRenamed,
            database: "db".to_string(),
            schema: Some("a".to_string()),
            table: Some("purchases".to_string()),
            column: Some("title".to_string()),
            before: Some("name".to_string()),
            after: Some("title".to_string()),
            breaking: true,
        },
    ];
    assert_eq!(changes, expected);
}

#[tokio::test]
async fn recreated_database_is_no_change() {
    let fixture = Fixture::new();
    let with_ids = |generation: u32| {
        let mut tables = tables(3);
        for (index, table) in tables.iter_mut().enumerate() {
            table.stable_id = Some(format!("{generation}-{index}"));
            for column in &mut table.columns {
                column.stable_id = Some(format!("{generation}-{index}.{}", column.ordinal));
            }
        }
        SchemaContent::Tables(tables)
    };
    fixture.set_schema("a", with_ids(1));
    fixture.refresh().await.unwrap();

    // Restored from a dump: same names, every id new.
    fixture.set_schema("a", with_ids(2));
    let changes = fixture.refresh().await.unwrap();

    assert_eq!(changes, vec![]);
    let (_, catalog) = fixture.engine.catalog("wh", None).unwrap().unwrap();
    let stored = &catalog.databases[0].schemas[0].tables[0];
    assert_eq!(stored.stable_id.as_deref(), Some("2-0"));
    assert_eq!(stored.columns[0].stable_id.as_deref(), Some("2-0.1"));
}

#[tokio::test]
async fn renamed_schema_keeps_its_tables() {
    let fixture = Fixture::new();
    fixture.catalog.lock().unwrap()[0].schemas[1]
        .listing
        .stable_id = Some("2200".to_string());
    fixture.refresh().await.unwrap();

    fixture.catalog.lock().unwrap()[0].schemas[1].listing.name = "billing".to_string();
    let changes = fixture.refresh().await.unwrap();

    assert_eq!(
        kinds(&changes),
        vec![(ChangeKind::SchemaRenamed, "billing".to_string())]
    );
    let (_, catalog) = fixture.engine.catalog("wh", None).unwrap().unwrap();
    let names: Vec<(&str, usize)> = catalog.databases[0]
        .schemas
        .iter()
        .map(|schema| (schema.name.as_str(), schema.tables.len()))
        .collect();
    assert_eq!(names, vec![("a", 3), ("billing", 3)]);
}

/// (kind, column, before, after, breaking)
type AttributeChange = (
    ChangeKind,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
);

#[tokio::test]
async fn column_attribute_changes_are_classified() {
    let fixture = Fixture::new();
    let mut before = table("t");
    before
        .columns
        .push(metacrawl_engine::Column::new("note", 3, "text"));
    fixture.set_schema("a", SchemaContent::Tables(vec![before.clone()]));
    fixture.refresh().await.unwrap();

    // name becomes NOT NULL, id becomes nullable, note moves to the front.
    let mut after = before.clone();
    after.columns[1].nullable = false;
    after.columns[0].nullable = true;
    let mut note = after.columns.remove(2);
    note.ordinal = 1;
    after.columns[0].ordinal = 2;
    after.columns[1].ordinal = 3;
    after.columns.insert(0, note);
    fixture.set_schema("a", SchemaContent::Tables(vec![after]));
    let changes = fixture.refresh().await.unwrap();

    let summary: Vec<AttributeChange> = changes
        .into_iter()
        .map(|change| {
            (
                change.kind,
                change.column,
                change.before,
                change.after,
                change.breaking,
            )
        })
        .collect();
    let text = |value: &str| Some(value.to_string());
    assert_eq!(
        summary,
        vec![
            (
                ChangeKind::ColumnPositionChanged,
                text("note"),
                text("3"),
                text("1"),
                false
            ),
            (
                ChangeKind::ColumnNullabilityChanged,
                text("id"),
                text("NOT NULL"),
                text("NULL"),
                false
            ),
            (
                ChangeKind::ColumnNullabilityChanged,
                text("name"),
                text("NULL"),
                text("NOT NULL"),
                true
            ),
        ]
    );
}

#[tokio::test]
async fn second_refresh_while_active_is_rejected() {
    let fixture = Fixture::new();
    let connection = fixture.engine.connection("wh").unwrap();
    let active = fixture
        .engine
        .store()
        .insert_job_run(connection.id, "wh", None)
        .unwrap();

    let error = fixture.refresh().await.unwrap_err();

    assert_eq!(
        error.to_string(),
        format!(
            "refresh already running for connection 'wh' (job run {}); wait for it to finish",
            active.id
        )
    );
    assert_eq!(fixture.engine.history("wh").unwrap(), vec![]);
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[tokio::test]
async fn run_of_exited_process_is_closed() {
    let fixture = Fixture::new();
    let connection = fixture.engine.connection("wh").unwrap();
    let store = fixture.engine.store();
    let stale = store.insert_job_run(connection.id, "wh", None).unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    let worker = format!("{}:{pid}", host_name());
    store.start_job_run(stale.id, &worker).unwrap();

    fixture.refresh().await.unwrap();

    let stale = store.job_run(stale.id).unwrap();
    assert_eq!(stale.status, JobRunStatus::Failed);
    assert_eq!(
        stale.error,
        Some(format!(
            "interrupted: the process running it ({worker}) exited"
        ))
    );
    assert_eq!(fixture.engine.history("wh").unwrap().len(), 1);
}

#[tokio::test]
async fn run_of_live_process_blocks_refresh() {
    let fixture = Fixture::new();
    let connection = fixture.engine.connection("wh").unwrap();
    let store = fixture.engine.store();
    let active = store.insert_job_run(connection.id, "wh", None).unwrap();
    let worker = format!("{}:{}", host_name(), std::process::id());
    store.start_job_run(active.id, &worker).unwrap();

    let error = fixture.refresh().await.unwrap_err();

    assert!(
        matches!(error, EngineError::RefreshInProgress { job_run_id, .. } if job_run_id == active.id)
    );
    assert_eq!(
        store.job_run(active.id).unwrap().status,
        JobRunStatus::Running
    );
}

#[tokio::test]
async fn recreated_column_reports_drop_and_add() {
    let fixture = Fixture::new();
    let mut orders = table("orders");
    orders.stable_id = Some("16384".to_string());
    orders.columns[0].stable_id = Some("16384.1".to_string());
    orders.columns[1].stable_id = Some("16384.2".to_string());
    fixture.set_schema("a", SchemaContent::Tables(vec![orders.clone()]));
    fixture.refresh().await.unwrap();

    // Same table, same column name, new attnum: dropped and added again.
    let mut recreated = orders.clone();
    recreated.columns[1].stable_id = Some("16384.3".to_string());
    recreated.columns[1].nullable = false;
    fixture.set_schema("a", SchemaContent::Tables(vec![recreated]));
    let changes = fixture.refresh().await.unwrap();

    assert_eq!(
        crate::support::describe_changes(&changes),
        [
            "column_added a.orders.name: - -> text",
            "column_dropped a.orders.name: text -> - breaking",
        ]
    );
}
