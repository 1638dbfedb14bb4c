//! A local server speaking the BigQuery v2 REST shapes on 127.0.0.1, serving a
//! catalog held as `tables.get` resources.
//!
//! It serves datasets.list, tables.list, tables.get, jobs.query and
//! jobs.getQueryResults with Google's field names, int64 values as JSON
//! strings, page tokens, and Google's error body. The only SQL it runs is the
//! exact text of the driver's INFORMATION_SCHEMA queries, whose rows it
//! computes from the resources. Any other SQL is an `invalidQuery` error, so
//! the driver cannot pass by sending something the server ignores.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The access token the server accepts.
pub(crate) const TOKEN: &str = "local-test-token";

/// The driver's queries, as (INFORMATION_SCHEMA view, SQL template).
const QUERIES: [(&str, &str); 4] = [
    (
        "COLUMNS",
        include_str!("../../drivers/src/bigquery/columns.sql"),
    ),
    (
        "COLUMN_FIELD_PATHS",
        include_str!("../../drivers/src/bigquery/field_descriptions.sql"),
    ),
    (
        "TABLE_OPTIONS",
        include_str!("../../drivers/src/bigquery/table_descriptions.sql"),
    ),
    (
        "VIEWS",
        include_str!("../../drivers/src/bigquery/views.sql"),
    ),
];

#[derive(Default)]
struct Dataset {
    tables: BTreeMap<String, Value>,
    forbidden: bool,
    /// Where the dataset lives; queries sent to another location fail.
    location: Option<String>,
}

/// A refusal the server gives to the next request whose log entry starts with `prefix`.
struct Fault {
    prefix: String,
    status: u16,
    reason: String,
}

struct State {
    project: String,
    datasets: BTreeMap<String, Dataset>,
    query_page_size: usize,
    faults: VecDeque<Fault>,
    requests: Vec<String>,
    jobs: HashMap<String, (String, Value, Vec<Value>)>,
    next_job: u64,
}

pub(crate) struct BigQueryServer {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BigQueryServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BigQueryServer {
    pub(crate) async fn start(project: &str) -> BigQueryServer {
        let state = Arc::new(Mutex::new(State {
            project: project.to_string(),
            datasets: BTreeMap::new(),
            query_page_size: 10_000,
            faults: VecDeque::new(),
            requests: Vec::new(),
            jobs: HashMap::new(),
            next_job: 1,
        }));
        let shared = Arc::clone(&state);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&shared);
                async move { handle(&state, method, uri, headers, body) }
            },
        );
        let (port, task) = crate::support::serve_locally(app).await;
        BigQueryServer { port, state, task }
    }

    /// Returns the API base URL, as the driver's `api_url` option takes it.
    pub(crate) fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/bigquery/v2", self.port)
    }

    /// Writes a service-account key whose `token_uri` is this server, with a
    /// new RSA key made by the `openssl` command.
    pub(crate) fn write_key_file(&self, path: &std::path::Path) {
        let key = json!({
            "type": "service_account",
            "project_id": self.state.lock().unwrap().project,
            "private_key_id": "local-test-key",
            "private_key": crate::support::rsa_private_key_pem(),
            "client_email": "crawler@example-project.iam.gserviceaccount.com",
            "client_id": "1",
            "auth_uri": format!("http://127.0.0.1:{}/auth", self.port),
            "token_uri": format!("http://127.0.0.1:{}/token", self.port),
        });
        std::fs::write(path, key.to_string()).expect("write the key file");
    }

    /// Returns a connection URL for this server's project with fast retries.
    pub(crate) fn connection_url(&self) -> String {
        let project = self.state.lock().unwrap().project.clone();
        format!(
            "bigquery://{project}?api_url={}&retry_delay_ms=10",
            self.api_url()
        )
    }

    pub(crate) fn add_dataset(&self, dataset: &str) {
        let mut state = self.state.lock().unwrap();
        state.datasets.entry(dataset.to_string()).or_default();
    }

    /// Stores a table resource under its `tableReference`, replacing any
    /// table of that name.
    pub(crate) fn put_table(&self, resource: Value) {
        let dataset = resource["tableReference"]["datasetId"]
            .as_str()
            .expect("tableReference.datasetId")
            .to_string();
        let table = resource["tableReference"]["tableId"]
            .as_str()
            .expect("tableReference.tableId")
            .to_string();
        let mut state = self.state.lock().unwrap();
        state
            .datasets
            .entry(dataset)
            .or_default()
            .tables
            .insert(table, resource);
    }

    /// Places a dataset in a location other than US.
    pub(crate) fn set_location(&self, dataset: &str, location: &str) {
        let mut state = self.state.lock().unwrap();
        state
            .datasets
            .entry(dataset.to_string())
            .or_default()
            .location = Some(location.to_string());
    }

    /// Makes every read of a dataset's tables fail with 403 accessDenied.
    pub(crate) fn forbid_dataset(&self, dataset: &str) {
        let mut state = self.state.lock().unwrap();
        state
            .datasets
            .entry(dataset.to_string())
            .or_default()
            .forbidden = true;
    }

    pub(crate) fn set_query_page_size(&self, rows: usize) {
        self.state.lock().unwrap().query_page_size = rows;
    }

    /// Refuses the next request whose log entry starts with `prefix`.
    pub(crate) fn fail_next(&self, prefix: &str, status: u16, reason: &str) {
        self.state.lock().unwrap().faults.push_back(Fault {
            prefix: prefix.to_string(),
            status,
            reason: reason.to_string(),
        });
    }

    /// Returns one entry per request received: `tables.list shop_raw`,
    /// `jobs.query shop_raw COLUMNS`, `getQueryResults shop_raw COLUMNS`.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

