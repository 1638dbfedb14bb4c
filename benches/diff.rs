//! Comparison of a 1,000,000-column catalog (50 schemas of 1,000 tables of 20
//! columns) in which 1% of the tables changed, on a rayon pool of 1 and of 2
//! threads. Measures what a refresh does per schema once the catalog is read:
//! fingerprints, pairing, column comparison of the changed tables.
//!
//! Run: `cargo bench --no-default-features --features sqlite --bench diff`
//! (the benchmark needs only the engine; the default build adds every driver).

#[path = "support/catalog_gen.rs"]
mod catalog_gen;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use metacrawl_engine::Table;
use metacrawl_engine::diff::{self, PreviousColumn, PreviousTable, SchemaDiff, SchemaPath};
use metacrawl_engine::fingerprint::table_fingerprint;
use std::collections::HashMap;
use std::hint::black_box;

const SCHEMAS: usize = 50;
const TABLES_PER_SCHEMA: usize = 1_000;
const COLUMNS_PER_TABLE: usize = 20;
/// One table in this many changes between the two catalogs.
const CHANGED_EVERY: usize = 100;

/// The stored side of one schema: tables with fingerprints, and the columns
/// of the tables that changed (what the store loads for them).
struct PreviousSchema {
    path: SchemaPath,
    tables: Vec<PreviousTable>,
    columns: HashMap<i64, Vec<PreviousColumn>>,
}

fn build() -> (Vec<PreviousSchema>, Vec<Vec<Table>>) {
    let mut previous = Vec::with_capacity(SCHEMAS);
    let mut current = Vec::with_capacity(SCHEMAS);
    for schema in 0..SCHEMAS {
        let first = schema * TABLES_PER_SCHEMA;
        let old_tables = catalog_gen::tables(first, TABLES_PER_SCHEMA, COLUMNS_PER_TABLE);
        let mut new_tables = old_tables.clone();
        for table in new_tables.iter_mut().step_by(CHANGED_EVERY) {
            table.columns[4] = metacrawl_engine::Column {
                data_type: "uuid".to_string(),
                normalized_type: "uuid".to_string(),
                ..table.columns[4].clone()
            };
            table.columns[5].nullable = !table.columns[5].nullable;
        }

        let mut columns = HashMap::new();
        let mut stored = Vec::with_capacity(old_tables.len());
        for (index, mut table) in old_tables.into_iter().enumerate() {
            let key = (first + index) as i64;
            let fingerprint = table_fingerprint(&table);
            let table_columns = std::mem::take(&mut table.columns);
            if index % CHANGED_EVERY == 0 {
                let rows = table_columns
                    .into_iter()
                    .enumerate()
                    .map(|(row, column)| PreviousColumn {
                        row_id: key * 100 + row as i64,
                        column,
                    })
                    .collect();
                columns.insert(key, rows);
            }
            stored.push(PreviousTable {
                key,
                row_id: key,
                fingerprint,
                table,
            });
        }
        previous.push(PreviousSchema {
            path: SchemaPath {
                database: "warehouse".to_string(),
                schema: format!("schema_{schema:02}"),
            },
            tables: stored,
            columns,
        });
        current.push(new_tables);
    }
    (previous, current)
}

fn diff_catalog(previous: &[PreviousSchema], current: Vec<Vec<Table>>) -> Vec<SchemaDiff> {
    previous
        .iter()
        .zip(current)
        .map(|(schema, tables)| {
            let table_match = diff::match_tables(&schema.tables, tables, false);
            diff::diff_schema(&schema.path, &schema.tables, &schema.columns, table_match)
        })
        .collect()
}

fn bench_diff(criterion: &mut Criterion) {
    let (previous, current) = build();

    let check = diff_catalog(&previous, current.clone());
    let changes: usize = check.iter().map(|schema| schema.changes.len()).sum();
    let writes: usize = check.iter().map(|schema| schema.writes.len()).sum();
    assert_eq!(changes, 2 * SCHEMAS * TABLES_PER_SCHEMA / CHANGED_EVERY);
    assert_eq!(writes, SCHEMAS * TABLES_PER_SCHEMA / CHANGED_EVERY);

    // 30 samples: the 2-core VM these run on varies by a fifth between runs.
    let mut group = criterion.benchmark_group("diff_1m_columns_1pct_changed");
    group.sample_size(30);
    group.measurement_time(std::time::Duration::from_secs(6));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("build a rayon pool");
        group.bench_function(format!("threads_{threads}"), |bencher| {
            // The unchanged tables come back in each SchemaDiff and are freed
            // outside the timed region, as the refresh frees them off its path.
            // The copy is made on the same pool, so its workers are running
            // when the timed comparison starts, as they are in a refresh that
            // has just read and parsed a schema.
            bencher.iter_batched(
                || {
                    pool.install(|| {
                        use rayon::prelude::*;
                        current.par_iter().cloned().collect::<Vec<_>>()
                    })
                },
                |current| pool.install(|| black_box(diff_catalog(&previous, current))),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();

    // The same fingerprints taken one schema at a time, as the refresh takes
    // them: 50 short parallel passes instead of one long one.
    let mut group = criterion.benchmark_group("fingerprint_per_schema");
    group.sample_size(20);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("build a rayon pool");
        group.bench_function(format!("threads_{threads}"), |bencher| {
            bencher.iter(|| {
                pool.install(|| {
                    use rayon::prelude::*;
                    let fingerprints: Vec<Vec<u64>> = current
                        .iter()
                        .map(|tables| tables.par_iter().map(table_fingerprint).collect())
                        .collect();
                    black_box(fingerprints)
                })
            });
        });
    }
    group.finish();
    let mut group = criterion.benchmark_group("fingerprint_1m_columns");
    group.sample_size(10);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("build a rayon pool");
        let tables: Vec<Table> = current.iter().flatten().cloned().collect();
        group.bench_function(format!("threads_{threads}"), |bencher| {
            bencher.iter(|| {
                pool.install(|| {
                    use rayon::prelude::*;
                    tables
                        .par_iter()
                        .map(table_fingerprint)
                        .reduce(|| 0, |left, right| left ^ right)
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_diff);
criterion_main!(benches);
