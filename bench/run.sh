#!/usr/bin/env bash
# cogov load benchmark, loopback only, bounded in time.
#
#   bench/run.sh [sqlite|postgres|both]      (default: both)
#
# For each backend: starts a release build of cogov on a fresh database, seeds councils, and runs
# wrk against: /health/live (the framework ceiling: same binary, same middleware), GET one council,
# POST a council (as a signed-in district admin, so with the token check and the audit record), and a
# page of 50 councils from the middle of the table at 10k and at 1M rows. It also records the cold
# start (process start until /health/ready answers, on an already migrated database) and the
# server's resident memory while 64 connections read one council.
# For PostgreSQL it also runs `pgbench -S` (select-only) as the database's read ceiling, and pgbench
# with bench/pgbench_post.sql (every statement a signed-in POST /councils runs, in the same
# transactions, on cogov's own tables) as its write ceiling, prepared and unprepared.
# Needs: wrk, python3, psql and pgbench; PostgreSQL on 127.0.0.1:5432 with trust auth.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKENDS="${1:-both}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
WORKERS="${BENCH_WORKERS:-4}"
PORT="${BENCH_PORT:-18181}"
PG="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
BASE="http://127.0.0.1:$PORT"
OUT="${BENCH_OUT:-bench/results.md}"

for tool in wrk python3 curl; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk)" >&2; exit 1; }
done

BIN="${BENCH_BIN:-$PWD/target/release/cogov}"
[ -n "${BENCH_BIN:-}" ] || cargo build --release --quiet
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# Milliseconds from the last start_server's spawn until /health/ready answered.
COLD_MS=""