/// Builds a table resource from a schema field array.
pub(crate) fn table_resource(project: &str, dataset: &str, table: &str, fields: Value) -> Value {
    json!({
        "kind": "bigquery#table",
        "id": format!("{project}:{dataset}.{table}"),
        "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
        "type": "TABLE",
        "schema": {"fields": fields},
    })
}

/// Serves Google's OAuth token endpoint for a service-account key whose
/// `token_uri` points here: a signed JWT assertion in, an access token out.
/// The signature is not checked; the claims are.
fn issue_token(state: &Mutex<State>, body: &[u8]) -> Response {
    let form = String::from_utf8_lossy(body).to_string();
    let assertion = form
        .split('&')
        .find_map(|pair| pair.strip_prefix("assertion="))
        .unwrap_or_default();
    let claims = assertion
        .split('.')
        .nth(1)
        // The form encoding turns the padding into %3D.
        .and_then(|part| crate::support::decode_base64(&part.replace("%3D", "")))
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .unwrap_or(Value::Null);
    state
        .lock()
        .unwrap()
        .requests
        .push(format!("token {}", claims["scope"].as_str().unwrap_or("-")));
    if !form.contains("jwt-bearer") || claims["iss"].as_str().is_none() {
        let body = json!({"error": "invalid_grant", "error_description": "Invalid JWT assertion."});
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    axum::Json(json!({"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}))
        .into_response()
}

fn google_error(status: u16, reason: &str, message: &str) -> Response {
    let status_name = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        _ => "INTERNAL",
    };
    let body = json!({"error": {
        "code": status,
        "message": message,
        "status": status_name,
        "errors": [{"reason": reason, "domain": "global", "message": message}],
    }});
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, axum::Json(body)).into_response()
}

fn query_parameters(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(key, value)| (key.to_string(), value.replace("%2F", "/")))
        .collect()
}

fn handle(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path() == "/token" {
        return issue_token(state, &body);
    }
    let authorized = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorized {
        return google_error(
            401,
            "authError",
            "Request had invalid authentication credentials.",
        );
    }
    let mut state = state.lock().unwrap();
    let parameters = query_parameters(&uri);
    let segments: Vec<&str> = uri
        .path()
        .trim_start_matches("/bigquery/v2/projects/")
        .split('/')
        .collect();
    if !uri.path().starts_with("/bigquery/v2/projects/") || segments[0] != state.project {
        return google_error(404, "notFound", &format!("Not found: {}", uri.path()));
    }

    let request = match (method.as_str(), &segments[1..]) {
        ("GET", ["datasets"]) => Request::ListDatasets,
        ("GET", ["datasets", dataset, "tables"]) => Request::ListTables(dataset.to_string()),
        ("GET", ["datasets", dataset, "tables", table]) => {
            Request::GetTable(dataset.to_string(), table.to_string())
        }
        ("POST", ["queries"]) => {
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let sql = body["query"].as_str().unwrap_or_default().to_string();
            match recognise(&state.project, &sql) {
                Some((dataset, view)) => {
                    let expected = state
                        .datasets
                        .get(&dataset)
                        .and_then(|found| found.location.clone())
                        .unwrap_or_else(|| "US".to_string());
                    let requested = body["location"].as_str().unwrap_or("US");
                    if requested != expected {
                        state
                            .requests
                            .push(format!("jobs.query {dataset} {view} in {requested}"));
                        return google_error(
                            404,
                            "notFound",
                            &format!(
                                "Not found: Dataset {}:{dataset} was not found in location {requested}",
                                state.project
                            ),
                        );
                    }
                    Request::Query(dataset, view)
                }
                None => {
                    state
                        .requests
                        .push(format!("jobs.query unrecognised: {sql}"));
                    return google_error(
                        400,
                        "invalidQuery",
                        &format!("Unrecognised query: {sql}"),
                    );
                }
            }
        }
        ("GET", ["queries", job]) => Request::Results(job.to_string()),
        _ => return google_error(404, "notFound", &format!("Not found: {}", uri.path())),
    };
    let entry = request.log_entry(&state);
    state.requests.push(entry.clone());
    if let Some(index) = state
        .faults
        .iter()
        .position(|fault| entry.starts_with(&fault.prefix))
    {
        let fault = state.faults.remove(index).expect("fault at index");
        return google_error(fault.status, &fault.reason, "Refused by the test server.");
    }
    request.answer(&mut state, &parameters)
}

enum Request {
    ListDatasets,
    ListTables(String),
    GetTable(String, String),
    Query(String, &'static str),
    Results(String),
}

impl Request {
    fn log_entry(&self, state: &State) -> String {
        match self {
            Request::ListDatasets => "datasets.list".to_string(),
            Request::ListTables(dataset) => format!("tables.list {dataset}"),
            Request::GetTable(dataset, table) => format!("tables.get {dataset}.{table}"),
            Request::Query(dataset, view) => format!("jobs.query {dataset} {view}"),
            Request::Results(job) => match state.jobs.get(job) {
                Some((label, _, _)) => format!("getQueryResults {label}"),
                None => format!("getQueryResults {job}"),
            },
        }
    }

    fn answer(self, state: &mut State, parameters: &HashMap<String, String>) -> Response {
        let project = state.project.clone();
        let offset: usize = parameters
            .get("pageToken")
            .and_then(|token| token.parse().ok())
            .unwrap_or(0);
        match self {
            Request::ListDatasets => {
                let mut body = json!({"kind": "bigquery#datasetList", "etag": "e1"});
                let datasets: Vec<Value> = state
                    .datasets
                    .keys()
                    .map(|dataset| {
                        json!({
                            "kind": "bigquery#dataset",
                            "id": format!("{project}:{dataset}"),
                            "datasetReference": {"datasetId": dataset, "projectId": project},
                            "location": state.datasets[dataset].location.as_deref().unwrap_or("US"),
                        })
                    })
                    .collect();
                // Like BigQuery, an empty project's reply has no `datasets` field.
                if !datasets.is_empty() {
                    body["datasets"] = Value::Array(datasets);
                }
                axum::Json(body).into_response()
            }
            Request::ListTables(dataset) => {
                let Some(found) = readable(state, &dataset) else {
                    return dataset_error(state, &project, &dataset);
                };
                let page_size = parameters
                    .get("maxResults")
                    .and_then(|value| value.parse::<usize>().ok())
                    .unwrap_or(50)
                    .min(1000);
                let all: Vec<Value> = found.tables.values().map(list_entry).collect();
                let page: Vec<Value> = all.iter().skip(offset).take(page_size).cloned().collect();
                let mut body = json!({
                    "kind": "bigquery#tableList",
                    "etag": "e1",
                    "totalItems": all.len(),
                });
                if !page.is_empty() {
                    body["tables"] = Value::Array(page);
                }
                if offset + page_size < all.len() {
                    body["nextPageToken"] = json!((offset + page_size).to_string());
                }
                axum::Json(body).into_response()
            }
            Request::GetTable(dataset, table) => {
                let Some(found) = readable(state, &dataset) else {
                    return dataset_error(state, &project, &dataset);
                };
                match found.tables.get(&table) {
                    Some(resource) => axum::Json(resource.clone()).into_response(),
                    None => google_error(
                        404,
                        "notFound",
                        &format!("Not found: Table {project}:{dataset}.{table}"),
                    ),
                }
            }
            Request::Query(dataset, view) => {
                let Some(found) = readable(state, &dataset) else {
                    return dataset_error(state, &project, &dataset);
                };
                let (schema, rows) = information_schema(found, view);
                let job = format!("job_{}", state.next_job);
                state.next_job += 1;
                state
                    .jobs
                    .insert(job.clone(), (format!("{dataset} {view}"), schema, rows));
                result_page(state, &job, 0, "bigquery#queryResponse")
            }
            Request::Results(job) => {
                if !state.jobs.contains_key(&job) {
                    return google_error(
                        404,
                        "notFound",
                        &format!("Not found: Job {project}:{job}"),
                    );
                }
                result_page(state, &job, offset, "bigquery#getQueryResultsResponse")
            }
        }
    }
}

fn readable<'a>(state: &'a State, dataset: &str) -> Option<&'a Dataset> {
    state.datasets.get(dataset).filter(|found| !found.forbidden)
}

