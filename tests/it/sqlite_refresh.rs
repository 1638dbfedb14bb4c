//! Refreshes of a real SQLite warehouse: the stored catalog, the change list
//! after schema changes, and the rows an unchanged refresh writes.

use crate::support::{
    MUSIC_CHANGE, MUSIC_SETUP, Workspace, describe_catalog as describe, row_counts,
};
use metacrawl_engine::{ChangeKind, EngineError, RefreshOptions};

const MUSIC_CATALOG: &str = r#"main.main.album_track_counts view
  1 album_id "INTEGER"
  2 title "VARCHAR(160)"
  3 track_count ""
main.main.albums table
  1 album_id "INTEGER" not-null pk
  2 title "VARCHAR(160)" not-null
  3 artist_id "INTEGER" not-null
  4 released_on "DATE"
main.main.artists table
  1 artist_id "INTEGER" not-null pk
  2 name "TEXT" not-null
main.main.customer_totals view
  1 customer_id "INTEGER"
  2 email "VARCHAR(60)"
  3 lifetime_total ""
main.main.customers table
  1 customer_id "INTEGER" not-null pk
  2 first_name "VARCHAR(40)" not-null
  3 last_name "VARCHAR(20)" not-null
  4 company "VARCHAR(80)"
  5 country "VARCHAR(40)"
  6 email "VARCHAR(60)" not-null
  7 support_rep_id "INTEGER"
  8 status "TEXT" not-null default='active'
main.main.employees table
  1 employee_id "INTEGER" not-null pk
  2 last_name "VARCHAR(20)" not-null
  3 first_name "VARCHAR(20)" not-null
  4 title "VARCHAR(30)"
  5 reports_to "INTEGER"
  6 hired_at "DATETIME" default=CURRENT_TIMESTAMP
  7 email "VARCHAR(60)"
main.main.genres table
  1 genre_id "INTEGER" not-null pk
  2 name "VARCHAR(120)" not-null
main.main.invoice_lines table
  1 invoice_line_id "INTEGER" not-null pk
  2 invoice_id "INTEGER" not-null
  3 track_id "INTEGER" not-null
  4 unit_price "NUMERIC(10, 2)" not-null
  5 quantity "INTEGER" not-null
  6 line_total "NUMERIC(10, 2)" generated=(unit_price * quantity)
main.main.invoices table
  1 invoice_id "INTEGER" not-null pk
  2 customer_id "INTEGER" not-null
  3 invoice_date "TEXT" not-null
  4 billing_country "TEXT"
  5 total "REAL" not-null
main.main.media_types table
  1 media_type_id "INTEGER" not-null pk
  2 name "VARCHAR(120)" not-null
main.main.playlist_tracks table
  1 playlist_id "INTEGER" not-null pk
  2 track_id "INTEGER" not-null pk
main.main.playlists table
  1 playlist_id "INTEGER" not-null pk
  2 name "VARCHAR(120)"
main.main.tracks table
  1 track_id "INTEGER" not-null pk
  2 name "VARCHAR(200)" not-null
  3 album_id "INTEGER"
  4 media_type_id "INTEGER" not-null
  5 genre_id "INTEGER"
  6 composer "VARCHAR(220)"
  7 milliseconds "INTEGER" not-null
  8 bytes "INTEGER"
  9 unit_price "NUMERIC(10, 2)" not-null default=0.99
"#;

#[tokio::test]
async fn first_refresh_stores_exact_catalog() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let engine = workspace.engine(|_| {});
    engine.add_connection("music", &url, None).unwrap();

    let report = engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();
    let (snapshot, catalog) = engine.catalog("music", None).unwrap().unwrap();

    assert_eq!(snapshot.id, report.snapshot.id);
    assert_eq!(describe(&catalog), MUSIC_CATALOG);
    assert_eq!(snapshot.counts.tables, 13);
    assert_eq!(snapshot.counts.columns, 55);
}

