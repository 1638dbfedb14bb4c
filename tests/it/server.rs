//! `metacrawl serve` over real HTTP on 127.0.0.1: the hosted API's request
//! shapes, job run states, error codes, authorization and restarts.

use crate::support::{MUSIC_SETUP, Workspace};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// HS256 secret of the test servers (at least 32 bytes).
const SECRET: &str = "metacrawl-test-secret-0123456789abcdef";

const REFRESH: &str = "mutation RefreshConnection($id: ID!) { connectionRefresh(id: $id) }";
const STATUS: &str = "query Status($id: ID!) { connection(id: $id) { id details { name dataSourceType connectionType dialect } status { lastRun { jobRunId jobId jobType userId status startedAt endedAt summary conciseErrorMessage createdAt } lastSuccessfulRun { jobRunId status } } createdAt } }";

fn metacrawl(workspace: &Workspace) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metacrawl"));
    command
        .arg("--store")
        .arg(workspace.store_path())
        .current_dir(workspace.dir.path())
        .env("METACRAWL_JWT_SECRET", SECRET)
        .env_remove("METACRAWL_STORE")
        .env_remove("METACRAWL_CONFIG");
    command
}

/// Runs a CLI command on the workspace's store and returns its stdout.
pub(crate) fn cli(workspace: &Workspace, arguments: &[&str]) -> String {
    let output = metacrawl(workspace).args(arguments).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A `metacrawl serve` process on free ports, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) endpoint: String,
    /// `http://HOST:PORT` of the gRPC server.
    pub(crate) grpc: String,
}

impl Server {
    pub(crate) fn start(workspace: &Workspace) -> Server {
        let mut child = metacrawl(workspace)
            .args([
                "serve",
                "--graphql-addr",
                "127.0.0.1:0",
                "--grpc-addr",
                "127.0.0.1:0",
            ])
            .env("METACRAWL_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut endpoint = None;
        let mut grpc = None;
        while endpoint.is_none() || grpc.is_none() {
            let line = lines
                .next()
                .expect("the server exited before listening")
                .unwrap();
            if let Some(url) = line.strip_prefix("metacrawl serving GraphQL on ") {
                endpoint = Some(url.to_string());
            }
            if let Some(address) = line.strip_prefix("metacrawl serving gRPC on ") {
                grpc = Some(format!("http://{address}"));
            }
        }
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            endpoint: endpoint.unwrap(),
            grpc: grpc.unwrap(),
        }
    }

    /// Kills the server at once, as a crash would.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn post(&self, body: Value, token: Option<&str>) -> Value {
        post(&self.endpoint, body, token).await
    }

    async fn refresh(&self, id: &str, token: &str) -> Value {
        self.post(
            json!({"query": REFRESH, "variables": {"id": id}}),
            Some(token),
        )
        .await
    }

    async fn status(&self, id: &str, token: &str) -> Value {
        self.post(
            json!({"query": STATUS, "variables": {"id": id}}),
            Some(token),
        )
        .await
    }

    /// Polls the connection until its last run is finished; returns every
    /// status seen and the final response.
    async fn wait_for_end(&self, id: &str, token: &str) -> (Vec<String>, Value) {
        let mut seen = Vec::new();
        for _ in 0..200 {
            let response = self.status(id, token).await;
            let status = response["data"]["connection"]["status"]["lastRun"]["status"]
                .as_str()
                .unwrap_or("none")
                .to_string();
            if seen.last() != Some(&status) {
                seen.push(status.clone());
            }
            if status == "JOB_RUN_STATUS_SUCCESS" || status == "JOB_RUN_STATUS_FAILED" {
                return (seen, response);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job run did not finish; statuses seen: {seen:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a GraphQL request body, with a bearer token when given.
async fn post(endpoint: &str, body: Value, token: Option<&str>) -> Value {
    let client = reqwest::Client::new();
    let mut request = client
        .post(endpoint)
        .header("Content-Type", "application/json")
        .json(&body);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    request.send().await.unwrap().json().await.unwrap()
}

/// Encodes bytes as unpadded base64url, as JWT segments are.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let value = chunk.iter().enumerate().fold(0u32, |value, (index, byte)| {
            value | (u32::from(*byte) << (16 - 8 * index))
        });
        for position in 0..=chunk.len() {
            encoded.push(ALPHABET[((value >> (18 - 6 * position)) & 63) as usize] as char);
        }
    }
    encoded
}

