//! The Snowflake driver against a local server speaking Snowflake's session
//! protocol: exact-case names, the INFORMATION_SCHEMA and SHOW fallbacks,
//! incremental reads by LAST_ALTERED, and login and network failures.

use crate::snowflake_server::{PASSWORD, SfCatalog, SfColumn, SfSchema, SfTable, SnowflakeServer};
use crate::support::{Workspace, describe_changes};
use metacrawl_engine::store::JobRunStatus;
use metacrawl_engine::{Catalog, Engine, RefreshOptions, Table};
use serde_json::Value;
use std::path::PathBuf;

struct Fixture {
    workspace: Workspace,
    engine: Engine,
    server: SnowflakeServer,
}

impl Fixture {
    async fn new(catalog: SfCatalog, database: &str) -> Fixture {
        let workspace = Workspace::new();
        let server = SnowflakeServer::start(catalog).await;
        let engine = workspace.engine(|_| {});
        let fixture = Fixture {
            workspace,
            engine,
            server,
        };
        let url = fixture.url(database, PASSWORD);
        fixture.engine.add_connection("sf", &url, None).unwrap();
        fixture
    }

    /// A connection URL whose password file holds `password`.
    fn url(&self, database: &str, password: &str) -> String {
        let path = self.workspace.path(&format!("password-{}", password.len()));
        std::fs::write(&path, format!("{password}\n")).unwrap();
        self.server
            .connection_url(database, &path.display().to_string())
    }

    async fn refresh(&self) -> metacrawl_engine::RefreshReport {
        self.engine
            .refresh("sf", RefreshOptions::default(), None)
            .await
            .unwrap()
    }

    fn catalog(&self) -> Catalog {
        self.engine.catalog("sf", None).unwrap().unwrap().1
    }
}

fn load_catalog(name: &str) -> SfCatalog {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/snowflake")
        .join(name);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut catalog = SfCatalog::new();
    for (database, schemas) in json.as_object().unwrap() {
        let mut parsed = std::collections::BTreeMap::new();
        for (schema, content) in schemas.as_object().unwrap() {
            let mut tables = std::collections::BTreeMap::new();
            for (table, body) in content["tables"].as_object().unwrap() {
                let columns = body["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|column| SfColumn {
                        name: column["name"].as_str().unwrap().to_string(),
                        data_type: column["type"].as_str().unwrap().to_string(),
                        length: column["length"].as_u64(),
                        precision: column["precision"].as_u64().map(|value| value as u32),
                        scale: column["scale"].as_u64().map(|value| value as u32),
                        datetime_precision: column["datetime_precision"]
                            .as_u64()
                            .map(|value| value as u32),
                        nullable: column["nullable"].as_bool().unwrap(),
                        default: column["default"].as_str().map(str::to_string),
                        comment: column["comment"].as_str().map(str::to_string),
                    })
                    .collect();
                tables.insert(
                    table.clone(),
                    SfTable {
                        table_type: body["type"].as_str().unwrap().to_string(),
                        comment: body["comment"].as_str().map(str::to_string),
                        definition: body["definition"].as_str().map(str::to_string),
                        last_altered: body["last_altered"].as_str().unwrap().to_string(),
                        columns,
                    },
                );
            }
            parsed.insert(
                schema.clone(),
                SfSchema {
                    comment: None,
                    tables,
                },
            );
        }
        catalog.insert(database.clone(), parsed);
    }
    catalog
}

/// One line per table and column: `schema.table (kind) comment` and
/// `  ordinal name type NULL|NOT NULL default comment`.
fn describe(catalog: &Catalog) -> Vec<String> {
    let mut lines = Vec::new();
    for schema in &catalog.databases[0].schemas {
        lines.push(format!("schema {}", schema.name));
        for table in &schema.tables {
            lines.push(describe_table(&schema.name, table));
            for column in &table.columns {
                lines.push(format!(
                    "  {} {} {} {} {} {}",
                    column.ordinal,
                    column.name,
                    column.data_type,
                    if column.nullable { "NULL" } else { "NOT NULL" },
                    column.default.as_deref().unwrap_or("-"),
                    column.comment.as_deref().unwrap_or("-"),
                ));
            }
        }
    }
    lines
}

