#!/usr/bin/env bash
# Reports at district scale: seeds BENCH_REQUESTS service requests (default 1,000,000) across
# 200 schools and 10 categories (with their status history: first contacts, referrals,
# completions) by bulk SQL, fills the reports' summary tables the way the migration backfills
# them, seeds five years of council governance for the same schools (councils, seats and their
# holders, ~24,000 meetings with agendas, attendance, motions and votes, public comments,
# notices and amendments), starts `cogov serve`, and times every service-request and governance
# report (BENCH_RUNS runs each, default 20; curl's time_total), district-wide, for one school
# (and one council), for twelve months, and as CSV.
#
#   bench/reports.sh                # both backends
#   bench/reports.sh sqlite         # or: postgres
#   BENCH_BIN=path/to/cogov bench/reports.sh   # use this binary as it is (no build)
#   BENCH_ONLY=governance bench/reports.sh      # time only these reports (service-requests, governance)
#   BENCH_KEEP_DB=1 bench/reports.sh postgres   # keep cogov_reports_bench afterwards (to EXPLAIN)
#
# Needs: python3 (with its sqlite3 module), curl, psql; PostgreSQL on
# 127.0.0.1:5432 with trust auth (BENCH_PG_ADMIN_URL, default
# postgres://postgres@127.0.0.1:5432/postgres; a database cogov_reports_bench is created, and
# dropped at the end unless BENCH_KEEP_DB is set).
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
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
    rm -rf "$WORK"
    # The PostgreSQL seed is dropped unless asked to keep it (to EXPLAIN a report afterwards).
    if [ -z "${BENCH_KEEP_DB:-}" ] && [ "$WHICH" != sqlite ]; then
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS cogov_reports_bench" 2>/dev/null || true
    fi
}
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

# Governance history over the same days: for each school one council with 12-20 seats, three
# holders per seat over the five years, a meeting every 15 days (one in twelve special, a few
# emergencies, some cancelled), 8-12 agenda items per meeting, attendance of every seated
# member, motions on action items (roll-call votes on a third), public comments on a quarter
# of the items, notices mostly on time, some late, some never recorded, a tenth amended.
if pg:
    fmt = lambda e, w: f"lpad(({e})::text, {w}, '0')"
    at = lambda d, h: f"(date_trunc('day', now() AT TIME ZONE 'UTC') - ({d}) * interval '1 day' + ({h}) * interval '1 hour')"
    day = lambda d: f"(CAST(now() AT TIME ZONE 'UTC' AS DATE) - CAST({d} AS INTEGER))"
    out.append("CREATE TEMP TABLE bench_n (i BIGINT PRIMARY KEY);")
    out.append("INSERT INTO bench_n SELECT i FROM generate_series(0, 999) AS g(i);")
else:
    fmt = lambda e, w: f"printf('%0{w}d', {e})"
    at = lambda d, h: f"strftime('%Y-%m-%d %H:%M:%f', 'now', 'start of day', (-({d})) || ' days', ({h}) || ' hours')"
    day = lambda d: f"date('now', (-({d})) || ' days')"
    out.append("CREATE TEMP TABLE bench_n (i INTEGER PRIMARY KEY);")
    out.append("INSERT INTO bench_n WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 999) SELECT i FROM s;")
uid = lambda kind, e: f"'00000000-0000-7000-8{kind}-' || " + fmt(e, 12)
school = lambda e: uid("000", e)
council, seat, person, meeting, item = (lambda e: uid("001", e)), (lambda e: uid("002", e)), (lambda e: uid("003", e)), (lambda e: uid("004", e)), (lambda e: uid("005", e))
constituencies = ["administrators", "teachers", "teachers", "teachers", "classified_staff", "families",
                  "families", "families", "families", "students", "students", "community_organizations",
                  "teachers", "families", "classified_staff", "students", "families",
                  "community_organizations", "teachers", "families"]
constituency = "CASE j " + " ".join(f"WHEN {j} THEN '{c}'" for j, c in enumerate(constituencies)) + " END"
voting = "(j NOT IN (10, 15))"
vacant = "((s * 7 + j * 3) % 11 = 0)"
rules = ('[{"type":"balance","name":"parity","left":["families","students","community_organizations"],'
         '"relation":"at_least","right":["district","administrators","teachers","classified_staff"],"count":"filled"},'
         '{"type":"at_least","constituency":"students","min":2}]')