pub(crate) fn token(workspace: &Workspace, subject: &str, admin: bool) -> String {
    let mut arguments = vec!["token", "--sub", subject];
    if admin {
        arguments.push("--admin");
    }
    cli(workspace, &arguments)
}

fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

/// Returns a TCP port that accepts connections and never replies: a warehouse
/// that hangs, and the task keeping it open.
pub(crate) async fn hanging_port() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (port, task)
}

fn count_job_runs(workspace: &Workspace) -> i64 {
    let connection = rusqlite::Connection::open(workspace.store_path()).unwrap();
    connection
        .query_row("SELECT count(*) FROM job_runs", [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn refresh_over_http_reaches_success() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let id = cli(&workspace, &["connection", "add", "music", "--url", &url]);
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);

    let response = server.refresh(&id, &admin).await;
    let (seen, status) = server.wait_for_end(&id, &admin).await;

    assert_eq!(response, json!({"data": {"connectionRefresh": true}}));
    assert_eq!(
        seen.last().map(String::as_str),
        Some("JOB_RUN_STATUS_SUCCESS")
    );
    let connection = &status["data"]["connection"];
    assert_eq!(connection["id"], json!(id));
    assert_eq!(
        connection["details"],
        json!({"name": "music", "dataSourceType": "WAREHOUSE", "connectionType": "SQLITE", "dialect": "sqlite"})
    );
    let run = &connection["status"]["lastRun"];
    assert_eq!(run["jobType"], json!("CRAWL_METADATA"));
    assert_eq!(run["userId"], json!("alice"));
    assert_eq!(run["jobId"], json!(id));
    assert_eq!(run["summary"], json!("15 changes, 0 breaking"));
    assert_eq!(run["conciseErrorMessage"], Value::Null);
    let created = run["createdAt"].as_str().unwrap();
    let started = run["startedAt"].as_str().unwrap();
    let ended = run["endedAt"].as_str().unwrap();
    assert!(
        created <= started && started <= ended,
        "{created} {started} {ended}"
    );
    assert_eq!(
        connection["status"]["lastSuccessfulRun"]["jobRunId"],
        run["jobRunId"]
    );
}

#[tokio::test]
async fn concurrent_triggers_start_one_job() {
    let workspace = Workspace::new();
    let (port, hang) = hanging_port().await;
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/sales");
    let id = cli(&workspace, &["connection", "add", "slow", "--url", &url]);
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);

    let mut tasks = Vec::new();
    for _ in 0..200 {
        let endpoint = server.endpoint.clone();
        let body = json!({"query": REFRESH, "variables": {"id": id}});
        let admin = admin.clone();
        tasks.push(tokio::spawn(async move {
            post(&endpoint, body, Some(&admin)).await
        }));
    }
    let mut responses = Vec::new();
    for task in tasks {
        responses.push(task.await.unwrap());
    }

    let started = responses
        .iter()
        .filter(|response| response["data"]["connectionRefresh"] == json!(true))
        .count();
    let in_progress = responses
        .iter()
        .filter(|response| error_code(response) == "REFRESH_IN_PROGRESS")
        .count();
    assert_eq!(started, 1);
    assert_eq!(in_progress, 199);
    assert_eq!(count_job_runs(&workspace), 1);
    let message = responses
        .iter()
        .find(|response| error_code(response) == "REFRESH_IN_PROGRESS")
        .unwrap()["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("refresh already running for connection 'slow' (job run "),
        "{message}"
    );
    assert_eq!(server.refresh(&id, &admin).await["data"], Value::Null);
    hang.abort();
}

#[tokio::test]
async fn tokens_are_checked() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let id = cli(&workspace, &["connection", "add", "music", "--url", &url]);
    let server = Server::start(&workspace);
    let body = json!({"query": REFRESH, "variables": {"id": id}});

    let header = |value: &Value| base64_url(value.to_string().as_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": "mallory", "exp": now + 600, "roles": ["ADMIN"]});
    let unsigned = format!(
        "{}.{}.",
        header(&json!({"alg": "none", "typ": "JWT"})),
        header(&claims)
    );
    let wrong_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-0123456789abcdef-0000").unwrap(),
    )
    .unwrap();
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": "alice", "exp": now - 120, "roles": ["ADMIN"]}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap();

    for (case, token) in [
        ("missing", None),
        ("alg none", Some(unsigned.as_str())),
        ("wrong key", Some(wrong_key.as_str())),
        ("expired", Some(expired.as_str())),
        ("garbage", Some("not-a-jwt")),
    ] {
        let response = server.post(body.clone(), token).await;
        assert_eq!(
            error_code(&response),
            "UNAUTHENTICATED",
            "{case}: {response}"
        );
        assert_eq!(response["data"], Value::Null, "{case}");
    }
    assert_eq!(count_job_runs(&workspace), 0);
}