#[tokio::test]
async fn first_refresh_keeps_view_definitions() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let engine = workspace.engine(|_| {});
    engine.add_connection("music", &url, None).unwrap();
    engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    let (_, catalog) = engine.catalog("music", None).unwrap().unwrap();
    let view = catalog.table("main", "main", "customer_totals").unwrap();
    let definition = view.definition.as_deref().unwrap();
    assert!(
        definition.starts_with("CREATE VIEW customer_totals AS"),
        "{definition}"
    );
    assert!(
        definition.contains("sum(invoices.total) AS lifetime_total"),
        "{definition}"
    );
}

/// (kind, table, column, before, after, breaking)
type ChangeRow = (
    ChangeKind,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    bool,
);

#[tokio::test]
async fn change_script_reports_exact_changes() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let engine = workspace.engine(|_| {});
    engine.add_connection("music", &url, None).unwrap();
    engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    workspace.change_warehouse(MUSIC_CHANGE);
    let report = engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    // SQLite has no stable ids: the renamed column and table are reported as
    // dropped and added, never guessed to be renames.
    let expected: Vec<ChangeRow> = vec![
        (
            ChangeKind::TableAdded,
            "media_formats",
            None,
            None,
            Some("table"),
            false,
        ),
        (
            ChangeKind::TableAdded,
            "reviews",
            None,
            None,
            Some("table"),
            false,
        ),
        (
            ChangeKind::TableAdded,
            "track_ratings",
            None,
            None,
            Some("view"),
            false,
        ),
        (
            ChangeKind::ColumnDropped,
            "customers",
            Some("company"),
            Some("VARCHAR(80)"),
            None,
            true,
        ),
        (
            ChangeKind::ColumnAdded,
            "employees",
            Some("work_email"),
            None,
            Some("VARCHAR(60)"),
            false,
        ),
        (
            ChangeKind::ColumnDropped,
            "employees",
            Some("email"),
            Some("VARCHAR(60)"),
            None,
            true,
        ),
        (
            ChangeKind::ColumnTypeChanged,
            "genres",
            Some("name"),
            Some("VARCHAR(120)"),
            Some("TEXT"),
            true,
        ),
        (
            ChangeKind::ColumnAdded,
            "tracks",
            Some("bpm"),
            None,
            Some("INTEGER"),
            false,
        ),
        (
            ChangeKind::TableDropped,
            "media_types",
            None,
            Some("table"),
            None,
            true,
        ),
        (
            ChangeKind::TableDropped,
            "playlist_tracks",
            None,
            Some("table"),
            None,
            true,
        ),
    ];
    let actual: Vec<ChangeRow> = report
        .changes
        .iter()
        .map(|change| {
            assert_eq!(change.database, "main");
            assert_eq!(change.schema.as_deref(), Some("main"));
            (
                change.kind,
                leak(change.table.clone().unwrap()),
                change.column.clone().map(leak),
                change.before.clone().map(leak),
                change.after.clone().map(leak),
                change.breaking,
            )
        })
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(report.snapshot.counts.tables, 14);
    assert_eq!(report.snapshot.change_count, 10);
    assert_eq!(report.snapshot.breaking_change_count, 5);
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

#[tokio::test]
async fn unchanged_refresh_writes_no_rows() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let engine = workspace.engine(|_| {});
    engine.add_connection("music", &url, None).unwrap();
    engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();
    let before = row_counts(&workspace.store_path());

    let report = engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(report.changes, vec![]);
    assert_eq!(row_counts(&workspace.store_path()), before);
    assert_eq!(report.snapshot.counts.columns, 55);
}

#[tokio::test]
async fn respelled_type_is_no_change() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse("CREATE TABLE t (a INT, b VARCHAR(20), c BOOL)");
    let engine = workspace.engine(|_| {});
    engine.add_connection("types", &url, None).unwrap();
    engine
        .refresh("types", RefreshOptions::default(), None)
        .await
        .unwrap();

    workspace.change_warehouse(
        "DROP TABLE t; CREATE TABLE t (a integer, b character  varying( 20 ), c boolean)",
    );
    let report = engine
        .refresh("types", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(report.changes, vec![]);
}

