//! Real public schemas loaded into Postgres and crawled: object and column
//! counts equal what pg_catalog holds after each load, and a second refresh
//! reports no change.
//!
//! The schema files are read from `METACRAWL_CORPUS_DIR`; without it these
//! tests print that they were skipped.

use crate::pg_support::{cluster, fresh_database};
use crate::support::{Workspace, describe_changes};
use metacrawl_engine::{Catalog, RefreshOptions, TableKind};
use std::path::PathBuf;

/// Object and column counts of a loaded schema, as pg_catalog reports them:
/// `tables` are plain tables (relkind `r`, partitions excluded), `table_columns`
/// the columns of plain and partitioned tables, `view_columns` those of views
/// and materialized views.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    tables: usize,
    partitioned_tables: usize,
    partitions: usize,
    views: usize,
    materialized_views: usize,
    table_columns: usize,
    view_columns: usize,
}

fn count(catalog: &Catalog) -> Counts {
    let mut counts = Counts::default();
    for table in catalog
        .databases
        .iter()
        .flat_map(|database| &database.schemas)
        .flat_map(|schema| &schema.tables)
    {
        match table.kind {
            TableKind::Table => {
                counts.tables += 1;
                counts.table_columns += table.columns.len();
            }
            TableKind::PartitionedTable => {
                counts.partitioned_tables += 1;
                counts.table_columns += table.columns.len();
            }
            TableKind::Partition => counts.partitions += 1,
            TableKind::View => {
                counts.views += 1;
                counts.view_columns += table.columns.len();
            }
            TableKind::MaterializedView => {
                counts.materialized_views += 1;
                counts.view_columns += table.columns.len();
            }
            TableKind::ForeignTable | TableKind::ExternalTable | TableKind::Snapshot => {}
        }
    }
    counts
}

fn corpus_dir() -> Option<PathBuf> {
    match std::env::var("METACRAWL_CORPUS_DIR") {
        Ok(dir) => Some(PathBuf::from(dir)),
        Err(_) => {
            eprintln!(
                "skipped: METACRAWL_CORPUS_DIR is not set, so the corpus schemas cannot be read"
            );
            None
        }
    }
}

/// Loads `files` (relative to the corpus folder) into a fresh database,
/// refreshes twice, and checks the counts and the empty second change list.
async fn crawl_corpus(test_name: &str, files: &[&str], expected: Counts) {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let database = fresh_database(test_name);
    for file in files {
        cluster().psql_file(&database.name, &corpus.join(file));
    }
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine
        .add_connection("corpus", &database.url(), None)
        .unwrap();

    let first = engine
        .refresh("corpus", RefreshOptions::default(), None)
        .await
        .unwrap();
    let (_, catalog) = engine.catalog("corpus", None).unwrap().unwrap();
    let second = engine
        .refresh("corpus", RefreshOptions::default(), None)
        .await
        .unwrap();

    assert_eq!(first.snapshot.warnings, Vec::<String>::new());
    assert_eq!(count(&catalog), expected);
    assert_eq!(describe_changes(&second.changes), Vec::<String>::new());
}

#[tokio::test]
async fn corpus_pagila_2022_counts_match() {
    let expected = Counts {
        tables: 14,
        partitioned_tables: 1,
        partitions: 7,
        views: 7,
        materialized_views: 1,
        table_columns: 87,
        view_columns: 44,
    };
    crawl_corpus(
        "corpus_pagila_2022",
        &["pagila/pagila-schema-2022-12.sql"],
        expected,
    )
    .await;
}

#[tokio::test]
async fn corpus_pagila_2026_counts_match() {
    let expected = Counts {
        tables: 14,
        partitioned_tables: 1,
        partitions: 55,
        views: 7,
        materialized_views: 1,
        table_columns: 87,
        view_columns: 44,
    };
    crawl_corpus(
        "corpus_pagila_2026",
        &["pagila/pagila-schema-2026-07.sql"],
        expected,
    )
    .await;
}

#[tokio::test]
async fn corpus_chinook_counts_match() {
    let expected = Counts {
        tables: 11,
        table_columns: 64,
        ..Counts::default()
    };
    crawl_corpus("corpus_chinook", &["chinook/chinook-schema.sql"], expected).await;
}

#[tokio::test]
async fn corpus_northwind_counts_match() {
    let expected = Counts {
        tables: 14,
        table_columns: 92,
        ..Counts::default()
    };
    crawl_corpus(
        "corpus_northwind",
        &["northwind/northwind-schema.sql"],
        expected,
    )
    .await;
}

#[tokio::test]
async fn corpus_adventureworks_counts_match() {
    let expected = Counts {
        tables: 68,
        views: 87,
        materialized_views: 2,
        table_columns: 456,
        view_columns: 780,
        ..Counts::default()
    };
    crawl_corpus(
        "corpus_adventureworks",
        &["adventureworks/adventureworks-schema.sql"],
        expected,
    )
    .await;
}