#[tokio::test]
async fn grants_limit_connections() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let first = cli(&workspace, &["connection", "add", "first", "--url", &url]);
    let second = cli(&workspace, &["connection", "add", "second", "--url", &url]);
    cli(
        &workspace,
        &["connection", "grant", "first", "--subject", "bob"],
    );
    let server = Server::start(&workspace);
    let bob = token(&workspace, "bob", false);
    let carol = token(&workspace, "carol", false);

    let own = server.refresh(&first, &bob).await;
    let other = server.refresh(&second, &bob).await;
    let stranger = server.refresh(&first, &carol).await;
    let unknown = server.refresh("999", &bob).await;
    let malformed = server.refresh("first", &bob).await;
    let read_other = server.status(&second, &bob).await;

    assert_eq!(own, json!({"data": {"connectionRefresh": true}}));
    assert_eq!(error_code(&other), "FORBIDDEN");
    assert_eq!(
        other["errors"][0]["message"],
        json!(
            "'bob' may not refresh connection 'second'; an administrator can grant data administration of it"
        )
    );
    assert_eq!(error_code(&stranger), "FORBIDDEN");
    assert_eq!(error_code(&unknown), "NOT_FOUND");
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT");
    assert_eq!(error_code(&read_other), "FORBIDDEN");
    let (seen, _) = server.wait_for_end(&first, &bob).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some("JOB_RUN_STATUS_SUCCESS")
    );
}

#[tokio::test]
async fn failing_warehouse_fails_job_run() {
    let workspace = Workspace::new();
    // Nothing listens on port 9 (discard) of the loopback interface here.
    let url = "postgres://app:hunter2@127.0.0.1:9/sales";
    let id = cli(&workspace, &["connection", "add", "down", "--url", url]);
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);

    assert_eq!(
        server.refresh(&id, &admin).await,
        json!({"data": {"connectionRefresh": true}})
    );
    let (_, status) = server.wait_for_end(&id, &admin).await;
    let run = &status["data"]["connection"]["status"]["lastRun"];
    let message = run["conciseErrorMessage"].as_str().unwrap();

    assert_eq!(run["status"], json!("JOB_RUN_STATUS_FAILED"));
    assert!(
        message.starts_with(
            "refresh of connection 'down' failed: cannot connect to Postgres database 'sales' at 127.0.0.1:"
        ),
        "{message}"
    );
    assert!(
        message.ends_with("; check the host and port and that the server accepts connections"),
        "{message}"
    );
    assert!(!message.contains("hunter2"), "{message}");
    assert_eq!(
        status["data"]["connection"]["status"]["lastSuccessfulRun"],
        Value::Null
    );
    assert_eq!(
        server.refresh(&id, &admin).await,
        json!({"data": {"connectionRefresh": true}})
    );
}

