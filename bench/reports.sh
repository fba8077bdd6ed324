#!/usr/bin/env bash
# Reports at district scale: seeds BENCH_REQUESTS service requests (default 1,000,000) across
# 200 schools and 10 categories (with their status history: first contacts, referrals,
# completions) by bulk SQL, fills the reports' summary tables the way the migration backfills
# them, starts `cogov serve`, and times every service-request report (BENCH_RUNS runs each,
# default 20; curl's time_total), without and with a school filter, as JSON and CSV.
#
#   bench/reports.sh                # both backends
#   bench/reports.sh sqlite         # or: postgres
#   BENCH_BIN=path/to/cogov bench/reports.sh   # use this binary as it is (no build)
#
# Needs: python3 (with its sqlite3 module), curl, psql; PostgreSQL on
# 127.0.0.1:5432 with trust auth (BENCH_PG_ADMIN_URL, default
# postgres://postgres@127.0.0.1:5432/postgres; a database cogov_reports_bench is recreated).
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${BENCH_REQUESTS:-1000000}
RUNS=${BENCH_RUNS:-20}
DAYS=${BENCH_DAYS:-1826}
PG_ADMIN=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG=${PG_ADMIN%/*}/cogov_reports_bench
WHICH=${1:-both}
PORT=${BENCH_PORT:-18391}

if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$BENCH_BIN
else
    cargo build --release --quiet
    BIN=target/release/cogov
fi
WORK=$(mktemp -d)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
export COGOV_JWT_SECRET=bench-reports-secret-bench-reports-secret-0123456789
export COGOV_LOG_FORMAT=text COGOV_RATE_LIMIT_REQUESTS=0 COGOV_WEBHOOK_DELIVERY=false

# The seed, as SQL for one backend: schools, categories, partners, requests, events, then the
# summary tables (the same statements as migration 2026-11-26-000020_reports).
seed_sql() {
    python3 - "$1" "$REQUESTS" "$DAYS" <<'PY'
import sys
backend, n, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pg = backend == "postgres"
out = []
if pg:
    series = f"generate_series(0, {n - 1}) AS g(i)"
    # Creation times spread over the past BENCH_DAYS days (default five years); ids sort by
    # creation like UUIDv7s.
    ts = f"(now() AT TIME ZONE 'UTC' - ((i % {days}) || ' days')::interval - ((i % 86400) || ' seconds')::interval)"
    plus_days = lambda t, d: f"({t} + (({d}) || ' days')::interval)"
    rid = "lpad(i::text, 12, '0')"
else:
    out.append("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;")
    series = f"(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1}) SELECT i FROM s)"
    ts = f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (i % {days}) || ' days', '-' || (i % 86400) || ' seconds')"
    plus_days = lambda t, d: f"strftime('%Y-%m-%d %H:%M:%f', {t}, '+' || ({d}) || ' days')"
    rid = "printf('%012d', i)"
now = "now() AT TIME ZONE 'UTC'" if pg else "strftime('%Y-%m-%d %H:%M:%f', 'now')"
out.append("BEGIN;")
for s in range(200):
    out.append(f"INSERT INTO schools (id, name, district_code, time_zone, created_at, updated_at, version) "
               f"VALUES ('00000000-0000-7000-8000-{s:012d}', 'Community School {s}', 'CS-{s:03}', 'America/Los_Angeles', {now}, {now}, 1);")
for c in range(10):
    target = "NULL" if c == 9 else str(1 + c % 5)
    out.append("INSERT INTO service_categories (id, code, names, descriptions, active, first_contact_school_days, "
               "pillar, sensitive, consent_class, attributes, created_at, updated_at, version) "
               f"VALUES ('cat-{c}', 'category-{c}', '{{\"en\":\"Category {c}\"}}', '{{\"en\":\"\"}}', TRUE, {target}, "
               f"NULL, FALSE, 'general', '[]', {now}, {now}, 1);")
for p in range(20):
    out.append("INSERT INTO partner_organizations (id, name, offerings, active, created_at, updated_at, version) "
               f"VALUES ('partner-{p:02}', 'Partner {p}', '[]', TRUE, {now}, {now}, 1);")
# Status by i % 20: 2 submitted, 2 triaged, 2 referred, 2 accepted, 1 rejected, 3 in progress,
# 6 completed, 1 declined, 1 cancelled.
status = ("CASE WHEN i % 20 < 2 THEN 'submitted' WHEN i % 20 < 4 THEN 'triaged' WHEN i % 20 < 6 THEN 'referred' "
          "WHEN i % 20 < 8 THEN 'accepted' WHEN i % 20 < 9 THEN 'rejected' WHEN i % 20 < 12 THEN 'in_progress' "
          "WHEN i % 20 < 18 THEN 'completed' WHEN i % 20 < 19 THEN 'declined' ELSE 'cancelled' END")
partner = "CASE WHEN i % 20 >= 4 AND i % 20 < 19 THEN 'partner-' || " + ("lpad((i % 20)::text, 2, '0')" if pg else "printf('%02d', i % 20)") + " ELSE NULL END"
out.append("INSERT INTO service_requests (id, school_id, category_id, subject_code, attributes, preferred_language, "
           "contact_method, urgency, status, partner_id, created_by, created_at, updated_at, version) "
           f"SELECT {rid}, '00000000-0000-7000-8000-' || " + ("lpad((i % 200)::text, 12, '0')" if pg else "printf('%012d', i % 200)") +
           f", 'cat-' || (i % 10), 'S' || i, '{{}}', 'en', 'email', 'routine', {status}, {partner}, 'bench', {ts}, {ts}, 1 FROM {series};")
# Events: a triage (first contact) for every request past submitted, i % 7 days after
# creation; a referral for those with a partner; a completion i % 45 days after creation.
def events(action, frm, to, cond, days, with_partner):
    t = plus_days("r.created_at", days)
    p = "r.partner_id" if with_partner else "NULL"
    return (f"INSERT INTO service_request_events (id, request_id, action, from_status, to_status, actor, party, "
            f"partner_id, created_at, updated_at, version) SELECT r.id || '-{action}', r.id, '{action}', '{frm}', '{to}', "
            f"'bench', 'staff', {p}, {t}, {t}, 1 FROM service_requests r WHERE {cond};")
num = "CAST(r.id AS BIGINT)" if pg else "CAST(r.id AS INTEGER)"
out.append(events("triage", "submitted", "triaged", "r.status <> 'submitted'", f"{num} % 7", False))
out.append(events("refer", "triaged", "referred", "r.partner_id IS NOT NULL", f"{num} % 7 + 1", True))
out.append(events("complete", "in_progress", "completed", "r.status = 'completed'", f"{num} % 45", True))
out.append("COMMIT;")
sql = open("migrations/%s/2026-11-26-000020_reports/up.sql" % backend).read()
backfill = sql[sql.index("INSERT INTO service_request_tallies"):]
out.append("BEGIN;")
out.append("DELETE FROM service_request_tallies; DELETE FROM service_request_durations; "
           "DELETE FROM service_request_district_durations; DELETE FROM service_request_partner_actions;")
out.append(backfill)
out.append("COMMIT;")
out.append("ANALYZE;")
print("\n".join(out))
PY
}

run_reports() {
    local url=$1
    COGOV_DATABASE_URL=$url "$BIN" migrate >/dev/null
    echo "seeding $REQUESTS requests …"
    local t0=$SECONDS
    if [[ $url == sqlite* ]]; then
        seed_sql sqlite > "$WORK/seed.sql"
        python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2]).read())" \
            "${url#sqlite://}" "$WORK/seed.sql"
    else
        seed_sql postgres | psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null
    fi
    echo "seeded in $((SECONDS - t0)) s"
    local client
    client=$(COGOV_DATABASE_URL=$url "$BIN" admin create-client --name bench --role district_admin 2>/dev/null)
    local id=${client#*client_id=}; id=${id%%$'\n'*}
    local secret=${client#*client_secret=}; secret=${secret%%$'\n'*}
    COGOV_DATABASE_URL=$url COGOV_LISTEN=127.0.0.1:$PORT "$BIN" serve >"$WORK/serve.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break; sleep 0.2; done
    local token
    token=$(curl -s -u "$id:$secret" -X POST "http://127.0.0.1:$PORT/api/v1/auth/token" \
        -d grant_type=client_credentials | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    local from to
    from=$(date -u -d "11 months ago" +%Y-%m-01)
    to=$(date -u -d "$(date -u +%Y-%m-01) +1 month -1 day" +%Y-%m-%d)
    printf '%-16s %-34s %8s %8s %8s\n' report query median_ms p95_ms max_ms
    for report in status-counts durations backlog overdue partners; do
        for q in "" "school_id=00000000-0000-7000-8000-000000000007" "from=$from&to=$to" "format=csv"; do
            local times=()
            for _ in $(seq "$RUNS"); do
                times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
                    "http://127.0.0.1:$PORT/api/v1/reports/service-requests/$report?$q")")
            done
            local status
            status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
                "http://127.0.0.1:$PORT/api/v1/reports/service-requests/$report?$q")
            printf '%s\n' "${times[@]}" | python3 -c '
import sys
v = sorted(float(x) * 1000 for x in sys.stdin)
name, q, status = sys.argv[1:4]
print("%-16s %-34s %8.1f %8.1f %8.1f  (HTTP %s)" % (name, q or "-", v[len(v)//2], v[min(len(v)-1, int(len(v)*0.95))], v[-1], status))
' "$report" "$q" "$status"
        done
    done
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
}

if [ "$WHICH" != postgres ]; then
    echo "== SQLite"
    run_reports "sqlite://$WORK/bench.db"
fi
if [ "$WHICH" != sqlite ]; then
    echo "== PostgreSQL"
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS cogov_reports_bench" -c "CREATE DATABASE cogov_reports_bench"
    run_reports "$PG"
fi
