# Sourced by the end-to-end checks (mirror-check.sh, browser-check.sh): starts a fresh
# `cogov serve` for one check and stops it on exit.
#
#   start_check_server DATABASE_URL CLIENT_NAME
#
# DATABASE_URL empty: SQLite in a temporary directory; otherwise that PostgreSQL database, dropped
# and created afresh. Sets BIN, work (a temporary directory, removed on exit), base (the server's
# URL), client_id and client_secret (a district_admin API client named CLIENT_NAME), and the log
# at "$work/server.log"; show_server_log prints its end.

start_check_server() {
    BIN="${COGOV_BIN:-target/debug/cogov}"
    if [ ! -x "$BIN" ]; then
        cargo build --quiet
        BIN=target/debug/cogov
    fi
    BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

    work=$(mktemp -d)
    server_pid=""
    trap stop_check_server EXIT

    if [ -n "$1" ]; then
        local name="${1##*/}"
        local server="${1%/*}/postgres"
        psql "$server" -q -c "DROP DATABASE IF EXISTS \"$name\"" -c "CREATE DATABASE \"$name\""
        export COGOV_DATABASE_URL="$1"
    else
        export COGOV_DATABASE_URL="sqlite://$work/cogov.db"
    fi
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    export COGOV_JWT_SECRET_FILE="$work/jwt-secret"
    export COGOV_LISTEN="127.0.0.1:$port"
    export COGOV_LOG_FORMAT=text
    export RUST_LOG="${RUST_LOG:-warn}"

    local credentials
    credentials=$("$BIN" admin create-client --name "$2" --role district_admin 2>/dev/null)
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
}

stop_check_server() {
    if [ -n "${server_pid:-}" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "${work:-}"
}

show_server_log() {
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 "$work/server.log" >&2
}
