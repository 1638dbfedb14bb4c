//! The BigQuery driver against a local server speaking the BigQuery v2 REST
//! shapes: nested RECORD fields as paths, paging, retries, unreadable
//! datasets, date-sharded tables, and the public schemas of the corpus.

use crate::bigquery_server::{BigQueryServer, TOKEN, spelled_type, table_resource};
use crate::support::Workspace;
use metacrawl_drivers::bigquery::{Authenticator, BQError, BigQueryDriverFactory, field_mode};
use metacrawl_engine::store::JobRunStatus;
use metacrawl_engine::{
    Catalog, Change, DriverRegistry, Engine, EngineError, RefreshOptions, Table,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

const PROJECT: &str = "example-project";

/// Hands out the token the local server accepts.
#[derive(Clone)]
struct LocalToken;

#[async_trait::async_trait]
impl Authenticator for LocalToken {
    async fn access_token(&self) -> Result<String, BQError> {
        Ok(TOKEN.to_string())
    }
}

struct Fixture {
    workspace: Workspace,
    engine: Engine,
    server: BigQueryServer,
}

impl Fixture {
    async fn new() -> Fixture {
        Fixture::with_url_options("").await
    }

    /// Starts a server and an engine with connection `bq`; `options` are
    /// appended to the connection URL.
    async fn with_url_options(options: &str) -> Fixture {
        let workspace = Workspace::new();
        let server = BigQueryServer::start(PROJECT).await;
        let mut registry = DriverRegistry::new();
        registry.register(Arc::new(BigQueryDriverFactory::with_authenticator(
            Arc::new(LocalToken),
        )));
        let engine = Engine::open(&workspace.store_path(), registry).expect("open the store");
        let url = format!("{}{options}", server.connection_url());
        engine.add_connection("bq", &url, None).unwrap();
        Fixture {
            workspace,
            engine,
            server,
        }
    }

    async fn refresh(&self) -> Result<metacrawl_engine::RefreshReport, EngineError> {
        self.engine
            .refresh("bq", RefreshOptions::default(), None)
            .await
    }

    fn catalog(&self) -> Catalog {
        self.engine.catalog("bq", None).unwrap().unwrap().1
    }

    fn table(&self, dataset: &str, name: &str) -> Table {
        let catalog = self.catalog();
        catalog.databases[0]
            .schemas
            .iter()
            .find(|schema| schema.name == dataset)
            .unwrap_or_else(|| panic!("dataset {dataset} in the catalog"))
            .tables
            .iter()
            .find(|table| table.name == name)
            .unwrap_or_else(|| panic!("table {name} in {dataset}"))
            .clone()
    }
}

fn resource(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/bigquery")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read fixture"))
        .expect("parse fixture")
}

/// Describes each column in one line: ordinal, path, type, mode, nullable, description.
fn describe_columns(table: &Table) -> Vec<String> {
    table
        .columns
        .iter()
        .map(|column| {
            format!(
                "{} {} {} {} {} {}",
                column.ordinal,
                column.name,
                column.data_type,
                field_mode(&column.data_type, column.nullable),
                if column.nullable { "YES" } else { "NO" },
                column.comment.as_deref().unwrap_or("-"),
            )
        })
        .collect()
}

fn describe_changes(changes: &[Change]) -> Vec<String> {
    crate::support::describe_changes(changes)
}

