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

. scripts/check-server.sh
start_check_server "${MIRROR_DATABASE_URL:-}" "district sync"

echo "== mirror check against $(printf '%s' "$COGOV_DATABASE_URL" | sed 's#//[^@]*@#//#')"
if ! python3 scripts/mirror_check.py "$base" "$client_id" "$client_secret"; then
    show_server_log
    exit 1
fi
