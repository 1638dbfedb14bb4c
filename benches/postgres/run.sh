#!/usr/bin/env bash
# Times metacrawl refreshes of a generated Postgres catalog (10,000 relations,
# about 290,000 columns) against one bulk psql query over the same catalog
# (reference_query.sql), alternating the three measurements in each round:
#   reference  psql running reference_query.sql, output discarded
#   full       first refresh into an empty store (reads and writes everything)
#   unchanged  a second refresh of the unchanged catalog
# Prints the median seconds and peak RSS of each, the ratios to the
# reference, and the catalog rows the unchanged refresh wrote.
#
# Usage: bash benches/postgres/run.sh [ROUNDS]   (default 5)
# METACRAWL_BENCH_PG_URL=postgres://postgres@127.0.0.1:PORT uses a running
# server (superuser, no database part); otherwise a throwaway cluster is
# started from the installed PostgreSQL binaries and stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-5}

# Only the Postgres driver is needed: the cloud drivers would lengthen the
# release build by many minutes.
cargo build --release --quiet --no-default-features --features postgres
metacrawl="$PWD/target/release/metacrawl"
work=$(mktemp -d /tmp/metacrawl-bench-XXXXXX)
chmod 777 "$work"

if [[ -n "${METACRAWL_BENCH_PG_URL:-}" ]]; then
    base_url=$METACRAWL_BENCH_PG_URL
    psql_bin=psql
else
    bin_dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [[ -x "$bin_dir/initdb" ]] || { echo "no PostgreSQL binaries found; set METACRAWL_BENCH_PG_URL" >&2; exit 1; }
    psql_bin=$bin_dir/psql
    as_server() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_server "$bin_dir/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >/dev/null
    as_server "$bin_dir/pg_ctl" -D "$work/data" -w -l "$work/server.log" \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $work -c fsync=off" start >/dev/null
    trap 'as_server "$bin_dir/pg_ctl" -D "$work/data" -m fast stop >/dev/null; rm -rf "$work"' EXIT
    base_url="postgres://postgres@127.0.0.1:$port"
fi

"$psql_bin" -X -q -d "$base_url/postgres" -c "DROP DATABASE IF EXISTS metacrawl_bench" -c "CREATE DATABASE metacrawl_bench"
url="$base_url/metacrawl_bench"
echo "generating the catalog..." >&2
"$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$url" -f benches/postgres/generate_catalog.sql
"$psql_bin" -X -q -d "$url" -c "VACUUM ANALYZE"
"$psql_bin" -X -At -d "$url" -c "SELECT count(*) FILTER (WHERE c.relkind IN ('r','p','v','m','f')) || ' relations, ' ||
    (SELECT count(*) FROM pg_attribute a JOIN pg_class r ON r.oid = a.attrelid JOIN pg_namespace s ON s.oid = r.relnamespace
     WHERE s.nspname LIKE 'bench\_%' AND r.relkind IN ('r','p','v','m','f') AND a.attnum > 0 AND NOT a.attisdropped) || ' columns'
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'bench\_%'" >&2

catalog_rows() {
    python3 - "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(sum(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
          for t in ("catalog_databases", "catalog_schemas", "catalog_tables", "catalog_columns")))
PY
}

# Appends "SECONDS KILOBYTES" of one command to a file.
timed() {
    local output=$1
    shift
    /usr/bin/time -f "%e %M" -a -o "$output" "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
}

for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds" >&2
    timed "$work/reference.times" "$psql_bin" -X -q -d "$url" -f benches/postgres/reference_query.sql -o /dev/null

    store="$work/store-$round.db"
    "$metacrawl" --store "$store" connection add bench --url "$url" >/dev/null
    timed "$work/full.times" "$metacrawl" --store "$store" refresh bench

    before=$(catalog_rows "$store")
    timed "$work/unchanged.times" "$metacrawl" --store "$store" refresh bench
    after=$(catalog_rows "$store")
    echo $((after - before)) >>"$work/unchanged.rows"
    rm -f "$store" "$store-wal" "$store-shm"
done

python3 - "$work" <<'PY'
import statistics, sys, os
work = sys.argv[1]
def load(name):
    rows = [line.split() for line in open(os.path.join(work, name + ".times")) if line.strip()]
    seconds = statistics.median(float(row[0]) for row in rows)
    peak_mb = max(int(row[1]) for row in rows) / 1024
    return seconds, peak_mb
reference, reference_mb = load("reference")
print("| measurement | median s | ratio to reference | peak RSS MB |")
print("|---|---|---|---|")
print(f"| reference query (psql) | {reference:.2f} | 1.00 | {reference_mb:.0f} |")
for name in ("full", "unchanged"):
    seconds, peak_mb = load(name)
    print(f"| {name} refresh | {seconds:.2f} | {seconds / reference:.2f} | {peak_mb:.0f} |")
rows = [int(line) for line in open(os.path.join(work, "unchanged.rows"))]
print(f"\ncatalog rows written by the unchanged refreshes: {rows}")
PY