#[tokio::test]
async fn nested_fields_become_path_columns() {
    let fixture = Fixture::new().await;
    fixture.server.put_table(resource("orders.json"));
    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.counts.tables, 1);
    assert_eq!(report.snapshot.counts.columns, 15);

    let orders = fixture.table("shop_raw", "orders");
    assert_eq!(
        orders.comment.as_deref(),
        Some("Raw orders, one row per order")
    );
    assert_eq!(
        orders
            .properties
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>(),
        vec!["clustering=order_id", "partitioning=DAY(placed_at)"]
    );
    assert_eq!(
        describe_columns(&orders),
        vec![
            "1 order_id STRING REQUIRED NO Order identifier",
            "2 placed_at TIMESTAMP REQUIRED NO -",
            "3 customer STRUCT<id INT64, address STRUCT<city STRING, postcode STRING>> NULLABLE YES Buyer snapshot",
            "4 customer.id INT64 NULLABLE YES Customer key",
            "5 customer.address STRUCT<city STRING, postcode STRING> NULLABLE YES Billing address",
            "6 customer.address.city STRING NULLABLE YES City name",
            "7 customer.address.postcode STRING NULLABLE YES -",
            "8 line_items ARRAY<STRUCT<sku STRING NOT NULL, quantity INT64, discounts ARRAY<STRUCT<code STRING, amount NUMERIC(10, 2)>>>> REPEATED YES One entry per product line",
            "9 line_items.sku STRING REQUIRED NO -",
            "10 line_items.quantity INT64 NULLABLE YES -",
            "11 line_items.discounts ARRAY<STRUCT<code STRING, amount NUMERIC(10, 2)>> REPEATED YES -",
            "12 line_items.discounts.code STRING NULLABLE YES -",
            "13 line_items.discounts.amount NUMERIC(10, 2) NULLABLE YES -",
            "14 tags ARRAY<STRING> REPEATED YES -",
            "15 payload JSON NULLABLE YES -",
        ]
    );
    let paths: Vec<Option<&str>> = orders
        .columns
        .iter()
        .map(|column| column.field_path.as_deref())
        .collect();
    assert_eq!(paths[0], None);
    assert_eq!(paths[5], Some("customer.address.city"));

    fixture.server.put_table(resource("orders_changed.json"));
    let report = fixture.refresh().await.unwrap();
    assert_eq!(
        describe_changes(&report.changes),
        vec![
            "column_comment_changed shop_raw.orders.customer.address.city: City name -> Town or city name",
            "column_added shop_raw.orders.customer.address.country: - -> STRING",
        ]
    );
    let orders = fixture.table("shop_raw", "orders");
    assert_eq!(
        describe_columns(&orders)[2..9],
        [
            "3 customer STRUCT<id INT64, address STRUCT<city STRING, postcode STRING, country STRING>> NULLABLE YES Buyer snapshot",
            "4 customer.id INT64 NULLABLE YES Customer key",
            "5 customer.address STRUCT<city STRING, postcode STRING, country STRING> NULLABLE YES Billing address",
            "6 customer.address.city STRING NULLABLE YES Town or city name",
            "7 customer.address.postcode STRING NULLABLE YES -",
            "8 customer.address.country STRING NULLABLE YES ISO 3166-1 alpha-2",
            "9 line_items ARRAY<STRUCT<sku STRING NOT NULL, quantity INT64, discounts ARRAY<STRUCT<code STRING, amount NUMERIC(10, 2)>>>> REPEATED YES One entry per product line",
        ]
    );

    let report = fixture.refresh().await.unwrap();
    assert_eq!(describe_changes(&report.changes), Vec::<String>::new());
}

#[tokio::test]
async fn every_table_and_page_read() {
    let fixture = Fixture::new().await;
    for index in 0..2500 {
        let fields = json!([
            {"name": "id", "type": "INTEGER", "mode": "REQUIRED"},
            {"name": "label", "type": "STRING", "mode": "NULLABLE"},
        ]);
        fixture.server.put_table(table_resource(
            PROJECT,
            "wide",
            &format!("t{index:04}"),
            fields,
        ));
    }
    // 5,000 column rows over pages of 2,000: three pages.
    fixture.server.set_query_page_size(2000);
    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.counts.tables, 2500);
    assert_eq!(report.snapshot.counts.columns, 5000);

    let requests = fixture.server.requests();
    let count = |entry: &str| requests.iter().filter(|request| *request == entry).count();
    assert_eq!(count("tables.list wide"), 3);
    assert_eq!(count("jobs.query wide COLUMNS"), 1);
    assert_eq!(count("getQueryResults wide COLUMNS"), 2);
    assert!(
        !requests
            .iter()
            .any(|request| request.starts_with("tables.get")),
        "no request per table: {requests:?}"
    );
}