#[tokio::test]
async fn refresh_leaves_warehouse_file_untouched() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let warehouse = workspace.path("warehouse.db");
    let bytes_before = std::fs::read(&warehouse).unwrap();
    let engine = workspace.engine(|_| {});
    engine.add_connection("music", &url, None).unwrap();

    engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(std::fs::read(&warehouse).unwrap(), bytes_before);
    assert!(!workspace.path("warehouse.db-wal").exists());
    assert!(!workspace.path("warehouse.db-journal").exists());
}

#[test]
fn missing_sqlite_file_is_rejected() {
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    let url = format!("sqlite://{}", workspace.path("absent.db").display());

    let error = engine.add_connection("absent", &url, None).unwrap_err();

    assert!(matches!(error, EngineError::InvalidUrl { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "invalid connection URL '{url}': SQLite file '{}' not found; check the path in the connection URL",
            workspace.path("absent.db").display()
        )
    );
    assert!(!workspace.path("absent.db").exists());
}

#[test]
fn non_sqlite_file_is_rejected() {
    let workspace = Workspace::new();
    let path = workspace.path("notes.txt");
    std::fs::write(
        &path,
        "these are not the tables you are looking for\n".repeat(100),
    )
    .unwrap();
    let engine = workspace.engine(|_| {});

    let error = engine
        .add_connection("notes", &format!("sqlite://{}", path.display()), None)
        .unwrap_err();

    assert!(
        error.to_string().contains(&format!(
            "'{}' is not a SQLite database file; point the connection URL at a SQLite file",
            path.display()
        )),
        "{error}"
    );
}

#[cfg(unix)]
#[test]
fn new_store_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let workspace = Workspace::new();
    let _engine = workspace.engine(|_| {});
    let mode = std::fs::metadata(workspace.store_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn unknown_scheme_lists_supported_ones() {
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});

    let error = engine
        .add_connection("mysql", "mysql://app@db/sales", None)
        .unwrap_err();

    assert_eq!(
        error.to_string(),
        "no driver for URL scheme 'mysql'; supported schemes: sqlite, postgres, postgresql, bigquery, snowflake"
    );
}

#[tokio::test]
async fn broken_view_keeps_its_previous_state() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(
        "CREATE TABLE genres (genre_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE TABLE artists (artist_id INTEGER PRIMARY KEY, name TEXT NOT NULL);
         CREATE VIEW genre_names AS SELECT name FROM genres;",
    );
    let engine = workspace.engine(|_| {});
    engine.add_connection("music", &url, None).unwrap();
    engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    // SQLite lets a view outlive the table it reads; reading its columns then fails.
    workspace.change_warehouse("DROP TABLE genres; ALTER TABLE artists ADD COLUMN country TEXT;");
    let report = engine
        .refresh("music", RefreshOptions::default(), None)
        .await
        .unwrap();

    let kinds: Vec<(ChangeKind, Option<String>, Option<String>)> = report
        .changes
        .iter()
        .map(|change| (change.kind, change.table.clone(), change.column.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                ChangeKind::ColumnAdded,
                Some("artists".to_string()),
                Some("country".to_string())
            ),
            (ChangeKind::TableDropped, Some("genres".to_string()), None),
        ]
    );
    assert_eq!(report.snapshot.warnings.len(), 1);
    assert!(
        report.snapshot.warnings[0].starts_with(
            "table 'main.main.genre_names' unreadable (vanished): cannot read the columns of 'genre_names'"
        ),
        "{}",
        report.snapshot.warnings[0]
    );
    let (_, catalog) = engine.catalog("music", None).unwrap().unwrap();
    let view = catalog.table("main", "main", "genre_names").unwrap();
    assert_eq!(view.columns.len(), 1);
    assert_eq!(view.columns[0].name, "name");
}