term = 609  # days a holder sits; three holders cover five years
out.append("BEGIN;")
out.append("INSERT INTO councils (id, school_id, kind, regime, name, quorum_basis, regular_notice_hours, "
           "special_notice_hours, composition_rules, created_at, updated_at, version, max_seats_per_person, speaker_seconds) "
           f"SELECT {council('i')}, {school('i')}, CASE WHEN i % 5 < 3 THEN 'school_site_council' ELSE 'community_school_steering_committee' END, "
           f"CASE WHEN i % 5 < 3 THEN 'greene' ELSE 'brown' END, 'Council of Community School ' || i, 'filled_voting_seats', 72, 24, "
           f"'{rules}', {at(days, 0)}, {at(days, 0)}, 1, 1, 180 FROM bench_n WHERE i < 200;")
out.append("CREATE TEMP TABLE bench_s AS SELECT c.i AS s, n.i AS j, c.i * 100 + n.i AS sn FROM bench_n c CROSS JOIN bench_n n "
           "WHERE c.i < 200 AND n.i < 12 + c.i % 9;")
out.append("INSERT INTO people (id, display_name, preferred_language, created_at, updated_at, version) "
           f"SELECT {person('sn * 10 + h.i')}, 'Member ' || s || '-' || j || '-' || h.i, CASE WHEN (s + j) % 3 = 0 THEN 'es' ELSE 'en' END, "
           f"{at(days, 0)}, {at(days, 0)}, 1 FROM bench_s CROSS JOIN bench_n h WHERE h.i < 3;")
out.append("INSERT INTO seats (id, council_id, constituency, title, voting, term_start, term_end, holder_id, holder_since, "
           f"created_at, updated_at, version) SELECT {seat('sn')}, {council('s')}, {constituency}, 'Seat ' || (j + 1), {voting}, "
           f"{day(term)}, {day(term - 730)}, CASE WHEN {vacant} THEN NULL ELSE {person('sn * 10')} END, "
           f"CASE WHEN {vacant} THEN NULL ELSE {day(term)} END, {at(days, 0)}, {at(term, 0)}, 1 FROM bench_s;")
out.append("INSERT INTO seat_holdings (id, seat_id, person_id, started_on, ended_on, end_reason, created_at, updated_at, version) "
           f"SELECT {uid('00b', 'sn * 10 + h.i')}, {seat('sn')}, {person('sn * 10 + h.i')}, {day(f'(h.i + 1) * {term}')}, "
           f"CASE WHEN h.i > 0 THEN {day(f'h.i * {term}')} WHEN {vacant} THEN {day(60)} ELSE NULL END, "
           f"CASE WHEN h.i > 0 THEN 'term ended' WHEN {vacant} THEN 'resigned' ELSE NULL END, "
           f"{at(f'(h.i + 1) * {term}', 0)}, {at(f'(h.i + 1) * {term}', 0)}, 1 FROM bench_s CROSS JOIN bench_n h WHERE h.i < 3;")
# Meetings: k-th meeting of council s, d days ago.
out.append("CREATE TEMP TABLE bench_m AS SELECT c.i AS s, k.i AS k, c.i * 1000 + k.i AS mn, k.i * 15 + c.i % 15 AS d, "
           "CASE WHEN k.i % 60 = 37 AND c.i % 5 >= 3 THEN 'emergency' WHEN k.i % 12 = 11 THEN 'special' ELSE 'regular' END AS kind, "
           "12 + c.i % 9 AS nseats, 8 + (c.i + k.i) % 5 AS nitems, "
           "CASE WHEN (c.i * 7 + k.i) % 53 = 20 THEN 1 ELSE 0 END AS cancelled, "
           "CASE WHEN (c.i + k.i) % 97 = 50 THEN NULL WHEN k.i % 60 = 37 AND c.i % 5 >= 3 THEN 2 WHEN (c.i + k.i) % 31 = 7 THEN 40 "
           "WHEN k.i % 12 = 11 AND c.i % 5 >= 3 THEN 30 ELSE 72 + (k.i % 4) * 24 END AS lead "
           f"FROM bench_n c CROSS JOIN bench_n k WHERE c.i < 200 AND k.i * 15 + c.i % 15 < {days};")