#[tokio::test]
async fn rate_limited_request_is_retried() {
    let fixture = Fixture::new().await;
    fixture.server.put_table(resource("orders.json"));
    fixture
        .server
        .fail_next("jobs.query shop_raw COLUMNS", 429, "rateLimitExceeded");
    fixture
        .server
        .fail_next("tables.list shop_raw", 503, "backendError");
    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.counts.columns, 15);
    assert_eq!(report.snapshot.warnings, Vec::<String>::new());
    let requests = fixture.server.requests();
    let count = |entry: &str| requests.iter().filter(|request| *request == entry).count();
    assert_eq!(count("jobs.query shop_raw COLUMNS"), 2);
    assert_eq!(count("tables.list shop_raw"), 2);
}

#[tokio::test]
async fn forbidden_dataset_keeps_its_tables() {
    let fixture = Fixture::new().await;
    fixture.server.put_table(resource("orders.json"));
    let fields = json!([{"name": "id", "type": "INTEGER", "mode": "NULLABLE"}]);
    fixture
        .server
        .put_table(table_resource(PROJECT, "finance", "ledger", fields));
    fixture.refresh().await.unwrap();

    fixture.server.forbid_dataset("finance");
    let report = fixture.refresh().await.unwrap();
    assert_eq!(describe_changes(&report.changes), Vec::<String>::new());
    assert_eq!(
        report.snapshot.warnings,
        vec![
            "schema 'example-project.finance' unreadable (permission_denied): the credentials may not \
             read dataset example-project.finance (403 accessDenied: Access Denied: Dataset \
             example-project:finance: Permission bigquery.tables.list denied); grant the service \
             account roles/bigquery.metadataViewer on it; its previous state was kept and nothing \
             in it is reported dropped"
        ]
    );
    assert_eq!(fixture.table("finance", "ledger").columns.len(), 1);
}

#[tokio::test]
async fn date_shards_fold_into_one() {
    let fixture = Fixture::new().await;
    let shard = |day: &str, extra: bool| {
        let mut fields = vec![json!({"name": "event_name", "type": "STRING", "mode": "NULLABLE"})];
        if extra {
            fields.push(json!({"name": "user_id", "type": "STRING", "mode": "NULLABLE"}));
        }
        table_resource(
            PROJECT,
            "analytics",
            &format!("events_{day}"),
            Value::Array(fields),
        )
    };
    for day in ["20240101", "20240102", "20240103"] {
        fixture.server.put_table(shard(day, false));
    }
    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.counts.tables, 1);
    let events = fixture.table("analytics", "events_*");
    let range = events.shards.clone().unwrap();
    assert_eq!(
        (range.first.as_str(), range.last.as_str(), range.count),
        ("20240101", "20240103", 3)
    );

    fixture.server.put_table(shard("20240104", false));
    let report = fixture.refresh().await.unwrap();
    assert_eq!(describe_changes(&report.changes), Vec::<String>::new());
    let range = fixture.table("analytics", "events_*").shards.unwrap();
    assert_eq!((range.last.as_str(), range.count), ("20240104", 4));

    // The newest shard's columns are the table's columns.
    fixture.server.put_table(shard("20240105", true));
    let report = fixture.refresh().await.unwrap();
    assert_eq!(
        describe_changes(&report.changes),
        vec!["column_added analytics.events_*.user_id: - -> STRING"]
    );
}

#[tokio::test]
async fn queries_run_where_each_dataset_lives() {
    let fixture = Fixture::new().await;
    fixture.server.put_table(resource("orders.json"));
    let fields = json!([{"name": "id", "type": "INTEGER", "mode": "NULLABLE"}]);
    fixture
        .server
        .put_table(table_resource(PROJECT, "eu_sales", "ledger", fields));
    fixture.server.set_location("eu_sales", "EU");

    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.warnings, Vec::<String>::new());
    assert_eq!(report.snapshot.counts.tables, 2);
    assert!(
        fixture
            .server
            .requests()
            .contains(&"jobs.query eu_sales COLUMNS".to_string())
    );
}

