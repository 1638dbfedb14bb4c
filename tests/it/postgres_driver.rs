//! The Postgres driver against a real server: catalog reading, stable ids,
//! permissions, and errors.

use crate::pg_support::{cluster, fresh_database};
use crate::support::{Workspace, describe_changes};
use metacrawl_engine::{EngineError, RefreshOptions, TableKind};

#[tokio::test]
async fn postgres_refresh_reads_tables_and_views() {
    let database = fresh_database("postgres_refresh_reads_tables_and_views");
    database.execute(
        "CREATE SCHEMA shop;
         CREATE TABLE shop.orders (
             order_id integer PRIMARY KEY,
             placed_at timestamptz NOT NULL DEFAULT now(),
             note varchar(200)
         );
         COMMENT ON TABLE shop.orders IS 'One row per order';
         COMMENT ON COLUMN shop.orders.note IS 'Free text';
         CREATE VIEW shop.recent AS SELECT order_id FROM shop.orders;",
    );
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine.add_connection("pg", &database.url(), None).unwrap();

    let report = engine
        .refresh("pg", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(report.snapshot.warnings, Vec::<String>::new());
    let (_, catalog) = engine.catalog("pg", None).unwrap().unwrap();
    assert_eq!(catalog.databases.len(), 1);
    assert_eq!(catalog.databases[0].name, database.name);
    let schemas: Vec<&str> = catalog.databases[0]
        .schemas
        .iter()
        .map(|schema| schema.name.as_str())
        .collect();
    assert_eq!(schemas, ["public", "shop"]);
    let orders = catalog.table(&database.name, "shop", "orders").unwrap();
    assert_eq!(orders.kind, TableKind::Table);
    assert_eq!(orders.comment.as_deref(), Some("One row per order"));
    let columns: Vec<(&str, &str, bool, Option<&str>, bool)> = orders
        .columns
        .iter()
        .map(|column| {
            (
                column.name.as_str(),
                column.data_type.as_str(),
                column.nullable,
                column.default.as_deref(),
                column.primary_key,
            )
        })
        .collect();
    assert_eq!(
        columns,
        [
            ("order_id", "integer", false, None, true),
            (
                "placed_at",
                "timestamp with time zone",
                false,
                Some("now()"),
                false
            ),
            ("note", "character varying(200)", true, None, false),
        ]
    );
    assert_eq!(orders.columns[2].comment.as_deref(), Some("Free text"));
    let recent = catalog.table(&database.name, "shop", "recent").unwrap();
    assert_eq!(recent.kind, TableKind::View);
    assert_eq!(
        recent.definition.as_deref(),
        Some(" SELECT orders.order_id\n   FROM shop.orders;")
    );

    let second = engine
        .refresh("pg", RefreshOptions::default(), None)
        .await
        .unwrap();
    assert_eq!(second.changes, vec![]);
}

#[tokio::test]
async fn postgres_renames_are_exact() {
    let database = fresh_database("postgres_renames_are_exact");
    database.execute("CREATE TABLE accounts (id integer, label text);");
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine.add_connection("pg", &database.url(), None).unwrap();
    engine
        .refresh("pg", RefreshOptions::default(), None)
        .await
        .unwrap();

    database.execute(
        "ALTER TABLE accounts RENAME TO ledgers; ALTER TABLE ledgers RENAME COLUMN label TO title;",
    );
    let report = engine
        .refresh("pg", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(
        describe_changes(&report.changes),
        [
            "table_renamed public.ledgers: accounts -> ledgers breaking",
            "column_renamed public.ledgers.title: label -> title breaking",
        ]
    );
}

#[tokio::test]
async fn postgres_bad_password_fails_clearly() {
    let database = fresh_database("postgres_bad_password_fails_clearly");
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    let url = cluster().url("no_such_role", &database.name);
    engine.add_connection("pg", &url, None).unwrap();

    let error = engine
        .refresh("pg", RefreshOptions::default(), None)
        .await
        .unwrap_err();

    assert!(matches!(error, EngineError::Driver { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!(
            "refresh of connection 'pg' failed: cannot connect to Postgres database '{}': role \"no_such_role\" does not exist",
            database.name
        )
    );
}

#[tokio::test]
async fn postgres_concurrent_drops_never_store_partial_tables() {
    let database = fresh_database("postgres_concurrent_drops");
    let create: String = (0..200)
        .map(|index| format!("CREATE TABLE churn_{index} (id integer NOT NULL, label text, amount numeric(10,2));"))
        .collect();
    database.execute(&create);
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine.add_connection("pg", &database.url(), None).unwrap();

    // Another session drops and recreates tables while the refreshes run.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = std::sync::Arc::clone(&stop);
        let name = database.name.clone();
        std::thread::spawn(move || {
            let mut round = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // One transaction per round: at any instant the database
                // holds all 200 tables, so every snapshot must show 200.
                let statements: String = (0..200)
                    .filter(|index| index % 7 == round % 7)
                    .map(|index| {
                        format!(
                            "DROP TABLE churn_{index}; CREATE TABLE churn_{index} \
                             (id integer NOT NULL, label text, amount numeric(10,2));"
                        )
                    })
                    .collect();
                cluster().psql(&name, &format!("BEGIN; {statements} COMMIT;"));
                round += 1;
            }
        })
    };

    let mut outcomes = Vec::new();
    for _ in 0..8 {
        outcomes.push(engine.refresh("pg", RefreshOptions::default(), None).await);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();

    for (index, outcome) in outcomes.iter().enumerate() {
        let report = match outcome {
            Ok(report) => report,
            Err(error) => panic!("refresh failed under concurrent DDL: {error}"),
        };
        // Recreated tables keep their names and columns: never a drop or an addition.
        if index > 0 {
            assert_eq!(describe_changes(&report.changes), Vec::<String>::new());
        }
    }
    for snapshot in engine.history("pg").unwrap() {
        let (_, catalog) = engine.catalog("pg", Some(snapshot.id)).unwrap().unwrap();
        let tables = &catalog.databases[0].schemas[0].tables;
        assert_eq!(tables.len(), 200, "snapshot {}", snapshot.id);
        for table in tables {
            assert_eq!(
                table.columns.len(),
                3,
                "snapshot {} table {}",
                snapshot.id,
                table.name
            );
        }
    }
}

#[test]
fn postgres_connection_via_cli() {
    let database = fresh_database("postgres_connection_via_cli");
    database.execute("CREATE TABLE visits (visit_id bigint PRIMARY KEY, path text NOT NULL);");
    let workspace = Workspace::new();
    let metacrawl = |arguments: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_metacrawl"))
            .arg("--store")
            .arg(workspace.store_path())
            .args(arguments)
            .output()
            .unwrap()
    };

    let added = metacrawl(&["connection", "add", "pg", "--url", &database.url()]);
    let refreshed = metacrawl(&["refresh", "pg", "--wait"]);

    assert_eq!(String::from_utf8_lossy(&added.stdout), "1\n");
    assert!(
        refreshed.status.success(),
        "{}",
        String::from_utf8_lossy(&refreshed.stderr)
    );
    let stdout = String::from_utf8_lossy(&refreshed.stdout);
    assert!(
        stdout.starts_with(
            "snapshot 1 of 'pg': 1 database, 1 schema, 1 table, 2 columns; 3 changes, 0 breaking\n"
        ),
        "{stdout}"
    );
}

#[tokio::test]
async fn postgres_sslmodes_check_what_libpq_checks() {
    let Some(ca_file) = cluster().ca_file() else {
        eprintln!("skipped: the server from METACRAWL_TEST_PG_URL has no TLS set up by the tests");
        return;
    };
    let database = fresh_database("postgres_sslmodes");
    database.execute("CREATE TABLE notes (id integer)");
    let workspace = Workspace::new();
    let other_ca = workspace.path("other-ca.crt");
    let generated = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=unrelated CA", "-keyout"])
        .arg(workspace.path("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .output()
        .unwrap();
    assert!(generated.status.success());
    let engine = workspace.engine(|_| {});
    let base = database.url();
    // The certificate names localhost; hostaddr keeps the connection on 127.0.0.1.
    let by_name = base.replacen("@127.0.0.1:", "@localhost:", 1) + "?hostaddr=127.0.0.1&";
    let by_address = format!("{base}?");
    let ca = ca_file.display().to_string();
    let other = other_ca.display().to_string();

    let cases = [
        ("require", format!("{by_address}sslmode=require"), None),
        (
            "verify_ca",
            format!("{by_address}sslmode=verify-ca&sslrootcert={ca}"),
            None,
        ),
        (
            "verify_full",
            format!("{by_name}sslmode=verify-full&sslrootcert={ca}"),
            None,
        ),
        (
            "wrong_name",
            format!("{by_address}sslmode=verify-full&sslrootcert={ca}"),
            Some("certificate not valid for name \"127.0.0.1\""),
        ),
        (
            "wrong_ca",
            format!("{by_address}sslmode=verify-ca&sslrootcert={other}"),
            Some("UnknownIssuer"),
        ),
    ];
    for (name, url, failure) in cases {
        engine.add_connection(name, &url, None).unwrap();
        let result = engine.refresh(name, RefreshOptions::default(), None).await;
        match failure {
            None => assert_eq!(result.unwrap().snapshot.counts.tables, 1, "{name}"),
            Some(cause) => {
                let message = result.unwrap_err().to_string();
                assert!(message.contains(cause), "{name}: {message}");
                assert!(
                    message.ends_with(
                        "; check sslmode and sslrootcert and the certificate the server presents"
                    ),
                    "{name}: {message}"
                );
            }
        }
    }
}