out.append("INSERT INTO meetings (id, council_id, meeting_type, status, title, starts_at, ends_at, time_zone, location, "
           "interpretation_languages, noticed_at, cancel_reason, created_at, updated_at, version) "
           f"SELECT {meeting('mn')}, {council('s')}, kind, CASE WHEN cancelled = 1 THEN 'cancelled' ELSE 'adjourned' END, "
           "CASE kind WHEN 'regular' THEN 'Regular meeting' WHEN 'special' THEN 'Special meeting' ELSE 'Emergency meeting' END, "
           f"{at('d', 1)}, {at('d', 3)}, 'America/Los_Angeles', 'School library', '[\"es\"]', "
           f"CASE WHEN lead IS NULL THEN NULL ELSE {at('d', '1 - lead')} END, "
           f"CASE WHEN cancelled = 1 THEN 'no quorum expected' ELSE NULL END, {at('d + 10', 0)}, {at('d', 3)}, 1 FROM bench_m;")
out.append("INSERT INTO meeting_amendments (id, meeting_id, reason, within_notice_window, created_at, updated_at, version) "
           f"SELECT {uid('00a', 'mn')}, {meeting('mn')}, 'item added', TRUE, {at('d + 1', 0)}, {at('d + 1', 0)}, 1 "
           "FROM bench_m WHERE lead IS NOT NULL AND (s + k) % 10 = 4;")
# Agenda items: p-th item of meeting mn; a quarter proposed by staff (no seat).
out.append("CREATE TEMP TABLE bench_i AS SELECT m.s, m.k, m.mn, m.d, m.nseats, m.cancelled, p.i AS p, m.mn * 100 + p.i AS inum, "
           "CASE p.i % 6 WHEN 0 THEN 'information' WHEN 1 THEN 'discussion' WHEN 3 THEN 'public_comment' WHEN 4 THEN 'consent' ELSE 'action' END AS kind, "
           "CASE WHEN (m.k + p.i) % 4 = 0 THEN NULL ELSE m.s * 100 + (m.k + p.i * 3) % m.nseats END AS seatn "
           "FROM bench_m m CROSS JOIN bench_n p WHERE p.i < m.nitems;")
items = ("INSERT INTO agenda_items (id, council_id, meeting_id, status, position, kind, title, proposed_by_seat_id, "
         "documents, translations, decline_reason, added_late, created_at, updated_at, version) ")
out.append(items + f"SELECT {item('inum')}, {council('s')}, {meeting('mn')}, 'accepted', {fmt('p + 1', 2)}, kind, 'Item ' || (p + 1), "
           f"CASE WHEN seatn IS NULL THEN NULL ELSE {seat('seatn')} END, '[]', '{{}}', NULL, FALSE, {at('d + 12', 0)}, {at('d + 12', 0)}, 1 FROM bench_i;")
# Proposals that never reached an agenda: declined ones, and a few still proposed.
out.append(items + f"SELECT {item('mn * 100 + 99')}, {council('s')}, NULL, CASE WHEN k < 2 THEN 'proposed' ELSE 'declined' END, NULL, "
           f"'discussion', 'Proposal', {seat('s * 100 + k % nseats')}, '[]', '{{}}', CASE WHEN k < 2 THEN NULL ELSE 'out of scope' END, FALSE, "
           f"{at('d + 14', 0)}, {at('d + 12', 0)}, 1 FROM bench_m WHERE (s + k) % 3 = 0 OR k < 2;")