#[tokio::test]
async fn empty_project_has_no_datasets() {
    let fixture = Fixture::new().await;
    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.counts.schemas, 0);
    assert_eq!(fixture.server.requests(), vec!["datasets.list"]);
}

#[tokio::test]
async fn bad_credentials_or_endpoint_fail() {
    let fixture = Fixture::new().await;
    fixture.server.add_dataset("shop_raw");
    let workspace = Workspace::new();
    let mut registry = DriverRegistry::new();
    registry.register(Arc::new(BigQueryDriverFactory::with_authenticator(
        Arc::new(WrongToken),
    )));
    let engine = Engine::open(&workspace.store_path(), registry).unwrap();
    engine
        .add_connection("bq", &fixture.server.connection_url(), None)
        .unwrap();
    let error = engine
        .refresh("bq", RefreshOptions::default(), None)
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "refresh of connection 'bq' failed: BigQuery rejected the credentials for project example-project (401 authError: Request had \
         invalid authentication credentials.); check the key_file or token_env of the connection"
    );
    let runs = engine.job_runs("bq", 1).unwrap();
    assert_eq!(runs[0].status, JobRunStatus::Failed);
    assert!(
        !runs[0]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("not-the-token")
    );

    // A port with no server behind it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    engine
        .add_connection(
            "gone",
            &format!("bigquery://{PROJECT}?api_url=http://127.0.0.1:{port}/bigquery/v2"),
            None,
        )
        .unwrap();
    let error = engine
        .refresh("gone", RefreshOptions::default(), None)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with("refresh of connection 'gone' failed: cannot reach BigQuery for project example-project: error sending request"),
        "{message}"
    );
    assert_eq!(
        engine.job_runs("gone", 1).unwrap()[0].status,
        JobRunStatus::Failed
    );
}

#[derive(Clone)]
struct WrongToken;

#[async_trait::async_trait]
impl Authenticator for WrongToken {
    async fn access_token(&self) -> Result<String, BQError> {
        Ok("not-the-token".to_string())
    }
}

/// Field counts of a schema field array: (top-level, all).
fn count_fields(fields: &[Value]) -> (usize, usize) {
    let nested: usize = fields
        .iter()
        .map(|field| {
            field["fields"]
                .as_array()
                .map_or(0, |children| count_fields(children).1)
        })
        .sum();
    (fields.len(), fields.len() + nested)
}

/// Lists every field path of a schema with its spelled type and mode.
fn expected_paths(prefix: &str, fields: &[Value], paths: &mut Vec<String>) {
    for field in fields {
        let name = field["name"].as_str().unwrap();
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let mode = field["mode"].as_str().unwrap_or("NULLABLE");
        paths.push(format!("{path} {} {mode}", spelled_type(field)));
        if let Some(children) = field["fields"].as_array() {
            expected_paths(&path, children, paths);
        }
    }
}

