#!/usr/bin/env bash
# Proof for district IT's sync path: examples/mirror.py copies a real `cogov serve` into a local
# SQLite file through the change feed, stays exact through creates, updates and deletes, and
# resumes after being killed midway (scripts/mirror_check.py does the checking).
#
#   scripts/mirror-check.sh                                   # SQLite in a temporary directory
#   MIRROR_DATABASE_URL=postgres://postgres@127.0.0.1:5432/cogov_mirror scripts/mirror-check.sh
#
# A PostgreSQL database named by MIRROR_DATABASE_URL is dropped and created afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${COGOV_BIN:-target/debug/cogov}"
if [ ! -x "$BIN" ]; then
    cargo build --quiet
    BIN=target/debug/cogov
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ -n "${MIRROR_DATABASE_URL:-}" ]; then
    name="${MIRROR_DATABASE_URL##*/}"
    server="${MIRROR_DATABASE_URL%/*}/postgres"
    psql "$server" -q -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
    export COGOV_DATABASE_URL="$MIRROR_DATABASE_URL"
else
    export COGOV_DATABASE_URL="sqlite://$work/cogov.db"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export COGOV_JWT_SECRET_FILE="$work/jwt-secret"
export COGOV_LISTEN="127.0.0.1:$port"
export COGOV_LOG_FORMAT=text
export RUST_LOG="${RUST_LOG:-warn}"

credentials=$("$BIN" admin create-client --name "district sync" --role district_admin 2>/dev/null)
client_id=$(printf '%s\n' "$credentials" | sed -n 's/^client_id=//p')
client_secret=$(printf '%s\n' "$credentials" | sed -n 's/^client_secret=//p')

"$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request; urllib.request.urlopen('$base/health/ready', timeout=1)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done

echo "== mirror check against $(printf '%s' "$COGOV_DATABASE_URL" | sed 's#//[^@]*@#//#')"
if ! python3 scripts/mirror_check.py "$base" "$client_id" "$client_secret"; then
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 "$work/server.log" >&2
    exit 1
fi
