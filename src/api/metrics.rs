//! `GET /metrics` in the Prometheus text format.

use metacrawl_engine::Engine;
use std::fmt::Write as _;

/// Renders the metrics of the store the engine uses.
pub(crate) fn render(engine: &Engine) -> Result<String, metacrawl_engine::EngineError> {
    let store = engine.store();
    let counts = store.job_run_counts()?;
    let totals = store.metrics()?;
    let mut text = String::new();

    text.push_str("# HELP metacrawl_job_runs Job runs in the store by status.\n# TYPE metacrawl_job_runs gauge\n");
    for status in ["QUEUED", "RUNNING", "SUCCESS", "FAILED", "SKIPPED"] {
        let count = counts
            .iter()
            .find(|(candidate, _)| candidate.as_str() == status)
            .map_or(0, |(_, count)| *count);
        let _ = writeln!(text, "metacrawl_job_runs{{status=\"{status}\"}} {count}");
    }

    text.push_str("# HELP metacrawl_refresh_duration_seconds Duration of finished refreshes.\n");
    text.push_str("# TYPE metacrawl_refresh_duration_seconds histogram\n");
    for (bound, count) in &totals.duration_buckets {
        let _ = writeln!(
            text,
            "metacrawl_refresh_duration_seconds_bucket{{le=\"{bound}\"}} {count}"
        );
    }
    let _ = writeln!(
        text,
        "metacrawl_refresh_duration_seconds_bucket{{le=\"+Inf\"}} {}",
        totals.duration_count
    );
    let _ = writeln!(
        text,
        "metacrawl_refresh_duration_seconds_sum {}",
        totals.duration_sum_secs
    );
    let _ = writeln!(
        text,
        "metacrawl_refresh_duration_seconds_count {}",
        totals.duration_count
    );

    text.push_str("# HELP metacrawl_catalog_tables Tables in the latest snapshot of every connection.\n# TYPE metacrawl_catalog_tables gauge\n");
    let _ = writeln!(text, "metacrawl_catalog_tables {}", totals.tables);
    text.push_str("# HELP metacrawl_catalog_columns Columns in the latest snapshot of every connection.\n# TYPE metacrawl_catalog_columns gauge\n");
    let _ = writeln!(text, "metacrawl_catalog_columns {}", totals.columns);
    text.push_str("# HELP metacrawl_changes Changes recorded by all snapshots.\n# TYPE metacrawl_changes gauge\n");
    let _ = writeln!(text, "metacrawl_changes {}", totals.changes);
    Ok(text)
}