#[tokio::test]
async fn restart_fails_interrupted_job_run() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let music = cli(&workspace, &["connection", "add", "music", "--url", &url]);
    let (port, hang) = hanging_port().await;
    let slow_url = format!("postgres://app@127.0.0.1:{port}/sales");
    let slow = cli(
        &workspace,
        &["connection", "add", "slow", "--url", &slow_url],
    );
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    server.refresh(&music, &admin).await;
    server.wait_for_end(&music, &admin).await;

    server.refresh(&slow, &admin).await;
    for _ in 0..100 {
        let status = server.status(&slow, &admin).await;
        if status["data"]["connection"]["status"]["lastRun"]["status"]
            == json!("JOB_RUN_STATUS_RUNNING")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    hang.abort();
    let restarted = Server::start(&workspace);
    let status = restarted.status(&slow, &admin).await;
    let run = &status["data"]["connection"]["status"]["lastRun"];

    assert_eq!(run["status"], json!("JOB_RUN_STATUS_FAILED"));
    assert!(
        run["conciseErrorMessage"]
            .as_str()
            .unwrap()
            .starts_with("interrupted by restart: the process running it ("),
        "{run}"
    );
    let music_status = restarted.status(&music, &admin).await;
    assert_eq!(
        music_status["data"]["connection"]["status"]["lastSuccessfulRun"]["status"],
        json!("JOB_RUN_STATUS_SUCCESS")
    );
    assert_eq!(
        restarted.refresh(&slow, &admin).await,
        json!({"data": {"connectionRefresh": true}})
    );
}

#[tokio::test]
async fn oversized_and_deep_queries_are_rejected() {
    let workspace = Workspace::new();
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);

    let malformed = "query { connections { id }".to_string();
    let nested = "query { connections { status { lastRun { progress { phase } } } } }".to_string();
    let too_deep = format!(
        "query {{ {}id{} }}",
        "connections { ".repeat(12),
        " }".repeat(12)
    );
    let oversized = format!("query {{ connections {{ id }} }} # {}", "x".repeat(20_000));

    let ok = server.post(json!({"query": nested}), Some(&admin)).await;
    let rejected_deep = server.post(json!({"query": too_deep}), Some(&admin)).await;
    let rejected_size = server.post(json!({"query": oversized}), Some(&admin)).await;
    let malformed = server.post(json!({"query": malformed}), Some(&admin)).await;

    assert_eq!(ok, json!({"data": {"connections": []}}));
    assert_eq!(
        error_code(&rejected_deep),
        "BAD_USER_INPUT",
        "{rejected_deep}"
    );
    assert_eq!(
        error_code(&rejected_size),
        "BAD_USER_INPUT",
        "{rejected_size}"
    );
    assert_eq!(
        rejected_size["errors"][0]["message"],
        json!("the query is 20031 bytes long; the limit is 16384")
    );
    assert_eq!(error_code(&malformed), "BAD_USER_INPUT", "{malformed}");
}

