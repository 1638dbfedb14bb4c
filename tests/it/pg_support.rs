//! A throwaway Postgres cluster for the tests, started once per test binary
//! from the installed server binaries, with a fresh database per test.
//!
//! `METACRAWL_TEST_PG_URL` (a superuser URL, for example
//! `postgres://postgres@127.0.0.1:5432/postgres`) uses an existing server
//! instead. Otherwise the binaries are looked up in `METACRAWL_TEST_PG_BIN`,
//! then `/usr/lib/postgresql/*/bin`, then `/usr/local/bin`. Postgres refuses to
//! run as root, so as root the cluster runs as the `postgres` user. A watchdog
//! process stops the cluster and removes its folder when the tests exit.
//!
//! The cluster serves TLS with a certificate for the name `localhost` signed
//! by a CA made for it (`Cluster::ca_file`), both made with `openssl`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) struct Cluster {
    /// Superuser URL without a database name at the end.
    base_url: String,
    /// CA certificate that signed the server's certificate; `None` for a
    /// server from `METACRAWL_TEST_PG_URL`.
    ca_file: Option<PathBuf>,
    bin_dir: Option<PathBuf>,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// Returns the shared cluster, starting it on first use.
pub(crate) fn cluster() -> &'static Cluster {
    match CLUSTER.get_or_init(start_cluster) {
        Ok(cluster) => cluster,
        Err(message) => panic!("cannot start a test Postgres cluster: {message}"),
    }
}

fn start_cluster() -> Result<Cluster, String> {
    if let Ok(url) = std::env::var("METACRAWL_TEST_PG_URL") {
        let base_url = url
            .rsplit_once('/')
            .map(|(base, _)| base.to_string())
            .ok_or_else(|| format!("METACRAWL_TEST_PG_URL '{url}' has no database part"))?;
        return Ok(Cluster {
            base_url,
            ca_file: None,
            bin_dir: None,
        });
    }

    let bin_dir = find_bin_dir().ok_or(
        "no initdb found; install PostgreSQL (apt-get install postgresql) or set METACRAWL_TEST_PG_BIN",
    )?;
    let as_root = run_output(Command::new("id").arg("-u"))?.trim() == "0";
    let folder = tempfile::Builder::new()
        .prefix("metacrawl-pg-")
        .tempdir()
        .map_err(|error| error.to_string())?
        .keep();
    set_mode(&folder, 0o777)?;
    let data = folder.join("data");
    let port = free_port()?;

    let server = |program: &str| {
        let binary = bin_dir.join(program);
        if as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(binary);
            command
        } else {
            Command::new(binary)
        }
    };
    run_output(server("initdb").arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-locale",
        "--no-sync",
    ]))?;
    let tls = folder.join("tls");
    make_certificates(&tls)?;
    if as_root {
        run_output(Command::new("chown").args(["-R", "postgres"]).arg(&tls))?;
    }
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c max_connections=200 \
         -c ssl=on -c ssl_cert_file={tls}/server.crt -c ssl_key_file={tls}/server.key",
        folder = folder.display(),
        tls = tls.display()
    );
    run_output(
        server("pg_ctl")
            .arg("-D")
            .arg(&data)
            .args(["-w", "-l"])
            .arg(folder.join("server.log"))
            .args(["-o", &options, "start"]),
    )?;

    // The watchdog outlives this process: it stops the cluster once the test
    // binary has exited, then removes the folder.
    let stop = format!(
        "{} {} -D {} -m immediate stop",
        if as_root {
            "runuser -u postgres --"
        } else {
            ""
        },
        bin_dir.join("pg_ctl").display(),
        data.display()
    );
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {folder}",
        pid = std::process::id(),
        folder = folder.display()
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start the cluster watchdog: {error}"))?;

    Ok(Cluster {
        base_url: format!("postgres://postgres@127.0.0.1:{port}"),
        ca_file: Some(tls.join("ca.crt")),
        bin_dir: Some(bin_dir),
    })
}