#[tokio::test]
async fn corpus_schemas_keep_field_paths() {
    let Some(corpus) = std::env::var_os("METACRAWL_CORPUS_DIR").map(PathBuf::from) else {
        eprintln!(
            "skipped: METACRAWL_CORPUS_DIR is not set, so the BigQuery corpus schemas cannot be read"
        );
        return;
    };
    let mut sources = vec![(
        "gharchive".to_string(),
        "events".to_string(),
        corpus.join("bigquery-gharchive/schema.js"),
    )];
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("bigquery-httparchive"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    files.sort();
    for path in files {
        let table = path.file_stem().unwrap().to_string_lossy().to_string();
        sources.push(("httparchive".to_string(), table, path));
    }
    assert_eq!(sources.len(), 11);

    let fixture = Fixture::new().await;
    let mut expected = Vec::new();
    let mut totals = Vec::new();
    for (dataset, table, path) in &sources {
        let fields: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let fields = fields.as_array().unwrap().clone();
        totals.push(format!("{table} {:?}", count_fields(&fields)));
        let mut paths = Vec::new();
        expected_paths("", &fields, &mut paths);
        expected.push((dataset.clone(), table.clone(), paths));
        fixture.server.put_table(table_resource(
            PROJECT,
            dataset,
            table,
            Value::Array(fields),
        ));
    }
    // Field counts as the corpus documents them.
    assert_eq!(
        totals,
        vec![
            "events (9, 22)",
            "all_pages (14, 20)",
            "all_requests (14, 18)",
            "lighthouse (2, 2)",
            "pages (2, 2)",
            "parsed_css (4, 4)",
            "requests (3, 3)",
            "response_bodies (4, 4)",
            "summary_pages (89, 89)",
            "summary_requests (61, 61)",
            "technologies (4, 4)",
        ]
    );

    let report = fixture.refresh().await.unwrap();
    assert_eq!(report.snapshot.counts.columns, 22 + 207);
    for (dataset, table, paths) in expected {
        let crawled: Vec<String> = fixture
            .table(&dataset, &table)
            .columns
            .iter()
            .map(|column| {
                format!(
                    "{} {} {}",
                    column.name,
                    column.data_type,
                    field_mode(&column.data_type, column.nullable)
                )
            })
            .collect();
        assert_eq!(crawled, paths, "{dataset}.{table}");
    }
    let technologies = fixture.table("httparchive", "all_pages");
    let categories = technologies
        .columns
        .iter()
        .find(|column| column.name == "technologies.categories")
        .unwrap();
    assert_eq!(categories.data_type, "ARRAY<STRING>");

    let report = fixture.refresh().await.unwrap();
    assert_eq!(describe_changes(&report.changes), Vec::<String>::new());
    assert_eq!(report.snapshot.change_count, 0);
}

#[tokio::test]
async fn new_clustering_is_property_change() {
    let fixture = Fixture::new().await;
    fixture.server.put_table(resource("orders.json"));
    fixture.refresh().await.unwrap();

    let mut reclustered = resource("orders.json");
    reclustered["clustering"] = json!({"fields": ["order_id", "placed_at"]});
    fixture.server.put_table(reclustered);
    let report = fixture.refresh().await.unwrap();
    assert_eq!(
        describe_changes(&report.changes),
        vec![
            "table_properties_changed shop_raw.orders: clustering=order_id; partitioning=DAY(placed_at) \
             -> clustering=order_id, placed_at; partitioning=DAY(placed_at)"
        ]
    );
}

#[tokio::test]
async fn service_account_key_gets_a_token() {
    let fixture = Fixture::new().await;
    fixture.server.put_table(resource("orders.json"));
    let key = fixture.workspace.path("key.json");
    fixture.server.write_key_file(&key);

    // The built-in factory, which reads the key named in the URL.
    let mut registry = DriverRegistry::new();
    metacrawl_drivers::register_builtin(&mut registry);
    let workspace = Workspace::new();
    let engine = Engine::open(&workspace.store_path(), registry).unwrap();
    let url = format!(
        "{}&key_file={}",
        fixture.server.connection_url(),
        key.display()
    );
    engine.add_connection("keyed", &url, None).unwrap();
    let report = engine
        .refresh("keyed", RefreshOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(report.snapshot.counts.columns, 15);
    assert!(
        fixture
            .server
            .requests()
            .contains(&"token https://www.googleapis.com/auth/bigquery.readonly".to_string())
    );

    let missing = format!(
        "{}&key_file=/nonexistent/key.json",
        fixture.server.connection_url()
    );
    let error = engine
        .add_connection("missing", &missing, None)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("key_file '/nonexistent/key.json' does not exist; point it at the JSON key of a service account"),
        "{error}"
    );
}
