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

. scripts/check-server.sh
start_check_server "${1:-}" "browser check"

echo "== browser check against $(printf '%s' "$COGOV_DATABASE_URL" | sed 's#//[^@]*@#//#')"
status=0
(cd tests/browser && node seed.mjs "$base" "$client_id" "$client_secret" "$work/seed.json") || status=$?
if [ "$status" -eq 0 ]; then
    (cd tests/browser && COGOV_BASE_URL="$base" COGOV_SEED_FILE="$work/seed.json" \
        COGOV_ADMIN_CLIENT_ID="$client_id" COGOV_ADMIN_CLIENT_SECRET="$client_secret" \
        node --test --test-concurrency=1 ./*.spec.mjs) || status=$?
fi
if [ "$status" -ne 0 ]; then
    show_server_log
    exit "$status"
fi
