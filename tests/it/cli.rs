//! The `metacrawl` binary: its output formats, exit codes and error messages.

use crate::support::{MUSIC_CHANGE, MUSIC_SETUP, Workspace};
use serde_json::{Value, json};
use std::process::Output;

fn metacrawl(workspace: &Workspace, arguments: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_metacrawl"))
        .arg("--store")
        .arg(workspace.store_path())
        .args(arguments)
        .env_remove("METACRAWL_STORE")
        .env_remove("METACRAWL_LOG")
        .output()
        .expect("run metacrawl")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "metacrawl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Creates a store with connection `music` refreshed before and after the change script.
fn refreshed_twice() -> Workspace {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    stdout(&metacrawl(
        &workspace,
        &["connection", "add", "music", "--url", &url],
    ));
    stdout(&metacrawl(&workspace, &["refresh", "music", "--wait"]));
    workspace.change_warehouse(MUSIC_CHANGE);
    stdout(&metacrawl(&workspace, &["refresh", "music", "--wait"]));
    workspace
}

#[test]
fn connection_add_prints_id() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);

    let first = metacrawl(&workspace, &["connection", "add", "music", "--url", &url]);
    let second = metacrawl(&workspace, &["connection", "add", "copy", "--url", &url]);

    assert_eq!(stdout(&first), "1\n");
    assert_eq!(stdout(&second), "2\n");
}

#[test]
fn connection_list_redacts_secrets() {
    let workspace = Workspace::new();
    let url = format!(
        "{}?password=hunter2",
        workspace.sqlite_warehouse(MUSIC_SETUP)
    );
    stdout(&metacrawl(
        &workspace,
        &["connection", "add", "music", "--url", &url],
    ));

    let listed = stdout(&metacrawl(&workspace, &["connection", "list", "--json"]));

    let listed: Value = serde_json::from_str(&listed).unwrap();
    let expected_url = url.replace("hunter2", "***");
    assert_eq!(listed[0]["url"], json!(expected_url));
    assert!(!listed.to_string().contains("hunter2"));
}

#[test]
fn changes_json_lists_exact_changes() {
    let workspace = refreshed_twice();

    let output = stdout(&metacrawl(
        &workspace,
        &["changes", "music", "--since", "1", "--json"],
    ));

    let changes: Vec<Value> = serde_json::from_str(&output).unwrap();
    assert_eq!(changes.len(), 10);
    assert_eq!(
        changes[3],
        json!({
            "snapshot": 2,
            "kind": "column_dropped",
            "database": "main",
            "schema": "main",
            "table": "customers",
            "column": "company",
            "before": "VARCHAR(80)",
            "after": null,
            "breaking": true,
        })
    );
    assert_eq!(
        changes[0],
        json!({
            "snapshot": 2,
            "kind": "table_added",
            "database": "main",
            "schema": "main",
            "table": "media_formats",
            "column": null,
            "before": null,
            "after": "table",
            "breaking": false,
        })
    );
}

#[test]
fn catalog_at_first_snapshot_shows_old_state() {
    let workspace = refreshed_twice();

    let output = stdout(&metacrawl(
        &workspace,
        &["catalog", "music", "--snapshot", "1", "--json"],
    ));

    let catalog: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(catalog["snapshot"], json!(1));
    let tables = &catalog["databases"][0]["schemas"][0]["tables"];
    let names: Vec<&str> = tables
        .as_array()
        .unwrap()
        .iter()
        .map(|table| table["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "album_track_counts",
            "albums",
            "artists",
            "customer_totals",
            "customers",
            "employees",
            "genres",
            "invoice_lines",
            "invoices",
            "media_types",
            "playlist_tracks",
            "playlists",
            "tracks",
        ]
    );
    let genres = &tables[6];
    assert_eq!(
        genres["columns"][1],
        json!({
            "ordinal": 2,
            "name": "name",
            "data_type": "VARCHAR(120)",
            "base_type": null,
            "nullable": false,
            "default": null,
            "comment": null,
            "primary_key": false,
            "identity": null,
            "generated": null,
            "field_path": null,
        })
    );
    assert_eq!(genres["kind"], json!("table"));
}

#[test]
fn latest_catalog_shows_new_state() {
    let workspace = refreshed_twice();

    let output = stdout(&metacrawl(&workspace, &["catalog", "music", "--json"]));

    let catalog: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(catalog["snapshot"], json!(2));
    let tables = catalog["databases"][0]["schemas"][0]["tables"]
        .as_array()
        .unwrap();
    assert_eq!(tables.len(), 14);
    assert!(tables.iter().any(|table| table["name"] == "media_formats"));
    assert!(!tables.iter().any(|table| table["name"] == "media_types"));
}