fn dataset_error(state: &State, project: &str, dataset: &str) -> Response {
    if state.datasets.contains_key(dataset) {
        google_error(
            403,
            "accessDenied",
            &format!(
                "Access Denied: Dataset {project}:{dataset}: Permission bigquery.tables.list denied"
            ),
        )
    } else {
        google_error(
            404,
            "notFound",
            &format!("Not found: Dataset {project}:{dataset}"),
        )
    }
}

fn result_page(state: &State, job: &str, offset: usize, kind: &str) -> Response {
    let (_, schema, rows) = &state.jobs[job];
    let page: Vec<Value> = rows
        .iter()
        .skip(offset)
        .take(state.query_page_size)
        .cloned()
        .collect();
    let mut body = json!({
        "kind": kind,
        "schema": schema,
        "jobReference": {"projectId": state.project, "jobId": job, "location": "US"},
        "totalRows": rows.len().to_string(),
        "jobComplete": true,
        "cacheHit": false,
    });
    if !page.is_empty() {
        body["rows"] = Value::Array(page);
    }
    if offset + state.query_page_size < rows.len() {
        body["pageToken"] = json!((offset + state.query_page_size).to_string());
    }
    axum::Json(body).into_response()
}

/// Finds which of the driver's queries `sql` is, and for which dataset.
fn recognise(project: &str, sql: &str) -> Option<(String, &'static str)> {
    QUERIES.iter().find_map(|(view, template)| {
        let (before, after) = template.split_once("{dataset}")?;
        let path = sql.strip_prefix(before)?.strip_suffix(after)?;
        let dataset = path.strip_prefix(project)?.strip_prefix('.')?;
        (!dataset.is_empty() && !dataset.contains(['`', '.', ' ']))
            .then(|| (dataset.to_string(), *view))
    })
}