#[tokio::test]
async fn health_and_metrics_respond() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let id = cli(&workspace, &["connection", "add", "music", "--url", &url]);
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    server.refresh(&id, &admin).await;
    server.wait_for_end(&id, &admin).await;
    let base = server.endpoint.trim_end_matches("/graphql").to_string();

    let health = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert_eq!(health, "ok\n");
    assert!(
        metrics.contains("metacrawl_job_runs{status=\"SUCCESS\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("metacrawl_refresh_duration_seconds_count 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("metacrawl_catalog_tables 13\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("metacrawl_catalog_columns 55\n"),
        "{metrics}"
    );
    assert!(metrics.contains("metacrawl_changes 15\n"), "{metrics}");
}

#[tokio::test]
async fn extras_show_snapshots_changes_and_catalog() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    let bob = token(&workspace, "bob", false);

    let created = server
        .post(
            json!({"query": "mutation($url: String!) { createConnection(name: \"music\", url: $url, description: \"store\") { id details { name description } } }", "variables": {"url": url}}),
            Some(&admin),
        )
        .await;
    let id = created["data"]["createConnection"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let denied = server
        .post(json!({"query": "mutation { createConnection(name: \"other\", url: \"sqlite://x\") { id } }"}), Some(&bob))
        .await;
    let granted = server
        .post(
            json!({"query": "mutation($id: ID!) { grantDataAdministrator(connectionId: $id, subject: \"bob\") }", "variables": {"id": id}}),
            Some(&admin),
        )
        .await;
    server.refresh(&id, &bob).await;
    server.wait_for_end(&id, &bob).await;
    crate::support::execute(
        &workspace.path("warehouse.db"),
        "ALTER TABLE artists ADD COLUMN country TEXT;",
    );
    server.refresh(&id, &bob).await;
    server.wait_for_end(&id, &bob).await;
    let extras = server
        .post(
            json!({"query": "query($id: ID!) { snapshots(connectionId: $id) { id tables columns changeCount } changes(connectionId: $id, after: \"1\") { snapshotId kind table column after breaking } catalog(connectionId: $id, snapshotId: \"1\") { name schemas { name tables { name kind } } } }", "variables": {"id": id}}),
            Some(&bob),
        )
        .await;

    assert_eq!(
        created["data"]["createConnection"]["details"],
        json!({"name": "music", "description": "store"})
    );
    assert_eq!(error_code(&denied), "FORBIDDEN");
    assert_eq!(granted, json!({"data": {"grantDataAdministrator": true}}));
    let data = &extras["data"];
    assert_eq!(
        data["snapshots"],
        json!([
            {"id": "1", "tables": 13, "columns": 55, "changeCount": 15},
            {"id": "2", "tables": 13, "columns": 56, "changeCount": 1},
        ])
    );
    assert_eq!(
        data["changes"],
        json!([{"snapshotId": "2", "kind": "column_added", "table": "artists", "column": "country", "after": "TEXT", "breaking": false}])
    );
    let tables = data["catalog"][0]["schemas"][0]["tables"]
        .as_array()
        .unwrap();
    assert_eq!(tables.len(), 13);
    assert_eq!(
        tables[0],
        json!({"name": "album_track_counts", "kind": "view"})
    );
}

#[tokio::test]
async fn config_declares_connections() {
    let workspace = Workspace::new();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    std::fs::write(
        workspace.path("metacrawl.toml"),
        format!(
            "[server]\nconcurrency = 2\n\n[[connections]]\nname = \"music\"\nurl = \"{url}\"\ndescription = \"declared\"\ndata_administrators = [\"bob\"]\n"
        ),
    )
    .unwrap();
    let server = Server::start(&workspace);
    let bob = token(&workspace, "bob", false);

    let listed = server
        .post(
            json!({"query": "{ connections { id details { name description } } }"}),
            Some(&bob),
        )
        .await;

    assert_eq!(
        listed,
        json!({"data": {"connections": [{"id": "1", "details": {"name": "music", "description": "declared"}}]}})
    );
    assert_eq!(
        server.refresh("1", &bob).await,
        json!({"data": {"connectionRefresh": true}})
    );
}

#[tokio::test]
async fn rs256_rejects_algorithm_confusion() {
    let workspace = Workspace::new();
    let private_key = workspace.path("private.pem");
    let public_key = workspace.path("public.pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&private_key)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let status = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&private_key)
        .arg("-out")
        .arg(&public_key)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(
        workspace.path("metacrawl.toml"),
        format!(
            "[auth]\nalgorithm = \"RS256\"\npublic_key_file = \"{}\"\n",
            public_key.display()
        ),
    )
    .unwrap();
    let url = workspace.sqlite_warehouse(MUSIC_SETUP);
    let id = cli(&workspace, &["connection", "add", "music", "--url", &url]);
    let server = Server::start(&workspace);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"sub": "alice", "exp": now + 600, "roles": ["ADMIN"]});
    let private_pem = std::fs::read(&private_key).unwrap();
    let public_pem = std::fs::read(&public_key).unwrap();
    let signed = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(&private_pem).unwrap(),
    )
    .unwrap();
    // The public key used as an HMAC secret: the classic confusion attack.
    let confused = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&public_pem).unwrap(),
    )
    .unwrap();

    let accepted = server.refresh(&id, &signed).await;
    let rejected = server.refresh(&id, &confused).await;

    assert_eq!(accepted, json!({"data": {"connectionRefresh": true}}));
    assert_eq!(error_code(&rejected), "UNAUTHENTICATED", "{rejected}");
}