#[test]
fn history_lists_snapshots() {
    let workspace = refreshed_twice();

    let output = stdout(&metacrawl(&workspace, &["history", "music", "--json"]));

    let history: Vec<Value> = serde_json::from_str(&output).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["id"], json!(2));
    assert_eq!(history[1]["change_count"], json!(10));
    assert_eq!(history[1]["breaking_change_count"], json!(5));
    assert_eq!(history[1]["counts"]["columns"], json!(60));
}

#[test]
fn refresh_of_unknown_connection_fails() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    stdout(&metacrawl(
        &workspace,
        &["connection", "add", "music", "--url", &url],
    ));

    let output = metacrawl(&workspace, &["refresh", "orders-pg"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: connection 'orders-pg' not found; `metacrawl connection list` shows the known connections\n"
    );
}

#[test]
fn catalog_of_unknown_snapshot_fails() {
    let workspace = refreshed_twice();

    let output = metacrawl(&workspace, &["catalog", "music", "--snapshot", "99"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: snapshot 99 not found for connection 'music'; `metacrawl history music` lists its snapshots\n"
    );
}

#[test]
fn invalid_drop_share_is_rejected() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    stdout(&metacrawl(
        &workspace,
        &["connection", "add", "music", "--url", &url],
    ));

    let output = metacrawl(&workspace, &["refresh", "music", "--max-drop-share", "50"]);

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: invalid value '50' for '--max-drop-share <MAX_DROP_SHARE>': 50 is not a share \
             between 0.0 and 1.0 (0.5 means half of the known tables)\n"
        ),
        "{stderr}"
    );
}

#[test]
fn missing_store_is_not_created() {
    let workspace = Workspace::new();

    let output = metacrawl(&workspace, &["history", "music"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: store '{}' not found; pass --store (or set METACRAWL_STORE) to an existing \
             store, or create one with `metacrawl connection add`\n",
            workspace.store_path().display()
        )
    );
    assert!(!workspace.store_path().exists());
}

#[test]
fn changes_since_zero_lists_all() {
    let workspace = refreshed_twice();

    let all = stdout(&metacrawl(&workspace, &["changes", "music", "--json"]));
    let since_zero = stdout(&metacrawl(
        &workspace,
        &["changes", "music", "--since", "0", "--json"],
    ));

    assert_eq!(since_zero, all);
    let changes: Vec<Value> = serde_json::from_str(&all).unwrap();
    // The first snapshot adds the database, the schema and 13 tables.
    assert_eq!(changes.len(), 15 + 10);
}

#[test]
fn relative_sqlite_path_is_stored_absolute() {
    let workspace = Workspace::new();
    workspace.sqlite_warehouse(MUSIC_SETUP);

    let added = std::process::Command::new(env!("CARGO_BIN_EXE_metacrawl"))
        .current_dir(workspace.dir.path())
        .args(["--store", "metacrawl.db", "connection", "add", "music"])
        .args(["--url", "sqlite://warehouse.db"])
        .output()
        .unwrap();
    stdout(&added);
    let listed = stdout(&metacrawl(&workspace, &["connection", "list", "--json"]));

    let listed: Value = serde_json::from_str(&listed).unwrap();
    let absolute = workspace.path("warehouse.db").canonicalize().unwrap();
    assert_eq!(
        listed[0]["url"],
        json!(format!("sqlite://{}", absolute.display()))
    );
    stdout(&metacrawl(&workspace, &["refresh", "music"]));
}

#[test]
fn refresh_of_deleted_warehouse_fails() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    stdout(&metacrawl(
        &workspace,
        &["connection", "add", "music", "--url", &url],
    ));
    let path = workspace.path("warehouse.db").canonicalize().unwrap();
    std::fs::remove_file(&path).unwrap();

    let output = metacrawl(&workspace, &["refresh", "music"]);

    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "error: refresh of connection 'music' failed: SQLite file '{}' not found; check the \
             path in the connection URL\n",
            path.display()
        )
    );
}

#[test]
fn demo_reports_changes() {
    let workspace = Workspace::new();
    let demo_dir = workspace.path("demo");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_metacrawl"))
        .args(["demo", "--dir"])
        .arg(&demo_dir)
        .output()
        .unwrap();

    let text = stdout(&output);
    assert!(
        text.starts_with("first refresh: snapshot 1 with 13 tables and 55 columns\n"),
        "{text}"
    );
    assert!(
        text.contains("second refresh: snapshot 2 with 10 changes, 5 breaking\n"),
        "{text}"
    );
    assert!(
        text.contains("column_type_changed  main.main.genres.name"),
        "{text}"
    );
}