/// Makes a CA and a server certificate for `localhost` it signs, in `folder`.
fn make_certificates(folder: &Path) -> Result<(), String> {
    std::fs::create_dir_all(folder).map_err(|error| error.to_string())?;
    let openssl = |arguments: &[&str]| {
        run_output(Command::new("openssl").args(arguments).current_dir(folder))
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=metacrawl test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ])?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ])?;
    std::fs::write(folder.join("server.ext"), "subjectAltName=DNS:localhost\n")
        .map_err(|error| error.to_string())?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ])?;
    set_mode(&folder.join("server.key"), 0o600)
}

fn find_bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("METACRAWL_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .collect();
    candidates.sort();
    candidates.reverse();
    candidates.push(PathBuf::from("/usr/local/bin"));
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    let port = listener
        .local_addr()
        .map_err(|error| error.to_string())?
        .port();
    Ok(port)
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|error| format!("chmod {}: {error}", path.display()))
}

fn run_output(command: &mut Command) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|error| format!("cannot run {command:?}: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// A database created for one test.
pub(crate) struct PgDatabase {
    pub(crate) name: String,
}

static DATABASE_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Creates a fresh, empty database named after the test.
pub(crate) fn fresh_database(test_name: &str) -> PgDatabase {
    let cluster = cluster();
    let sanitized: String = test_name
        .to_ascii_lowercase()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() {
                character
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let name = format!(
        "mc_{sanitized}_{}_{}",
        std::process::id(),
        DATABASE_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    cluster.psql("postgres", &format!("DROP DATABASE IF EXISTS {name}"));
    cluster.psql("postgres", &format!("CREATE DATABASE {name}"));
    PgDatabase { name }
}

impl Cluster {
    /// Runs SQL in a database as the superuser; panics with psql's output on error.
    pub(crate) fn psql(&self, database: &str, sql: &str) -> String {
        let psql = match &self.bin_dir {
            Some(dir) => dir.join("psql"),
            None => PathBuf::from("psql"),
        };
        // Statements arrive on stdin (`-f -`), so each runs on its own, as
        // from a file: CREATE DATABASE cannot run inside a transaction.
        let mut child = Command::new(psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-f", "-", "-d"])
            .arg(format!("{}/{database}", self.base_url))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run psql");
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().expect("psql stdin");
            stdin.write_all(sql.as_bytes()).expect("write SQL to psql");
        }
        let output = child.wait_with_output().expect("wait for psql");
        assert!(
            output.status.success(),
            "psql failed on {database}: {}\n{sql}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Runs a SQL file in a database as the superuser, stopping at the first error.
    pub(crate) fn psql_file(&self, database: &str, file: &Path) {
        let psql = match &self.bin_dir {
            Some(dir) => dir.join("psql"),
            None => PathBuf::from("psql"),
        };
        let output = Command::new(psql)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-f"])
            .arg(file)
            .arg("-d")
            .arg(format!("{}/{database}", self.base_url))
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql failed on {} in {database}: {}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Returns the CA certificate of the cluster's TLS, when this test binary started it.
    pub(crate) fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Returns a URL for `role` (no password: the test cluster trusts local connections).
    pub(crate) fn url(&self, role: &str, database: &str) -> String {
        let host = self
            .base_url
            .split_once('@')
            .map(|(_, host)| host)
            .unwrap_or_default();
        format!("postgres://{role}@{host}/{database}")
    }
}

impl PgDatabase {
    /// Superuser URL of this database.
    pub(crate) fn url(&self) -> String {
        format!("{}/{}", cluster().base_url, self.name)
    }

    /// Runs SQL in this database as the superuser and returns psql's unaligned output.
    pub(crate) fn execute(&self, sql: &str) -> String {
        cluster().psql(&self.name, sql)
    }

    /// Runs a SQL file in this database as the superuser.
    pub(crate) fn execute_file(&self, path: &Path) {
        cluster().psql_file(&self.name, path);
    }
}
