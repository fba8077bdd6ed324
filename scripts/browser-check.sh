#!/usr/bin/env bash
# The public pages and /docs in a real headless browser (Debian's Chromium driven by
# playwright-core): render district → council → meeting, switch to Spanish, send a written
# comment with JavaScript disabled, no console errors, axe-core with no violations, /docs with
# no request to another host. Runs every tests/browser/*.spec.mjs against a fresh `cogov serve`
# seeded through the API (tests/browser/seed.mjs).
#
#   scripts/browser-check.sh                                            # SQLite, temporary file
#   scripts/browser-check.sh postgres://postgres@127.0.0.1:5432/cogov_browser_check
#
# A PostgreSQL database named by the URL is dropped and created afresh. Chromium is installed
# with apt-get when missing; the check fails (never skips) when it cannot be.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
    echo "Chromium is missing; installing Debian's chromium package"
    if command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || true
    fi
fi
if [ ! -x "$CHROMIUM" ]; then
    echo "FAIL: no Chromium at $CHROMIUM and it could not be installed (apt-get install chromium)" >&2
    exit 1
fi
export CHROMIUM
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null || true
    fi
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "FAIL: Node.js and npm are needed for the browser check and could not be installed" >&2
    exit 1
fi
echo "$("$CHROMIUM" --version 2>/dev/null | tail -n 1); node $(node --version)"
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

BIN="${COGOV_BIN:-target/debug/cogov}"
if [ ! -x "$BIN" ]; then
    cargo build --quiet
    BIN=target/debug/cogov
fi
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

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

if [ -n "${1:-}" ]; then
    name="${1##*/}"
    server="${1%/*}/postgres"
    psql "$server" -q -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
    export COGOV_DATABASE_URL="$1"
else
    export COGOV_DATABASE_URL="sqlite://$work/cogov.db"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export COGOV_JWT_SECRET_FILE="$work/jwt-secret"
export COGOV_LISTEN="127.0.0.1:$port"
export COGOV_LOG_FORMAT=text
export RUST_LOG="${RUST_LOG:-warn}"

credentials=$("$BIN" admin create-client --name "browser check" --role district_admin 2>/dev/null)
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

echo "== browser check against $(printf '%s' "$COGOV_DATABASE_URL" | sed 's#//[^@]*@#//#')"
status=0
(cd tests/browser && node seed.mjs "$base" "$client_id" "$client_secret" "$work/seed.json") || status=$?
if [ "$status" -eq 0 ]; then
    (cd tests/browser && COGOV_BASE_URL="$base" COGOV_SEED_FILE="$work/seed.json" \
        COGOV_ADMIN_CLIENT_ID="$client_id" COGOV_ADMIN_CLIENT_SECRET="$client_secret" \
        node --test --test-concurrency=1 ./*.spec.mjs) || status=$?
fi
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 "$work/server.log" >&2
    exit "$status"
fi