# Attendance of every member seated at the meeting (a vacant seat's holder left 60 days ago);
# holder h sat from (h + 1) * term to h * term days ago; one in ten absent.
holder = f"(CASE WHEN m.d / {term} > 2 THEN 2 ELSE m.d / {term} END)"
absent = "((m.s + m.k * 3 + n.j * 7) % 10 = 0)"
out.append("INSERT INTO meeting_attendance (id, meeting_id, seat_id, person_id, status, remote, arrived_at, created_at, updated_at, version) "
           f"SELECT {uid('006', 'm.mn * 100 + n.j')}, {meeting('m.mn')}, {seat('n.sn')}, {person(f'n.sn * 10 + {holder}')}, "
           f"CASE WHEN {absent} THEN 'absent' ELSE 'present' END, FALSE, CASE WHEN {absent} THEN NULL ELSE {at('m.d', 1)} END, "
           f"{at('m.d', 3)}, {at('m.d', 3)}, 1 FROM bench_m m JOIN bench_s n ON n.s = m.s "
           f"WHERE m.cancelled = 0 AND NOT ({vacant.replace('s ', 'n.s ').replace('j ', 'n.j ')} AND m.d < 60);")
# Motions on action items: most pass, one in seven fails, recent ones may be open.
mstatus = "CASE WHEN d < 15 AND p % 6 = 5 THEN 'open' WHEN (s + k + p) % 7 = 3 THEN 'failed' ELSE 'passed' END"
out.append("INSERT INTO motions (id, meeting_id, agenda_item_id, kind, text, mover_seat_id, seconder_seat_id, threshold, status, "
           "membership, closed_at, created_at, updated_at, version) "
           f"SELECT {uid('007', 'inum')}, {meeting('mn')}, {item('inum')}, 'main', 'Move to approve item ' || (p + 1), "
           f"{seat('s * 100 + (k + p) % nseats')}, {seat('s * 100 + (k + p + 1) % nseats')}, 'majority', {mstatus}, nseats, "
           f"CASE WHEN {mstatus} = 'open' THEN NULL ELSE {at('d', 2)} END, {at('d', 2)}, {at('d', 2)}, 1 "
           "FROM bench_i WHERE kind = 'action' AND cancelled = 0;")
# Roll-call votes on a third of the closed motions, by every voting member present or absent.
out.append("INSERT INTO votes (id, motion_id, seat_id, person_id, choice, created_at, updated_at, version) "
           f"SELECT {uid('008', 'i.inum * 100 + a_j')}, {uid('007', 'i.inum')}, {seat('i.s * 100 + a_j')}, a.person_id, "
           "CASE WHEN a.status = 'absent' THEN 'absent' WHEN (i.s + i.k + i.p + a_j) % 9 = 0 THEN 'abstain' "
           "WHEN (i.s + i.k + i.p) % 7 = 3 AND a_j % 2 = 0 THEN 'no' WHEN (i.s + i.k + i.p + a_j) % 6 = 0 THEN 'no' ELSE 'yes' END, "
           f"{at('i.d', 2)}, {at('i.d', 2)}, 1 "
           "FROM bench_i i JOIN (SELECT meeting_id, seat_id, person_id, status, "
           + ("CAST(right(seat_id, 2) AS INTEGER)" if pg else "CAST(substr(seat_id, -2) AS INTEGER)") + " AS a_j FROM meeting_attendance) a "
           f"ON a.meeting_id = {meeting('i.mn')} "
           "WHERE i.kind = 'action' AND i.cancelled = 0 AND (i.k + i.p) % 3 = 0 AND NOT (i.d < 15 AND i.p % 6 = 5) "
           "AND a_j NOT IN (10, 15);")
