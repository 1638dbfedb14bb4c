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
            TableKind::ForeignTable | TableKind::ExternalTable => {}
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
    cluster().psql_file(&database.name, &corpus.join("pagila/pagila-schema-2022-12.sql"));
    let workspace = Workspace::new();
    let engine = workspace.engine(|_| {});
    engine.add_connection("pagila", &database.url(), None).unwrap();
    engine.refresh("pagila", RefreshOptions::default(), None).await.unwrap();

    // Restore the newer schema into a recreated database: every oid changes.
    cluster().psql("postgres", &format!("DROP DATABASE {0}; CREATE DATABASE {0};", database.name));
    cluster().psql_file(&database.name, &corpus.join("pagila/pagila-schema-2026-07.sql"));
    let report = engine.refresh("pagila", RefreshOptions::default(), None).await.unwrap();

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
    assert!(others[0].contains("public.group_concat(DISTINCT"), "{}", others[0]);
    assert!(others[0].contains("jsonb_object_agg(c.name"), "{}", others[0]);
    assert_eq!(
        others[1],
        "column_type_changed public.actor_info.film_info: text -> jsonb breaking"
    );
    assert_eq!(
        others[2],
        "column_type_changed public.language.name: character(20) -> text breaking"
    );
}