#[tokio::test]
async fn corpus_tpch_counts_match() {
    let expected = Counts {
        tables: 8,
        table_columns: 61,
        ..Counts::default()
    };
    crawl_corpus(
        "corpus_tpch",
        &["tpch/create-schema.sql", "tpch/create-indexes.sql"],
        expected,
    )
    .await;
}

#[tokio::test]
async fn corpus_tpcds_counts_match() {
    let expected = Counts {
        tables: 24,
        table_columns: 425,
        ..Counts::default()
    };
    crawl_corpus("corpus_tpcds", &["tpcds/tpcds-schema.sql"], expected).await;
}

#[tokio::test]
async fn pagila_upgrade_reports_only_real_changes() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let database = fresh_database("pagila_upgrade");
    cluster().psql_file(
        &database.name,
        &corpus.join("pagila/pagila-schema-2022-12.sql"),
    );
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine
        .add_connection("pagila", &database.url(), None)
        .unwrap();
    engine
        .refresh("pagila", RefreshOptions::default(), None)
        .await
        .unwrap();

    // Restore the newer schema into a recreated database: every oid changes.
    cluster().psql(
        "postgres",
        &format!("DROP DATABASE {0}; CREATE DATABASE {0};", database.name),
    );
    cluster().psql_file(
        &database.name,
        &corpus.join("pagila/pagila-schema-2026-07.sql"),
    );
    let report = engine
        .refresh("pagila", RefreshOptions::default(), None)
        .await
        .unwrap();

    let changes = describe_changes(&report.changes);
    let added_partitions: Vec<&String> = changes
        .iter()
        .filter(|change| change.starts_with("table_added public.payment_p"))
        .collect();
    let others: Vec<&String> = changes
        .iter()
        .filter(|change| !change.starts_with("table_added public.payment_p"))
        .collect();
    assert_eq!(added_partitions.len(), 48);
    assert!(
        added_partitions
            .iter()
            .all(|change| change.contains(" -> partition of public.payment FOR VALUES FROM (")),
        "{added_partitions:#?}"
    );
    // The new actor_info definition builds film_info with jsonb_object_agg,
    // so the view's column type changes with it: a real, breaking change.
    assert_eq!(others.len(), 3, "{others:#?}");
    assert!(
        others[0].starts_with("view_definition_changed public.actor_info:  SELECT a.actor_id,"),
        "{}",
        others[0]
    );
    assert!(
        others[0].contains("public.group_concat(DISTINCT"),
        "{}",
        others[0]
    );
    assert!(
        others[0].contains("jsonb_object_agg(c.name"),
        "{}",
        others[0]
    );
    assert_eq!(
        others[1],
        "column_type_changed public.actor_info.film_info: text -> jsonb breaking"
    );
    assert_eq!(
        others[2],
        "column_type_changed public.language.name: character(20) -> text breaking"
    );
}