# Public comments: 0-5 on a quarter of the items, one in twenty hidden.
hidden = "((i.s + i.k + i.p + c.i) % 20 = 0)"
out.append("INSERT INTO public_comments (id, meeting_id, item_id, author_name, body, hidden_at, hidden_reason, hidden_by, "
           "created_at, updated_at, version) "
           f"SELECT {uid('009', 'i.inum * 10 + c.i')}, {meeting('i.mn')}, {item('i.inum')}, 'Resident ' || c.i, 'Comment on the item', "
           f"CASE WHEN {hidden} THEN {at('i.d + 1', 0)} ELSE NULL END, CASE WHEN {hidden} THEN 'off topic' ELSE NULL END, "
           f"CASE WHEN {hidden} THEN 'bench' ELSE NULL END, {at('i.d + 2', 0)}, {at('i.d + 2', 0)}, 1 "
           "FROM bench_i i CROSS JOIN bench_n c WHERE i.cancelled = 0 AND (i.k + i.p) % 4 = 1 AND c.i < (i.s + i.k + i.p) % 6;")
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
    local shape="SELECT 'councils', COUNT(*) FROM councils UNION ALL SELECT 'seats', COUNT(*) FROM seats
        UNION ALL SELECT 'people', COUNT(*) FROM people UNION ALL SELECT 'seat_holdings', COUNT(*) FROM seat_holdings
        UNION ALL SELECT 'meetings', COUNT(*) FROM meetings UNION ALL SELECT 'agenda_items', COUNT(*) FROM agenda_items
        UNION ALL SELECT 'meeting_attendance', COUNT(*) FROM meeting_attendance UNION ALL SELECT 'motions', COUNT(*) FROM motions
        UNION ALL SELECT 'votes', COUNT(*) FROM votes UNION ALL SELECT 'public_comments', COUNT(*) FROM public_comments
        UNION ALL SELECT 'meeting_amendments', COUNT(*) FROM meeting_amendments"
    if [[ $url == sqlite* ]]; then
        python3 -c "import sqlite3,sys; [print('%s=%s' % r, end=' ') for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]; print()" \
            "${url#sqlite://}" "$shape"
    else
        psql -At -F= "$url" -c "$shape" | tr '\n' ' '; echo
    fi
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
    printf '%-27s %-34s %8s %8s %8s\n' report query median_ms p95_ms max_ms
    local school=00000000-0000-7000-8000-000000000007 council=00000000-0000-7000-8001-000000000007
    for report in service-requests/{status-counts,durations,backlog,overdue,partners} \
        governance/{seats,attendance,agenda-sources,motions,notices,comments}; do
        [[ $report == ${BENCH_ONLY:-}* ]] || continue
        local queries=("" "school_id=$school" "from=$from&to=$to" "format=csv")
        [[ $report == governance/* ]] && queries+=("council_id=$council" "from=$from&to=$to&format=csv")
        # The comments report is paged by meeting: the largest page, as JSON and CSV.
        [[ $report == governance/comments ]] && queries+=("limit=1000" "limit=1000&format=csv")
        for q in "${queries[@]}"; do
            local times=()
            for _ in $(seq "$RUNS"); do
                times+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" \
                    "http://127.0.0.1:$PORT/api/v1/reports/$report?$q")")
            done
            local status
            status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
                "http://127.0.0.1:$PORT/api/v1/reports/$report?$q")
            printf '%s\n' "${times[@]}" | python3 -c '
import sys
v = sorted(float(x) * 1000 for x in sys.stdin)
name, q, status = sys.argv[1:4]
print("%-27s %-34s %8.1f %8.1f %8.1f  (HTTP %s)" % (name, q or "-", v[len(v)//2], v[min(len(v)-1, int(len(v)*0.95))], v[-1], status))
' "$report" "$q" "$status"
        done
    done
    # The whole comments report as CSV, page after page (1,000 meetings each) by the Link
    # header, as a script exporting it would: total time, pages, records.
    if [[ governance/comments == ${BENCH_ONLY:-}* ]]; then
        python3 - "http://127.0.0.1:$PORT" "$token" "$RUNS" <<'PY'
import re, sys, time, urllib.request
base, token, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
totals = []
for _ in range(runs):
    url, pages, records, slowest = "/api/v1/reports/governance/comments?limit=1000&format=csv", 0, 0, 0.0
    start = time.perf_counter()
    while url:
        t = time.perf_counter()
        req = urllib.request.Request(base + url, headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req) as res:
            body = res.read().decode("utf-8")
            link = res.headers.get("Link") or ""
        slowest = max(slowest, time.perf_counter() - t)
        pages += 1
        records += body.count("\r\n") - 1
        m = re.match(r"<([^>]+)>; rel=\"next\"", link)
        url = m.group(1) if m else None
    totals.append((time.perf_counter() - start, slowest))
totals.sort()
total, slowest = totals[len(totals) // 2]
print("governance/comments, every page as CSV (limit=1000): %d pages, %d records; median total %.1f ms, slowest page %.1f ms"
      % (pages, records, total * 1000, slowest * 1000))
PY
    fi
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
