#!/usr/bin/env bash
# Sign-in flood, loopback only, bounded in time: many clients post random usernames and
# passwords to /api/v1/auth/token while the server's peak RSS is sampled and /health/live probed.
#
#   bench/sign_in_flood.sh            (BENCH_CLIENTS="8 200", BENCH_SECONDS=6)
#
# The per-address sign-in limit is switched off for the flood (every client here shares
# 127.0.0.1), so it measures the bound on concurrent password hashing, as a flood from many
# addresses would; a second run keeps the default limits. Needs python3 and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

CLIENTS="${BENCH_CLIENTS:-8 200}"
SECONDS_EACH="${BENCH_SECONDS:-6}"
WORKERS="${BENCH_WORKERS:-4}"
PORT="${BENCH_PORT:-18182}"
BASE="http://127.0.0.1:$PORT"

cargo build --release --quiet
BIN="$PWD/target/release/cogov"
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
    rm -f "$WORK"/cogov.db*
    env "$@" COGOV_DATABASE_URL="sqlite://$WORK/cogov.db" COGOV_WORKERS="$WORKERS" RUST_LOG=error \
        COGOV_JWT_SECRET_FILE="$WORK/jwt-secret" "$BIN" serve --listen "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -sf "$BASE/health/ready" >/dev/null && return 0
        sleep 0.1
    done
    echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

stop_server() {
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

echo "| limits | clients | time | attempts (by status) | idle RSS | peak RSS | /health/live ok, slowest |"
echo "|---|---|---|---|---|---|---|"
for clients in $CLIENTS; do
    start_server COGOV_SIGN_IN_MAX_FAILURES_PER_ADDRESS=0
    python3 bench/sign_in_flood.py --pid "$SERVER_PID" --base "$BASE" --clients "$clients" \
        --seconds "$SECONDS_EACH" --label "no per-address limit"
    stop_server
done
start_server
python3 bench/sign_in_flood.py --pid "$SERVER_PID" --base "$BASE" --clients 200 \
    --seconds "$SECONDS_EACH" --label "defaults"
stop_server
