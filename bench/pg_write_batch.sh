#!/usr/bin/env bash
# Group commit on PostgreSQL: one transaction per write (postgres_write_batch=1) against batches
# of waiting writes (postgres_write_batch=N), measured with the same POST workload, alternating
# the two settings so that background noise falls on both. Loopback only, bounded in time.
#
#   bench/pg_write_batch.sh            (BENCH_BATCHES="1 128", BENCH_ROUNDS=2, BENCH_DURATION=10s)
#
# Needs: wrk, python3, curl, psql; PostgreSQL on 127.0.0.1:5432 with trust auth.
set -euo pipefail
cd "$(dirname "$0")/.."

BATCHES="${BENCH_BATCHES:-1 128}"
ROUNDS="${BENCH_ROUNDS:-2}"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
WORKERS="${BENCH_WORKERS:-4}"
PORT="${BENCH_PORT:-18182}"
PG="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
BASE="http://127.0.0.1:$PORT"
URL="$PG?options=-csearch_path%3Dcogov_batch_bench"

cargo build --release --quiet
BIN="$PWD/target/release/cogov"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    psql -q "$PG" -c "DROP SCHEMA IF EXISTS cogov_batch_bench CASCADE" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

psql -q "$PG" -c "DROP SCHEMA IF EXISTS cogov_batch_bench CASCADE" -c "CREATE SCHEMA cogov_batch_bench" 2>/dev/null
echo "benchmark password" | COGOV_DATABASE_URL="$URL" "$BIN" admin create-user \
    --username bench --display-name "Benchmark Admin" --role district_admin >/dev/null

start_server() {
    COGOV_DATABASE_URL="$URL" COGOV_WORKERS="$WORKERS" COGOV_POSTGRES_WRITE_BATCH="$1" RUST_LOG=warn COGOV_RATE_LIMIT_REQUESTS=1000000000 \
        COGOV_JWT_SECRET_FILE="$WORK/jwt-secret" "$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "$BASE/health/ready" >/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

echo "| postgres_write_batch | round | POST req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
    for batch in $BATCHES; do
        start_server "$batch"
        COGOV_BENCH_TOKEN=$(curl -s -X POST "$BASE/api/v1/auth/token" -d grant_type=password -d username=bench \
            --data-urlencode 'password=benchmark password' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
        export COGOV_BENCH_TOKEN
        out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/post_council.lua "$BASE/api/v1/councils")
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
        p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
        printf '| %s | %s | %s | %s | %s | %s |\n' "$batch" "$round" "$rps" "$p50" "$p99" "${errors:-0}"
        kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    done
done