/// Builds the `tables.list` entry of a table resource: no schema, no description.
fn list_entry(resource: &Value) -> Value {
    let mut entry = json!({
        "kind": "bigquery#table",
        "id": resource["id"],
        "tableReference": resource["tableReference"],
        "type": resource.get("type").cloned().unwrap_or(json!("TABLE")),
        "creationTime": "1717200000000",
    });
    for key in ["timePartitioning", "rangePartitioning", "clustering"] {
        if let Some(value) = resource.get(key) {
            entry[key] = value.clone();
        }
    }
    if resource.get("view").is_some() {
        entry["view"] = json!({"useLegacySql": false});
    }
    entry
}

fn cell(value: Option<String>) -> Value {
    json!({"v": value})
}

fn row(values: Vec<Option<String>>) -> Value {
    json!({"f": values.into_iter().map(cell).collect::<Vec<_>>()})
}

fn schema(columns: &[(&str, &str)]) -> Value {
    let fields: Vec<Value> = columns
        .iter()
        .map(|(name, kind)| json!({"name": name, "type": kind, "mode": "NULLABLE"}))
        .collect();
    json!({"fields": fields})
}

/// Computes the rows of one INFORMATION_SCHEMA view of a dataset, in the
/// column order the driver's query selects.
fn information_schema(dataset: &Dataset, view: &str) -> (Value, Vec<Value>) {
    let mut rows = Vec::new();
    let fields_of = |resource: &Value| -> Vec<Value> {
        resource["schema"]["fields"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    match view {
        "COLUMNS" => {
            for (table, resource) in &dataset.tables {
                for (index, field) in fields_of(resource).iter().enumerate() {
                    rows.push(row(vec![
                        Some(table.clone()),
                        field["name"].as_str().map(str::to_string),
                        Some((index + 1).to_string()),
                        Some(
                            if mode(field) == "REQUIRED" {
                                "NO"
                            } else {
                                "YES"
                            }
                            .to_string(),
                        ),
                        Some(spelled_type(field)),
                        Some(
                            field["defaultValueExpression"]
                                .as_str()
                                .unwrap_or("NULL")
                                .to_string(),
                        ),
                    ]));
                }
            }
            (
                schema(&[
                    ("table_name", "STRING"),
                    ("column_name", "STRING"),
                    ("ordinal_position", "INTEGER"),
                    ("is_nullable", "STRING"),
                    ("data_type", "STRING"),
                    ("column_default", "STRING"),
                ]),
                rows,
            )
        }
        "COLUMN_FIELD_PATHS" => {
            fn walk(table: &str, prefix: &str, fields: &[Value], rows: &mut Vec<Value>) {
                for field in fields {
                    let name = field["name"].as_str().unwrap_or_default();
                    let path = if prefix.is_empty() {
                        name.to_string()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    if let Some(description) = field["description"].as_str() {
                        rows.push(row(vec![
                            Some(table.to_string()),
                            Some(path.clone()),
                            Some(description.to_string()),
                        ]));
                    }
                    if let Some(children) = field["fields"].as_array() {
                        walk(table, &path, children, rows);
                    }
                }
            }
            for (table, resource) in &dataset.tables {
                walk(table, "", &fields_of(resource), &mut rows);
            }
            (
                schema(&[
                    ("table_name", "STRING"),
                    ("field_path", "STRING"),
                    ("description", "STRING"),
                ]),
                rows,
            )
        }
        "TABLE_OPTIONS" => {
            for (table, resource) in &dataset.tables {
                if let Some(description) = resource["description"].as_str() {
                    rows.push(row(vec![
                        Some(table.clone()),
                        Some(string_literal(description)),
                    ]));
                }
            }
            (
                schema(&[("table_name", "STRING"), ("option_value", "STRING")]),
                rows,
            )
        }
        _ => {
            for (table, resource) in &dataset.tables {
                if let Some(query) = resource["view"]["query"].as_str() {
                    rows.push(row(vec![Some(table.clone()), Some(query.to_string())]));
                }
            }
            (
                schema(&[("table_name", "STRING"), ("view_definition", "STRING")]),
                rows,
            )
        }
    }
}

fn mode(field: &Value) -> &str {
    field["mode"].as_str().unwrap_or("NULLABLE")
}

/// Quotes a description as TABLE_OPTIONS shows it: a double-quoted string literal.
fn string_literal(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// Spells a REST schema field's type as INFORMATION_SCHEMA does: standard
/// names, parameters, `STRUCT<name TYPE [NOT NULL], ...>`, `ARRAY<...>` for
/// REPEATED.
pub(crate) fn spelled_type(field: &Value) -> String {
    let kind = field["type"].as_str().unwrap_or("STRING");
    let parameter = |key: &str| field[key].as_str().map(str::to_string);
    let base = match kind {
        "INTEGER" | "INT64" => "INT64".to_string(),
        "FLOAT" | "FLOAT64" => "FLOAT64".to_string(),
        "BOOLEAN" | "BOOL" => "BOOL".to_string(),
        "RECORD" | "STRUCT" => {
            let children: Vec<String> = field["fields"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|child| {
                    let name = child["name"].as_str().unwrap_or_default();
                    let required = if mode(child) == "REQUIRED" {
                        " NOT NULL"
                    } else {
                        ""
                    };
                    format!("{name} {}{required}", spelled_type(child))
                })
                .collect();
            format!("STRUCT<{}>", children.join(", "))
        }
        "STRING" | "BYTES" => match parameter("maxLength") {
            Some(length) => format!("{kind}({length})"),
            None => kind.to_string(),
        },
        "NUMERIC" | "BIGNUMERIC" => match (parameter("precision"), parameter("scale")) {
            (Some(precision), Some(scale)) => format!("{kind}({precision}, {scale})"),
            (Some(precision), None) => format!("{kind}({precision})"),
            _ => kind.to_string(),
        },
        other => other.to_string(),
    };
    if mode(field) == "REPEATED" {
        format!("ARRAY<{base}>")
    } else {
        base
    }
}