start_server() {
    local t0
    t0=$(date +%s%N)
    # The quota is on, as in production, but set far above what a load test sends from one address.
    COGOV_DATABASE_URL="$1" COGOV_WORKERS="$WORKERS" COGOV_LOG_FORMAT=json RUST_LOG=warn COGOV_RATE_LIMIT_REQUESTS=1000000000 \
        COGOV_JWT_SECRET_FILE="$WORK/jwt-secret" "$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 2000); do
        if curl -sf "$BASE/health/ready" >/dev/null 2>&1; then
            COLD_MS=$((($(date +%s%N) - t0) / 1000000))
            return 0
        fi
        sleep 0.005
    done
    echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

rss_mib() { # resident memory of the server now, MiB
    awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"
}

row() { # backend | request | req/s | p50 | p99 | non-2xx | notes
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$BACKEND" "$@" | tee -a "$OUT"
}

# wrk LABEL URL [script] [connections] [notes] -> appends a row
measure() {
    local label=$1 url=$2 script=${3:-} connections=${4:-$CONNECTIONS} notes=${5:-}
    local args=(-t"$THREADS" -c"$connections" -d"$DURATION" --latency)
    [ -n "$script" ] && args+=(-s "$script")
    local out
    out=$(wrk "${args[@]}" "$url")
    local rps p50 p99 errors
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
    row "$label" "$rps" "$p50" "$p99" "${errors:-0}" "$notes"
}

# GET one council with 64 connections while the server's RSS is sampled every 100 ms.
measure_rss() {
    local url=$1 idle samples peak
    idle=$(rss_mib)
    samples="$WORK/rss"
    : >"$samples"
    ( while kill -0 "$SERVER_PID" 2>/dev/null; do rss_mib >>"$samples"; echo >>"$samples"; sleep 0.1; done ) &
    local sampler=$!
    measure "GET one council, 64 connections" "$url" "" 64 "RSS idle ${idle} MiB, peak @PEAK@ MiB"
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    peak=$(sort -n "$samples" | tail -1)
    sed -i "s/@PEAK@/${peak}/" "$OUT"
}

seed() {
    local n=$1
    if [ "$BACKEND" = sqlite ]; then
        python3 bench/seed_sqlite.py "$WORK/bench.db" "$n" >/dev/null
    else
        psql -q "$PG_SCHEMA_URL" <<SQL
INSERT INTO councils (id, kind, regime, name, quorum_basis, regular_notice_hours, special_notice_hours,
                      composition_rules, created_at, updated_at, version)
SELECT '00000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), 'community_school_steering_committee', 'brown',
       'Council ' || i, 'filled_voting_seats', 72, 24, '[]', timestamp '2026-11-25', timestamp '2026-11-25', 1
FROM generate_series((SELECT count(*) FROM councils), $n - 1) AS i
ON CONFLICT (id) DO NOTHING;
ANALYZE councils;
SQL
    fi
}

cursor_at() { # base64url of the seeded id at position $1
    printf '00000000-0000-7000-8000-%012x' "$1" | base64 | tr '+/' '-_' | tr -d '=\n'
}

run_backend() {
    BACKEND=$1
    if [ "$BACKEND" = sqlite ]; then
        URL="sqlite://$WORK/bench.db"
    else
        psql -q "$PG" -c "DROP SCHEMA IF EXISTS cogov_bench CASCADE" -c "CREATE SCHEMA cogov_bench" 2>/dev/null
        PG_SCHEMA_URL="$PG?options=-csearch_path%3Dcogov_bench"
        URL="$PG_SCHEMA_URL"
    fi
    start_server "$URL"
    stop_server  # migrated; now seed 10k rows directly
    seed 10000
    echo "benchmark password" | COGOV_DATABASE_URL="$URL" "$BIN" admin create-user \
        --username bench --display-name "Benchmark Admin" --role district_admin >/dev/null
    start_server "$URL"
    row "cold start: process start until /health/ready answers (migrated database)" - - - - "${COLD_MS} ms"
    COGOV_BENCH_TOKEN=$(curl -s -X POST "$BASE/api/v1/auth/token" -d grant_type=password -d username=bench \
        --data-urlencode 'password=benchmark password' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    export COGOV_BENCH_TOKEN
    local id
    id=$(curl -s -X POST "$BASE/api/v1/councils" -H 'content-type: application/json' -H "Authorization: Bearer $COGOV_BENCH_TOKEN" \
        -d '{"kind":"assembly","name":"Benchmark target"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    measure "GET /health/live (ceiling)" "$BASE/health/live"
    measure "GET one council" "$BASE/api/v1/councils/$id"
    measure_rss "$BASE/api/v1/councils/$id"
    measure "list 50 councils, 10k rows" "$BASE/api/v1/councils?limit=50&cursor=$(cursor_at 5000)"
    measure "POST a council (signed in, audited)" "$BASE/api/v1/councils" bench/post_council.lua
    stop_server
    if [ "$BACKEND" = postgres ] && command -v pgbench >/dev/null; then
        # The database's ceiling for the same work: every statement the POST runs, on the same
        # tables, one transaction per write as cogov commits on PostgreSQL.
        local person tps
        person=$(psql -At "$PG_SCHEMA_URL" -c "SELECT person_id FROM accounts WHERE username = 'bench'")
        tps=$(pgbench -n -M prepared -f bench/pgbench_post.sql -D "person=$person" -c "$CONNECTIONS" -j "$THREADS" \
            -T "${DURATION%s}" "$PG_SCHEMA_URL" 2>/dev/null | awk '/^tps/ {print $3; exit}')
        row "pgbench: the statements of a signed-in POST (database write ceiling)" "$tps" - - - "bench/pgbench_post.sql, prepared, $CONNECTIONS clients"
        # The same, every statement parsed and planned each time (diesel prepares the reads once
        # but sends every INSERT unprepared): the ceiling for the protocol cogov actually speaks
        # lies between the two rows.
        tps=$(pgbench -n -M extended -f bench/pgbench_post.sql -D "person=$person" -c "$CONNECTIONS" -j "$THREADS" \
            -T "${DURATION%s}" "$PG_SCHEMA_URL" 2>/dev/null | awk '/^tps/ {print $3; exit}')
        row "pgbench: the same statements, unprepared" "$tps" - - - "bench/pgbench_post.sql, -M extended, $CONNECTIONS clients"
    fi
    seed 1000000
    start_server "$URL"
    measure "list 50 councils, 1M rows" "$BASE/api/v1/councils?limit=50&cursor=$(cursor_at 500000)"
    measure "GET one council, 1M rows" "$BASE/api/v1/councils/$id"
    stop_server
    if [ "$BACKEND" = postgres ]; then
        if command -v pgbench >/dev/null; then
            psql -q "$PG" -c "DROP DATABASE IF EXISTS cogov_pgbench" -c "CREATE DATABASE cogov_pgbench"
            local pgb="${PG%/*}/cogov_pgbench"
            pgbench -q -i -s 10 "$pgb" >/dev/null 2>&1
            tps=$(pgbench -S -n -c "$CONNECTIONS" -j "$THREADS" -T "${DURATION%s}" "$pgb" 2>/dev/null | awk '/^tps/ {print $3; exit}')
            row "pgbench -S (database read ceiling)" "$tps" - - - "scale 10, $CONNECTIONS clients"
            psql -q "$PG" -c "DROP DATABASE cogov_pgbench"
        fi
        psql -q "$PG" -c "DROP SCHEMA cogov_bench CASCADE" 2>/dev/null
    fi
}

{
    echo "# cogov benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
    echo
    echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, cogov workers=$WORKERS, $(nproc) cores"
    echo
    echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine may be shared)"
    echo
    echo "| backend | request | req/s | p50 | p99 | non-2xx | notes |"
    echo "|---|---|---|---|---|---|---|"
} | tee "$OUT"
case "$BACKENDS" in
    sqlite) run_backend sqlite ;;
    postgres) run_backend postgres ;;
    both) run_backend sqlite; run_backend postgres ;;
    *) echo "usage: bench/run.sh [sqlite|postgres|both]" >&2; exit 2 ;;
esac
