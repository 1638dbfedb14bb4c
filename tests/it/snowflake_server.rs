//! A local server speaking Snowflake's session HTTP protocol on 127.0.0.1
//! (login-request, query-request, JSON row sets, Snowflake's error bodies),
//! serving a catalog held in memory with names exactly as stored, case
//! included.
//!
//! It runs only the driver's statements: the INFORMATION_SCHEMA queries (with
//! their schema and table-name filters), `SHOW DATABASES`, and paged
//! `SHOW TABLES` / `SHOW VIEWS`. Any other SQL is error 001003. It reproduces
//! two Snowflake limits: an INFORMATION_SCHEMA result above a set number of
//! rows is error 090030, and a SHOW command returning more than 10,000 rows
//! is error 090153.

use axum::Router;
use axum::body::Bytes;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

const SCHEMAS_SQL: &str = include_str!("../../drivers/src/snowflake/schemas.sql");
const TABLES_SQL: &str = include_str!("../../drivers/src/snowflake/tables.sql");
const VIEWS_SQL: &str = include_str!("../../drivers/src/snowflake/views.sql");
const COLUMNS_SQL: &str = include_str!("../../drivers/src/snowflake/columns.sql");

/// The password the server accepts.
pub(crate) const PASSWORD: &str = "local-test-password";