fn describe_table(schema: &str, table: &Table) -> String {
    format!(
        "{schema}.{} ({}) {}",
        table.name,
        table.kind,
        table.comment.as_deref().unwrap_or("-")
    )
}

#[tokio::test]
async fn quoted_names_keep_their_case() {
    let fixture = Fixture::new(load_catalog("quoted_case.json"), "DEV_RAW").await;
    fixture.refresh().await;
    assert_eq!(
        describe(&fixture.catalog()),
        vec![
            "schema PUBLIC",
            "schema STAGING",
            "STAGING.EVENTS (table) Upper-case twin",
            "  1 ID NUMBER(38,0) NOT NULL - -",
            "  2 eventType VARCHAR(16777216) NULL - Quoted camelCase column",
            "  3 PAYLOAD VARIANT NULL - -",
            "  4 LOADED_AT TIMESTAMP_NTZ(9) NULL CURRENT_TIMESTAMP() -",
            "schema airbyte_internal",
            "airbyte_internal.raw__stream_accounts (table) -",
            "  1 _airbyte_raw_id VARCHAR(16777216) NOT NULL - -",
            "  2 _airbyte_extracted_at TIMESTAMP_TZ(9) NOT NULL - -",
            "  3 _airbyte_data VARIANT NULL - -",
            "schema staging",
            "staging.events (table) Lower-case twin",
            "  1 id NUMBER(38,0) NULL - -",
            "  2 ID NUMBER(38,0) NULL - -",
        ]
    );

    // ALTER TABLE "staging"."events" RENAME COLUMN "ID" TO "Id";
    // ALTER TABLE staging.events RENAME TO staging.events_v2;
    fixture.server.update(|catalog| {
        let database = catalog.get_mut("DEV_RAW").unwrap();
        let events = database
            .get_mut("staging")
            .unwrap()
            .tables
            .get_mut("events")
            .unwrap();
        events.columns[1].name = "Id".to_string();
        events.last_altered = "2024-05-02 09:00:00.000 +0000".to_string();
        let upper = &mut database.get_mut("STAGING").unwrap().tables;
        let mut renamed = upper.remove("EVENTS").unwrap();
        renamed.last_altered = "2024-05-02 09:00:01.000 +0000".to_string();
        upper.insert("EVENTS_V2".to_string(), renamed);
    });
    let report = fixture.refresh().await;
    // Snowflake's INFORMATION_SCHEMA exposes no object ids, and renames are
    // never guessed: both renames show as a drop and an add.
    assert_eq!(
        describe_changes(&report.changes),
        vec![
            "table_added STAGING.EVENTS_V2: - -> table",
            "table_dropped STAGING.EVENTS: table -> - breaking",
            "column_added staging.events.Id: - -> NUMBER(38,0)",
            "column_dropped staging.events.ID: NUMBER(38,0) -> - breaking",
        ]
    );
}

/// A database of `schemas` schemas with `tables` tables of two columns each.
fn generated_catalog(schemas: usize, tables: usize) -> SfCatalog {
    let mut database = std::collections::BTreeMap::new();
    for schema in 0..schemas {
        let mut content = SfSchema::default();
        for table in 0..tables {
            content.tables.insert(
                format!("T{table:05}"),
                SfTable {
                    table_type: "BASE TABLE".to_string(),
                    comment: None,
                    definition: None,
                    last_altered: "2024-05-01 10:00:00.000 +0000".to_string(),
                    columns: vec![
                        SfColumn {
                            name: "ID".to_string(),
                            data_type: "NUMBER".to_string(),
                            precision: Some(38),
                            scale: Some(0),
                            nullable: false,
                            ..SfColumn::default()
                        },
                        SfColumn {
                            name: "NAME".to_string(),
                            data_type: "TEXT".to_string(),
                            length: Some(100),
                            nullable: true,
                            ..SfColumn::default()
                        },
                    ],
                },
            );
        }
        database.insert(format!("S{schema}"), content);
    }
    let mut catalog = SfCatalog::new();
    catalog.insert("BIG".to_string(), database);
    catalog
}