#[test]
fn api_docs_show_current_schema() {
    let output = Command::new(env!("CARGO_BIN_EXE_metacrawl"))
        .arg("graphql-schema")
        .output()
        .unwrap();
    let sdl = String::from_utf8(output.stdout).unwrap();
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();

    let documented = docs
        .split("```graphql\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .unwrap();
    assert_eq!(documented, sdl.trim_end());
}

#[tokio::test]
async fn shutdown_marks_running_job_interrupted() {
    let workspace = Workspace::new();
    std::fs::write(
        workspace.path("metacrawl.toml"),
        "[server]\nshutdown_grace_secs = 1\n",
    )
    .unwrap();
    let (port, hang) = hanging_port().await;
    let url = format!("postgres://app@127.0.0.1:{port}/sales");
    let id = cli(&workspace, &["connection", "add", "slow", "--url", &url]);
    let mut server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);
    server.refresh(&id, &admin).await;
    for _ in 0..100 {
        let status = server.status(&id, &admin).await;
        if status["data"]["connection"]["status"]["lastRun"]["status"]
            == json!("JOB_RUN_STATUS_RUNNING")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let terminated = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    let exit = server.child.wait().unwrap();
    hang.abort();

    assert!(terminated.success());
    assert!(exit.success(), "{exit:?}");
    let connection = rusqlite::Connection::open(workspace.store_path()).unwrap();
    let (status, error): (String, String) = connection
        .query_row("SELECT status, error FROM job_runs", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(status, "FAILED");
    assert_eq!(error, "interrupted by shutdown before it finished");
}

#[tokio::test]
async fn unknown_role_fails_without_secret() {
    let database = crate::pg_support::fresh_database("unknown_role_fails_without_secret");
    let workspace = Workspace::new();
    let url = crate::pg_support::cluster()
        .url("ghost", &database.name)
        .replace("ghost@", "ghost:hunter2@");
    let id = cli(&workspace, &["connection", "add", "ghost", "--url", &url]);
    let server = Server::start(&workspace);
    let admin = token(&workspace, "alice", true);

    server.refresh(&id, &admin).await;
    let (_, status) = server.wait_for_end(&id, &admin).await;
    let message = status["data"]["connection"]["status"]["lastRun"]["conciseErrorMessage"]
        .as_str()
        .unwrap()
        .to_string();

    assert_eq!(
        message,
        format!(
            "refresh of connection 'ghost' failed: cannot connect to Postgres database '{}': role \"ghost\" does not exist",
            database.name
        )
    );
    assert_eq!(
        server.refresh(&id, &admin).await,
        json!({"data": {"connectionRefresh": true}})
    );
}