/// Changes each version of the Temporal server's Postgres schema makes, as
/// read from its migration files (version, changes in report order).
const TEMPORAL_STEPS: &[(&str, &[&str])] = &[
    (
        "v1.01",
        &[
            "column_added public.cluster_metadata.data: - -> bytea",
            "column_added public.cluster_metadata.data_encoding: - -> character varying(16)",
            "column_added public.cluster_metadata.version: - -> bigint",
        ],
    ),
    (
        "v1.02",
        &[
            "column_added public.queue.message_encoding: - -> character varying(16)",
            "column_added public.queue_metadata.data_encoding: - -> character varying(16)",
        ],
    ),
    (
        "v1.03",
        &["table_added public.visibility_tasks: - -> table"],
    ),
    (
        "v1.04",
        &[
            "column_dropped public.cluster_metadata.immutable_data: bytea -> - breaking",
            "column_dropped public.cluster_metadata.immutable_data_encoding: character varying(16) -> - breaking",
        ],
    ),
    (
        "v1.05",
        &[
            "column_type_changed public.cluster_membership.rpc_address: character varying(15) -> character varying(128) breaking",
            "column_added public.executions.db_record_version: - -> bigint",
            "column_added public.history_node.prev_txn_id: - -> bigint",
        ],
    ),
    (
        "v1.06",
        &["column_added public.queue_metadata.version: - -> bigint"],
    ),
    (
        "v1.07",
        &[
            "table_added public.cluster_metadata_info: - -> table",
            "table_added public.tiered_storage_tasks: - -> table",
            "column_default_changed public.current_executions.start_version: - -> 0",
        ],
    ),
    (
        "v1.08",
        &[
            "column_type_changed public.current_executions.create_request_id: character varying(64) -> character varying(255) breaking",
            "column_type_changed public.signals_requested_sets.signal_id: character varying(64) -> character varying(255) breaking",
            "table_dropped public.tiered_storage_tasks: table -> - breaking",
        ],
    ),
    (
        "v1.09",
        &[
            "table_added public.history_immediate_tasks: - -> table",
            "table_added public.history_scheduled_tasks: - -> table",
        ],
    ),
    (
        "v1.10",
        &[
            "table_added public.build_id_to_task_queue: - -> table",
            "table_added public.task_queue_user_data: - -> table",
        ],
    ),
    (
        "v1.11",
        &[
            "table_added public.queue_messages: - -> table",
            "table_added public.queues: - -> table",
        ],
    ),
    (
        "v1.12",
        &[
            "table_added public.nexus_incoming_services: - -> table",
            "table_added public.nexus_incoming_services_partition_status: - -> table",
        ],
    ),
    (
        // Dropped and created anew, not renamed: the new tables have new oids.
        "v1.13",
        &[
            "table_added public.nexus_endpoints: - -> table",
            "table_added public.nexus_endpoints_partition_status: - -> table",
            "table_dropped public.nexus_incoming_services: table -> - breaking",
            "table_dropped public.nexus_incoming_services_partition_status: table -> - breaking",
        ],
    ),
    (
        "v1.14",
        &["column_added public.current_executions.start_time: - -> timestamp without time zone"],
    ),
    (
        "v1.15",
        &[
            "column_added public.current_executions.data: - -> bytea",
            "column_added public.current_executions.data_encoding: - -> character varying(16)",
        ],
    ),
    (
        // The column is dropped and added again under the same name (a new
        // attnum), still last: a drop and an addition, and no move.
        "v1.16",
        &[
            "column_added public.current_executions.data_encoding: - -> character varying(16)",
            "column_dropped public.current_executions.data_encoding: character varying(16) -> - breaking",
        ],
    ),
    ("v1.17", &["table_added public.chasm_node_maps: - -> table"]),
    (
        "v1.18",
        &[
            "table_added public.task_queues_v2: - -> table",
            "table_added public.tasks_v2: - -> table",
        ],
    ),
    (
        "v1.19",
        &["table_added public.current_chasm_executions: - -> table"],
    ),
];

/// Every column of the public schema straight from pg_catalog, one line each:
/// `table|position|name|type|not null (t or f)|default`, with the empty
/// search_path the driver uses, so expressions name their schemas alike.
const CATALOG_DUMP_SQL: &str = "
    SET search_path = '';
    SELECT c.relname || '|' || row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) || '|'
           || a.attname || '|' || format_type(a.atttypid, a.atttypmod) || '|'
           || CASE WHEN a.attnotnull THEN 't' ELSE 'f' END
           || '|' || COALESCE(pg_get_expr(d.adbin, d.adrelid), '-')
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE n.nspname = 'public' AND c.relkind = 'r'
    ORDER BY c.relname, a.attnum";

#[tokio::test]
async fn temporal_migrations_report_each_change() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let chain = corpus.join("temporal-postgres-migrations");
    let database = fresh_database("temporal_migrations");
    cluster().psql_file(&database.name, &chain.join("base/v1.0-schema.sql"));
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine
        .add_connection("temporal", &database.url(), None)
        .unwrap();
    engine
        .refresh("temporal", RefreshOptions::default(), None)
        .await
        .unwrap();

    let mut files: Vec<PathBuf> = std::fs::read_dir(chain.join("migrations"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "sql"))
        .collect();
    files.sort();
    for (version, expected) in TEMPORAL_STEPS {
        for file in files.iter().filter(|file| {
            file.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(&format!("{version}-")))
        }) {
            cluster().psql_file(&database.name, file);
        }
        let report = engine
            .refresh("temporal", RefreshOptions::default(), None)
            .await
            .unwrap();
        assert_eq!(
            describe_changes(&report.changes),
            *expected,
            "changes of {version}"
        );
    }

    let dump: Vec<String> = database
        .execute(CATALOG_DUMP_SQL)
        .lines()
        .map(str::to_string)
        .collect();
    let (_, catalog) = engine.catalog("temporal", None).unwrap().unwrap();
    let public = catalog.databases[0]
        .schemas
        .iter()
        .find(|schema| schema.name == "public")
        .unwrap();
    let crawled: Vec<String> = public
        .tables
        .iter()
        .flat_map(|table| {
            table.columns.iter().map(move |column| {
                format!(
                    "{}|{}|{}|{}|{}|{}",
                    table.name,
                    column.ordinal,
                    column.name,
                    column.data_type,
                    if column.nullable { "f" } else { "t" },
                    column.default.as_deref().unwrap_or("-")
                )
            })
        })
        .collect();
    assert_eq!(crawled, dump);
    assert_eq!(public.tables.len(), 38);
}