#[derive(Debug, Clone, Default)]
pub(crate) struct SfColumn {
    pub(crate) name: String,
    /// INFORMATION_SCHEMA spelling: NUMBER, TEXT, VARIANT, TIMESTAMP_NTZ.
    pub(crate) data_type: String,
    pub(crate) length: Option<u64>,
    pub(crate) precision: Option<u32>,
    pub(crate) scale: Option<u32>,
    pub(crate) datetime_precision: Option<u32>,
    pub(crate) nullable: bool,
    pub(crate) default: Option<String>,
    pub(crate) comment: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SfTable {
    /// BASE TABLE, VIEW, MATERIALIZED VIEW, EXTERNAL TABLE.
    pub(crate) table_type: String,
    pub(crate) comment: Option<String>,
    pub(crate) definition: Option<String>,
    pub(crate) last_altered: String,
    pub(crate) columns: Vec<SfColumn>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SfSchema {
    pub(crate) comment: Option<String>,
    pub(crate) tables: BTreeMap<String, SfTable>,
}

/// Databases, by exact name, holding schemas and tables by exact name.
pub(crate) type SfCatalog = BTreeMap<String, BTreeMap<String, SfSchema>>;

struct State {
    catalog: SfCatalog,
    /// INFORMATION_SCHEMA results above this many rows fail with 090030.
    information_schema_limit: usize,
    statements: Vec<String>,
}

pub(crate) struct SnowflakeServer {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SnowflakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SnowflakeServer {
    pub(crate) async fn start(catalog: SfCatalog) -> SnowflakeServer {
        let state = Arc::new(Mutex::new(State {
            catalog,
            information_schema_limit: usize::MAX,
            statements: Vec::new(),
        }));
        let shared = Arc::clone(&state);
        let app = Router::new().fallback(move |uri: Uri, body: Bytes| {
            let state = Arc::clone(&shared);
            async move { handle(&state, &uri, &body) }
        });
        let (port, task) = crate::support::serve_locally(app).await;
        SnowflakeServer { port, state, task }
    }

    /// Returns a connection URL for `database` with a credential option
    /// (`password_file=PATH` or `private_key_file=PATH`).
    pub(crate) fn connection_url(&self, database: &str, credential: &str) -> String {
        format!(
            "snowflake://crawler@localtest/{database}?{credential}&warehouse=WH&base_url=http://127.0.0.1:{}",
            self.port
        )
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn update(&self, change: impl FnOnce(&mut SfCatalog)) {
        change(&mut self.state.lock().unwrap().catalog);
    }

    pub(crate) fn set_information_schema_limit(&self, rows: usize) {
        self.state.lock().unwrap().information_schema_limit = rows;
    }

    /// Returns every statement received, in order.
    pub(crate) fn statements(&self) -> Vec<String> {
        self.state.lock().unwrap().statements.clone()
    }

    pub(crate) fn clear_statements(&self) {
        self.state.lock().unwrap().statements.clear();
    }
}

fn error(code: &str, message: &str) -> Response {
    axum::Json(json!({
        "success": false,
        "code": code,
        "message": message,
        "data": {
            "age": 0,
            "errorCode": code,
            "internalError": false,
            "queryId": "01b2c3d4-0000-0000-0000-000000000000",
            "sqlState": "42000",
        },
    }))
    .into_response()
}

fn handle(state: &Mutex<State>, uri: &Uri, body: &[u8]) -> Response {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    match uri.path() {
        "/session/v1/login-request" => {
            let key_pair = body["data"]["AUTHENTICATOR"].as_str() == Some("SNOWFLAKE_JWT")
                && jwt_subject(body["data"]["TOKEN"].as_str().unwrap_or_default()).as_deref()
                    == Some("LOCALTEST.CRAWLER");
            if !key_pair && body["data"]["PASSWORD"].as_str() != Some(PASSWORD) {
                return axum::Json(json!({
                    "success": false,
                    "code": "390100",
                    "message": "Incorrect username or password was specified.",
                    "data": {"authnMethod": "USERNAME_PASSWORD", "errorCode": "390100"},
                }))
                .into_response();
            }
            axum::Json(json!({
                "success": true,
                "message": null,
                "code": null,
                "data": {
                    "token": "session-token",
                    "masterToken": "master-token",
                    "validityInSeconds": 3600,
                    "masterValidityInSeconds": 14400,
                    "sessionId": 1,
                    "serverVersion": "9.0.0",
                    "parameters": [],
                    "sessionInfo": {"databaseName": null, "schemaName": null, "warehouseName": "WH", "roleName": "CRAWLER"},
                },
            }))
            .into_response()
        }
        "/queries/v1/query-request" => {
            let sql = body["sqlText"].as_str().unwrap_or_default().to_string();
            let mut state = state.lock().unwrap();
            state.statements.push(sql.clone());
            match run(&state, &sql) {
                Ok((names, rows)) => result(&names, rows),
                Err((code, message)) => error(code, &message),
            }
        }
        other => error("390400", &format!("unknown endpoint {other}")),
    }
}

/// Returns the `sub` claim of a JWT (the signature is not checked).
fn jwt_subject(token: &str) -> Option<String> {
    let bytes = crate::support::decode_base64(token.split('.').nth(1)?)?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims["sub"].as_str().map(str::to_string)
}

fn result(names: &[&str], rows: Vec<Vec<Option<String>>>) -> Response {
    let rowtype: Vec<Value> = names
        .iter()
        .map(|name| json!({"name": name, "type": "text", "nullable": true, "length": 16777216, "byteLength": 16777216, "scale": null, "precision": null}))
        .collect();
    axum::Json(json!({
        "success": true,
        "message": null,
        "code": null,
        "data": {
            "parameters": [],
            "rowtype": rowtype,
            "rowset": rows,
            "total": rows.len(),
            "returned": rows.len(),
            "queryId": "01b2c3d4-0000-0000-0000-000000000001",
            "finalRoleName": "CRAWLER",
            "statementTypeId": 4096,
            "version": 1,
        },
    }))
    .into_response()
}

type Outcome = Result<(Vec<&'static str>, Vec<Vec<Option<String>>>), (&'static str, String)>;

fn unrecognised(sql: &str) -> (&'static str, String) {
    (
        "001003",
        format!("SQL compilation error: unrecognised statement: {sql}"),
    )
}

/// Reads a double-quoted identifier at the start of `text`.
fn identifier(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('"')?;
    let mut name = String::new();
    loop {
        let end = rest.find('"')?;
        name.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.strip_prefix('"') {
            Some(after) => {
                name.push('"');
                rest = after;
            }
            None => return Some((name, rest)),
        }
    }
}

/// Reads a single-quoted literal at the start of `text`.
fn literal(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('\'')?;
    let mut value = String::new();
    loop {
        let position = rest.find(['\'', '\\'])?;
        value.push_str(&rest[..position]);
        let marker = &rest[position..];
        if let Some(after) = marker.strip_prefix("\\") {
            let next = after.chars().next()?;
            value.push(next);
            rest = &after[next.len_utf8()..];
        } else if let Some(after) = marker.strip_prefix("''") {
            value.push('\'');
            rest = after;
        } else {
            return Some((value, &marker[1..]));
        }
    }
}

/// Filters the driver adds to its INFORMATION_SCHEMA queries.
#[derive(Default)]
struct Filter {
    schema: Option<String>,
    tables: Option<Vec<String>>,
}

fn parse_filter(text: &str) -> Option<Filter> {
    let mut filter = Filter::default();
    let mut rest = text;
    if let Some(after) = rest.strip_prefix(" AND TABLE_SCHEMA = ") {
        let (schema, after) = literal(after)?;
        filter.schema = Some(schema);
        rest = after;
    }
    if let Some(after) = rest.strip_prefix(" AND TABLE_NAME IN (") {
        let mut names = Vec::new();
        let mut list = after;
        loop {
            let (name, after) = literal(list)?;
            names.push(name);
            if let Some(after) = after.strip_prefix(", ") {
                list = after;
            } else {
                rest = after.strip_prefix(')')?;
                break;
            }
        }
        filter.tables = Some(names);
    }
    rest.is_empty().then_some(filter)
}

/// Matches `sql` against a template with `{database}` and `{filter}`.
fn match_template(template: &str, sql: &str) -> Option<(String, Filter)> {
    let (before, after) = template.split_once("{database}")?;
    let (name, rest) = identifier(sql.strip_prefix(before)?)?;
    let (middle, end) = after.split_once("{filter}").unwrap_or((after, ""));
    let rest = rest.strip_prefix(middle)?;
    let filter_text = rest.strip_suffix(end)?;
    Some((name, parse_filter(filter_text)?))
}

fn text(value: impl ToString) -> Option<String> {
    Some(value.to_string())
}

fn run(state: &State, sql: &str) -> Outcome {
    if sql == "SHOW DATABASES" {
        let rows = state
            .catalog
            .keys()
            .map(|name| vec![text("2024-01-01 00:00:00.000 +0000"), text(name)])
            .collect();
        return Ok((vec!["created_on", "name"], rows));
    }
    if let Some(rest) = sql.strip_prefix("SHOW ") {
        return show(state, rest, sql);
    }
    // The column list may lack DATETIME_PRECISION (the driver's fallback for
    // servers without it); this server has it, so only the full text counts.
    let templates = [
        ("SCHEMATA", SCHEMAS_SQL),
        ("TABLES", TABLES_SQL),
        ("VIEWS", VIEWS_SQL),
        ("COLUMNS", COLUMNS_SQL),
    ];
    let Some((view, (database, filter))) = templates
        .iter()
        .find_map(|(view, template)| match_template(template, sql).map(|found| (*view, found)))
    else {
        return Err(unrecognised(sql));
    };

    let Some(schemas) = state.catalog.get(&database) else {
        return Err((
            "002003",
            format!(
                "SQL compilation error: Database '\"{database}\"' does not exist or not authorized."
            ),
        ));
    };
    let in_scope = |schema: &str, table: &str| {
        filter
            .schema
            .as_deref()
            .is_none_or(|wanted| wanted == schema)
            && filter
                .tables
                .as_ref()
                .is_none_or(|names| names.iter().any(|name| name == table))
    };
    let mut rows = Vec::new();
    let names: Vec<&'static str> = match view {
        "SCHEMATA" => {
            for (name, schema) in schemas {
                rows.push(vec![text(name), schema.comment.clone()]);
            }
            vec!["SCHEMA_NAME", "COMMENT"]
        }
        "TABLES" => {
            for (schema_name, schema) in schemas {
                for (name, table) in &schema.tables {
                    if in_scope(schema_name, name) {
                        rows.push(vec![
                            text(schema_name),
                            text(name),
                            text(&table.table_type),
                            text(if table.table_type == "BASE TABLE" {
                                "NO"
                            } else {
                                ""
                            }),
                            table.comment.clone(),
                            text(&table.last_altered),
                        ]);
                    }
                }
            }
            vec![
                "TABLE_SCHEMA",
                "TABLE_NAME",
                "TABLE_TYPE",
                "IS_TRANSIENT",
                "COMMENT",
                "LAST_ALTERED",
            ]
        }
        "VIEWS" => {
            for (schema_name, schema) in schemas {
                for (name, table) in &schema.tables {
                    if table.table_type == "VIEW" && in_scope(schema_name, name) {
                        rows.push(vec![
                            text(schema_name),
                            text(name),
                            table.definition.clone(),
                            table.comment.clone(),
                            text(&table.last_altered),
                        ]);
                    }
                }
            }
            vec![
                "TABLE_SCHEMA",
                "TABLE_NAME",
                "VIEW_DEFINITION",
                "COMMENT",
                "LAST_ALTERED",
            ]
        }
        _ => {
            for (schema_name, schema) in schemas {
                for (name, table) in &schema.tables {
                    if !in_scope(schema_name, name) {
                        continue;
                    }
                    for (index, column) in table.columns.iter().enumerate() {
                        rows.push(vec![
                            text(schema_name),
                            text(name),
                            text(&column.name),
                            text(index + 1),
                            text(&column.data_type),
                            column.length.map(|value| value.to_string()),
                            column.precision.map(|value| value.to_string()),
                            column.scale.map(|value| value.to_string()),
                            column.datetime_precision.map(|value| value.to_string()),
                            text(if column.nullable { "YES" } else { "NO" }),
                            column.default.clone(),
                            column.comment.clone(),
                            text("NO"),
                        ]);
                    }
                }
            }
            vec![
                "TABLE_SCHEMA",
                "TABLE_NAME",
                "COLUMN_NAME",
                "ORDINAL_POSITION",
                "DATA_TYPE",
                "CHARACTER_MAXIMUM_LENGTH",
                "NUMERIC_PRECISION",
                "NUMERIC_SCALE",
                "DATETIME_PRECISION",
                "IS_NULLABLE",
                "COLUMN_DEFAULT",
                "COMMENT",
                "IS_IDENTITY",
            ]
        }
    };

    if rows.len() > state.information_schema_limit {
        return Err((
            "090030",
            "Information schema query returned too much data. Please repeat query with more selective predicates."
                .to_string(),
        ));
    }
    Ok((names, rows))
}

/// Runs `SHOW TABLES|VIEWS IN SCHEMA "DB"."S" [LIMIT n [FROM 'name']]`.
fn show(state: &State, rest: &str, sql: &str) -> Outcome {
    let (views, rest) = if let Some(rest) = rest.strip_prefix("TABLES IN SCHEMA ") {
        (false, rest)
    } else if let Some(rest) = rest.strip_prefix("VIEWS IN SCHEMA ") {
        (true, rest)
    } else {
        return Err(unrecognised(sql));
    };
    let (database, rest) = identifier(rest).ok_or_else(|| unrecognised(sql))?;
    let rest = rest.strip_prefix('.').ok_or_else(|| unrecognised(sql))?;
    let (schema, rest) = identifier(rest).ok_or_else(|| unrecognised(sql))?;

    let (limit, from) = if rest.is_empty() {
        (None, None)
    } else {
        let rest = rest
            .strip_prefix(" LIMIT ")
            .ok_or_else(|| unrecognised(sql))?;
        let (number, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let limit: usize = number.parse().map_err(|_| unrecognised(sql))?;
        let from = if rest.is_empty() {
            None
        } else {
            let (name, after) = literal(
                rest.strip_prefix("FROM ")
                    .ok_or_else(|| unrecognised(sql))?,
            )
            .ok_or_else(|| unrecognised(sql))?;
            if !after.is_empty() {
                return Err(unrecognised(sql));
            }
            Some(name)
        };
        (Some(limit), from)
    };

    let found = state
        .catalog
        .get(&database)
        .and_then(|schemas| schemas.get(&schema))
        .ok_or_else(|| {
            (
                "002003",
                format!("SQL compilation error: Schema '\"{database}\".\"{schema}\"' does not exist or not authorized."),
            )
        })?;

    // Names are in order, and FROM starts after the given name.
    let selected: Vec<(&String, &SfTable)> = found
        .tables
        .iter()
        .filter(|(_, table)| (table.table_type == "VIEW") == views)
        .filter(|(name, _)| {
            from.as_ref()
                .is_none_or(|from| name.as_str() > from.as_str())
        })
        .collect();
    let page: Vec<_> = selected.iter().take(limit.unwrap_or(usize::MAX)).collect();
    if page.len() > 10_000 {
        return Err((
            "090153",
            "The result set size exceeded the max number of rows(10000) supported for SHOW statements. Use LIMIT option to limit result set to a smaller number."
                .to_string(),
        ));
    }

    let rows = page
        .iter()
        .map(|(name, table)| {
            let mut row = vec![
                text("2024-01-01 00:00:00.000 +0000"),
                text(name),
                text(&database),
                text(&schema),
                text(if views { "" } else { "TABLE" }),
                table.comment.clone().or(text("")),
            ];
            if views {
                row.push(table.definition.clone());
                row.push(text("false"));
            }
            row
        })
        .collect();
    let names = if views {
        vec![
            "created_on",
            "name",
            "database_name",
            "schema_name",
            "kind",
            "comment",
            "text",
            "is_materialized",
        ]
    } else {
        vec![
            "created_on",
            "name",
            "database_name",
            "schema_name",
            "kind",
            "comment",
        ]
    };
    Ok((names, rows))
}
