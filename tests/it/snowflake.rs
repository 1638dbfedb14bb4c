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

    /// Returns a connection URL whose password file contains `password`.
    fn url(&self, database: &str, password: &str) -> String {
        let path = self.workspace.path(&format!("password-{}", password.len()));
        std::fs::write(&path, format!("{password}\n")).unwrap();
        self.server
            .connection_url(database, &format!("password_file={}", path.display()))
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

/// Describes a catalog in one line per table and column: `schema.table (kind) comment` and
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
    // Snowflake's INFORMATION_SCHEMA exposes no object ids: the table rename
    // shows as a drop and an add, the case-only column rename as a rename.
    assert_eq!(
        describe_changes(&report.changes),
        vec![
            "table_added STAGING.EVENTS_V2: - -> table",
            "table_dropped STAGING.EVENTS: table -> - breaking",
            "column_renamed staging.events.Id: ID -> Id breaking",
        ]
    );
}

/// Builds a database of `schemas` schemas with `tables` tables of two columns each.
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
    // S0 is small; S1 contains 10,500 tables, past both the SHOW page and the
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
        // A new schema is read whole, but not with a database-wide query.
        let new_schema = generated_catalog(1, 1)
            .remove("BIG")
            .unwrap()
            .remove("S0")
            .unwrap();
        catalog
            .get_mut("BIG")
            .unwrap()
            .insert("S9".to_string(), new_schema);
    });
    let report = fixture.refresh().await;
    assert_eq!(
        describe_changes(&report.changes),
        vec![
            "column_added S0.T00001.LOADED_AT: - -> TIMESTAMP_LTZ(9)",
            "schema_added S9: - -> -",
            "table_added S9.T00000: - -> table",
        ]
    );
    let column_queries: Vec<String> = fixture
        .server
        .statements()
        .into_iter()
        .filter(|statement| statement.contains("INFORMATION_SCHEMA.COLUMNS"))
        .collect();
    assert_eq!(column_queries.len(), 2);
    assert!(
        column_queries[0].ends_with(
            "WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA' AND TABLE_SCHEMA = 'S0' AND TABLE_NAME IN ('T00001')\n"
        ),
        "{}",
        column_queries[0]
    );
    assert!(
        column_queries[1]
            .ends_with("WHERE TABLE_SCHEMA <> 'INFORMATION_SCHEMA' AND TABLE_SCHEMA = 'S9'\n"),
        "{}",
        column_queries[1]
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

#[tokio::test]
async fn key_pair_login_works() {
    let fixture = Fixture::new(generated_catalog(1, 1), "BIG").await;
    let key = fixture.workspace.path("crawler.p8");
    std::fs::write(&key, crate::support::rsa_private_key_pem()).unwrap();
    let url = fixture
        .server
        .connection_url("BIG", &format!("private_key_file={}", key.display()));
    fixture.engine.add_connection("keyed", &url, None).unwrap();
    let report = fixture
        .engine
        .refresh("keyed", RefreshOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(report.snapshot.counts.tables, 1);
}

mod fakesnow {
    //! fakesnow (PyPI) serving Snowflake's protocol on 127.0.0.1, loaded with
    //! the corpus DDL by its own Python connector, then crawled by the driver.

    use metacrawl_drivers::snowflake::reqwest_middleware::{self, Middleware, Next, reqwest};
    use serde_json::{Value, json};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};

    /// fakesnow's replies lack fields snowflake-api requires; this fills them
    /// in, and nothing else.
    pub(super) struct MissingFields;

    fn fill(object: &mut Value, key: &str, value: Value) {
        if let Some(map) = object.as_object_mut() {
            map.entry(key.to_string()).or_insert(value);
        }
    }

    #[async_trait::async_trait]
    impl Middleware for MissingFields {
        async fn handle(
            &self,
            request: reqwest::Request,
            extensions: &mut axum::http::Extensions,
            next: Next<'_>,
        ) -> reqwest_middleware::Result<reqwest::Response> {
            let login = request.url().path().ends_with("login-request");
            let response = next.run(request, extensions).await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            let Ok(mut body) = serde_json::from_slice::<Value>(&bytes) else {
                return Ok(rebuild(status, bytes.to_vec()));
            };
            let success = body["success"].as_bool() == Some(true);
            if body.get("data").is_none_or(Value::is_null) {
                body["data"] = json!({});
            }
            let data = &mut body["data"];
            if login && success {
                let token = data["token"].clone();
                fill(data, "masterToken", token);
                fill(data, "validityInSeconds", json!(3600));
                fill(data, "masterValidityInSeconds", json!(14400));
                fill(data, "sessionId", json!(1));
                fill(data, "sessionInfo", json!({}));
                fill(&mut data["sessionInfo"], "roleName", json!("SYSADMIN"));
            } else if success {
                let total = data["total"].clone();
                fill(data, "returned", total);
                fill(data, "finalRoleName", json!("SYSADMIN"));
                fill(data, "version", json!(1));
            } else {
                fill(data, "age", json!(0));
                fill(data, "internalError", json!(false));
                fill(data, "queryId", json!(""));
                fill(data, "sqlState", json!(""));
            }
            Ok(rebuild(
                status,
                serde_json::to_vec(&body).expect("serialise"),
            ))
        }
    }

    fn rebuild(status: reqwest::StatusCode, body: Vec<u8>) -> reqwest::Response {
        let response = axum::http::Response::builder()
            .status(status.as_u16())
            .header("content-type", "application/json")
            .body(body)
            .expect("build a response");
        reqwest::Response::from(response)
    }

    /// A running fakesnow server, stopped when dropped.
    pub(super) struct Fakesnow {
        child: Child,
        pub(super) port: u16,
        python: PathBuf,
    }

    impl Drop for Fakesnow {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Fakesnow {
        /// Starts fakesnow from `$METACRAWL_FAKESNOW`; `None` when it is not set.
        pub(super) fn start() -> Option<Fakesnow> {
            let executable = PathBuf::from(std::env::var_os("METACRAWL_FAKESNOW")?);
            let python = executable.with_file_name("python");
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("find a free port")
                .port();
            let child = Command::new(&executable)
                .args(["-s", "-p", &port.to_string(), "--host", "127.0.0.1"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|error| panic!("start {}: {error}", executable.display()));
            let server = Fakesnow {
                child,
                port,
                python,
            };
            for _ in 0..300 {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Some(server);
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            panic!("fakesnow did not listen on 127.0.0.1:{port} within 30 s");
        }

        /// Runs the loader on DDL files; returns its JSON report.
        pub(super) fn load(&self, files: &[&Path], defines: &[(&str, &str)]) -> Value {
            let loader =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fakesnow_load.py");
            let mut command = Command::new(&self.python);
            command.arg(loader).arg(self.port.to_string()).args(files);
            for (name, value) in defines {
                command.arg("--define").arg(format!("{name}={value}"));
            }
            let output = command.output().expect("run the fakesnow loader");
            assert!(
                output.status.success(),
                "loader failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            serde_json::from_slice(&output.stdout).expect("loader JSON")
        }
    }
}

/// Counts (tables, views, columns) in a crawled catalog.
fn count_objects(catalog: &Catalog) -> (u64, u64, u64) {
    let mut counts = (0, 0, 0);
    for table in catalog
        .databases
        .iter()
        .flat_map(|database| &database.schemas)
        .flat_map(|schema| &schema.tables)
    {
        match table.kind {
            metacrawl_engine::TableKind::View | metacrawl_engine::TableKind::MaterializedView => {
                counts.1 += 1
            }
            _ => counts.0 += 1,
        }
        counts.2 += table.columns.len() as u64;
    }
    counts
}

#[tokio::test]
async fn corpus_loads_into_fakesnow_and_crawls() {
    let Some(corpus) = std::env::var_os("METACRAWL_CORPUS_DIR").map(PathBuf::from) else {
        eprintln!(
            "skipped: METACRAWL_CORPUS_DIR is not set, so the Snowflake corpus cannot be read"
        );
        return;
    };
    let Some(server) = fakesnow::Fakesnow::start() else {
        eprintln!(
            "skipped: METACRAWL_FAKESNOW is not set (the path of a fakesnow executable; .ci/run installs one)"
        );
        return;
    };
    let report = server.load(
        &[&corpus.join("snowflake-tasty-bytes/tb_introduction.sql")],
        &[],
    );
    assert_eq!(report["rejected"], serde_json::json!([]));
    // What the file creates: 8 tables and 4 views, 169 columns with the views'.
    assert_eq!(
        report["created"],
        serde_json::json!({"TB_101": {"tables": 8, "views": 4, "columns": 169}})
    );

    let workspace = Workspace::new();
    // Only this factory serves snowflake:// here, with the fields filled in.
    let mut registry = metacrawl_engine::DriverRegistry::new();
    registry.register(std::sync::Arc::new(
        metacrawl_drivers::snowflake::SnowflakeDriverFactory::with_middleware(std::sync::Arc::new(
            fakesnow::MissingFields,
        )),
    ));
    let engine = Engine::open(&workspace.store_path(), registry).unwrap();
    let password = workspace.path("password");
    std::fs::write(&password, "loader\n").unwrap();
    let url = format!(
        "snowflake://loader@local/TB_101?password_file={}&base_url=http://127.0.0.1:{}",
        password.display(),
        server.port
    );
    engine.add_connection("tasty", &url, None).unwrap();
    let first = engine
        .refresh("tasty", RefreshOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    let catalog = engine.catalog("tasty", None).unwrap().unwrap().1;
    assert_eq!(count_objects(&catalog), (8, 4, 169));

    let second = engine
        .refresh("tasty", RefreshOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(describe_changes(&second.changes), Vec::<String>::new());

    // The DCDF sample, in the order of its ddl_orch.sql, as far as fakesnow
    // accepts it (it has no BINARY(n), so the tables using it are rejected).
    let ddl = corpus.join("snowflake-dcdf-tpch/ddl");
    let orchestration = std::fs::read_to_string(ddl.join("ddl_orch.sql")).unwrap();
    let files: Vec<PathBuf> = orchestration
        .lines()
        .filter_map(|line| line.strip_prefix("!source "))
        .filter(|file| file.ends_with("_tbl.sql") || file.contains("context_ddl"))
        .map(|file| ddl.join(file.replace("&{l_env}", "dev")))
        .collect();
    assert_eq!(files.len(), 18);
    let paths: Vec<&std::path::Path> = files.iter().map(PathBuf::as_path).collect();
    // fakesnow maps a schema named MAIN onto DuckDB's own `main` schema,
    // which its SCHEMATA does not list: the samples' MAIN schemas get another name.
    let report = server.load(
        &paths,
        &[("l_il_schema", "il_main"), ("l_pl_schema", "pl_main")],
    );
    let rejected = report["rejected"].as_array().unwrap();
    assert!(
        rejected.iter().all(|entry| entry[1]
            .as_str()
            .unwrap()
            .contains("\"BLOB\" does not take any type parameters")),
        "{rejected:?}"
    );
    let created = report["created"].as_object().unwrap();
    assert_eq!(created.len(), 4);

    let url = format!(
        "snowflake://loader@local?databases=all&include_databases=DEV_WEBINAR_*&password_file={}&base_url=http://127.0.0.1:{}",
        password.display(),
        server.port
    );
    engine.add_connection("dcdf", &url, None).unwrap();
    engine
        .refresh("dcdf", RefreshOptions::default(), None)
        .await
        .unwrap();
    let catalog = engine.catalog("dcdf", None).unwrap().unwrap().1;
    let mut crawled = serde_json::Map::new();
    for database in &catalog.databases {
        let single = Catalog {
            databases: vec![database.clone()],
        };
        let (tables, views, columns) = count_objects(&single);
        crawled.insert(
            database.name.clone(),
            serde_json::json!({"tables": tables, "views": views, "columns": columns}),
        );
    }
    assert_eq!(&crawled, created);
    let second = engine
        .refresh("dcdf", RefreshOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(describe_changes(&second.changes), Vec::<String>::new());
}

#[tokio::test]
async fn hidden_database_keeps_its_state() {
    let fixture = Fixture::new(generated_catalog(1, 2), "BIG").await;
    fixture.refresh().await;

    // The role loses its grants, and Snowflake returns "does not exist or not authorized".
    fixture.server.update(|catalog| {
        catalog.remove("BIG");
    });
    let report = fixture.refresh().await;
    assert_eq!(describe_changes(&report.changes), Vec::<String>::new());
    assert_eq!(report.snapshot.warnings.len(), 1);
    assert!(
        report.snapshot.warnings[0].starts_with(
            "database 'BIG' unreadable (permission_denied): Snowflake account localtest returned error 002003"
        ),
        "{}",
        report.snapshot.warnings[0]
    );
    assert_eq!(report.snapshot.counts.tables, 2);
}