#[tokio::test]
async fn large_schemas_fall_back_to_paging() {
    // S0 is small; S1 holds 10,500 tables, past both the SHOW page and the
    // INFORMATION_SCHEMA limit of the server.
    let mut catalog = generated_catalog(1, 10);
    let big = generated_catalog(1, 10_500)
        .remove("BIG")
        .unwrap()
        .remove("S0")
        .unwrap();
    catalog
        .get_mut("BIG")
        .unwrap()
        .insert("S1".to_string(), big);
    let fixture = Fixture::new(catalog, "BIG").await;
    fixture.server.set_information_schema_limit(5_000);

    let report = fixture.refresh().await;
    assert_eq!(report.snapshot.warnings, Vec::<String>::new());
    assert_eq!(report.snapshot.counts.tables, 10_510);
    assert_eq!(report.snapshot.counts.columns, 21_020);

    let statements = fixture.server.statements();
    let shows: Vec<&String> = statements
        .iter()
        .filter(|statement| statement.starts_with("SHOW TABLES"))
        .collect();
    assert_eq!(
        shows,
        vec![
            "SHOW TABLES IN SCHEMA \"BIG\".\"S1\" LIMIT 10000",
            "SHOW TABLES IN SCHEMA \"BIG\".\"S1\" LIMIT 10000 FROM 'T09999'",
        ]
    );
    let column_queries = statements
        .iter()
        .filter(|statement| statement.contains("INFORMATION_SCHEMA.COLUMNS"))
        .count();
    // One database-wide try, one for S0, one schema-wide try for S1, then
    // 10,500 tables in chunks of 500.
    assert_eq!(column_queries, 3 + 21);

    let report = fixture.refresh().await;
    assert_eq!(report.changes.len(), 0);
}

#[tokio::test]
async fn only_altered_tables_are_read_again() {
    let fixture = Fixture::new(generated_catalog(1, 3), "BIG").await;
    fixture.refresh().await;
    fixture.server.clear_statements();

    fixture.server.update(|catalog| {
        let table = catalog
            .get_mut("BIG")
            .unwrap()
            .get_mut("S0")
            .unwrap()
            .tables
            .get_mut("T00001")
            .unwrap();
        table.columns.push(SfColumn {
            name: "LOADED_AT".to_string(),
            data_type: "TIMESTAMP_LTZ".to_string(),
            datetime_precision: Some(9),
            nullable: true,
            ..SfColumn::default()
        });
        table.last_altered = "2024-06-01 08:00:00.000 +0000".to_string();
    });
    let report = fixture.refresh().await;
    assert_eq!(
        describe_changes(&report.changes),
        vec!["column_added S0.T00001.LOADED_AT: - -> TIMESTAMP_LTZ(9)"]
    );
    let column_queries: Vec<String> = fixture
        .server
        .statements()
        .into_iter()
        .filter(|statement| statement.contains("INFORMATION_SCHEMA.COLUMNS"))
        .collect();
    assert_eq!(column_queries.len(), 1);
    assert!(
        column_queries[0].ends_with(
            "WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA' AND TABLE_SCHEMA = 'S0' AND TABLE_NAME IN ('T00001')\n"
        ),
        "{}",
        column_queries[0]
    );

    // The incremental snapshot equals a full read.
    let incremental = describe(&fixture.catalog());
    let full = fixture
        .engine
        .refresh(
            "sf",
            RefreshOptions {
                full: true,
                ..RefreshOptions::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(full.changes.len(), 0);
    assert_eq!(describe(&fixture.catalog()), incremental);
}

#[tokio::test]
async fn bad_password_or_host_fail_the_run() {
    let fixture = Fixture::new(generated_catalog(1, 1), "BIG").await;
    let url = fixture.url("BIG", "not-the-password");
    fixture.engine.add_connection("wrong", &url, None).unwrap();
    let error = fixture
        .engine
        .refresh("wrong", RefreshOptions::default(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("Snowflake account localtest rejected the login of user crawler"),
        "{error}"
    );
    assert!(error.contains("390100"), "{error}");
    assert!(!error.contains("not-the-password"), "{error}");
    let runs = fixture.engine.job_runs("wrong", 1).unwrap();
    assert_eq!(runs[0].status, JobRunStatus::Failed);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = url.replace(&fixture.server.port().to_string(), &port.to_string());
    fixture.engine.add_connection("gone", &url, None).unwrap();
    let error = fixture
        .engine
        .refresh("gone", RefreshOptions::default(), None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!(
            "cannot reach Snowflake account localtest at http://127.0.0.1:{port}"
        )),
        "{error}"
    );
    assert!(!error.contains(PASSWORD), "{error}");
}
