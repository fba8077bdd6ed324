#!/usr/bin/env bash
# Roster import at district scale: generates a OneRoster 1.2 zip with BENCH_USERS users
# (default 100,000) and 20 schools, imports it with `cogov import` on SQLite and on PostgreSQL,
# then imports it again (every row unchanged), and reports wall time and peak memory
# (/usr/bin/time -v). While the first import runs, a small second import (one school, another
# writer, another process) runs every second, to show that other writes are served between
# batches; its latencies are reported (count, median, slowest), and any that failed with its exit
# status (139: a segmentation fault).
#
#   bench/import.sh                # both backends
#   bench/import.sh sqlite         # or: postgres
#   BENCH_PROFILE=debug bench/import.sh   # use the debug build instead of building release
#   BENCH_BIN=path/to/cogov bench/import.sh   # use this binary as it is (no build)
#   BENCH_USERS=20000 bench/import.sh postgres # a smaller roster
#
# BENCH_PG_OPTIONS is appended to the `options` of every PostgreSQL connection of the run (URL
# encoded, each setting starting with `%20`), e.g. to have the server log its slow statements and
# their plans (as a superuser; the log is wherever the server writes its log):
#   BENCH_PG_OPTIONS='%20-clog_min_duration_statement%3D50' bench/import.sh postgres
#   BENCH_PG_OPTIONS='%20-csession_preload_libraries%3Dauto_explain%20-cauto_explain.log_min_duration%3D50' \
#       bench/import.sh postgres
#
# Needs: python3, /usr/bin/time (apt-get install time), psql; PostgreSQL on 127.0.0.1:5432 with
# trust auth (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${BENCH_USERS:-100000}
PROFILE=${BENCH_PROFILE:-release}
PG=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
WHICH=${1:-both}

if [ -n "${BENCH_BIN:-}" ]; then
    BIN=$BENCH_BIN
else
    if [ "$PROFILE" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
    BIN=target/$PROFILE/cogov
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK/roster.zip" "$USERS" <<'PY'
import csv, io, sys, zipfile
path, users = sys.argv[1], int(sys.argv[2])
roles = ["student", "student", "student", "parent", "guardian", "teacher", "aide", "principal"]
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("manifest.csv", "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n"
               "file.orgs,bulk\nfile.users,bulk\n")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId"])
    w.writerow(["district-1", "", "", "Unified District", "district", "D1", ""])
    for s in range(20):
        w.writerow([f"school-{s}", "", "", f"Community School {s}", "school", f"CS-{s:03}", "district-1"])
    z.writestr("orgs.csv", buf.getvalue())
    with z.open("users.csv", "w") as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["sourcedId", "status", "dateLastModified", "enabledUser", "username", "userIds",
                    "givenName", "familyName", "middleName", "identifier", "email", "sms", "phone",
                    "agentSourcedIds", "grades", "password", "userMasterIdentifier",
                    "resourceSourcedIds", "preferredGivenName", "preferredMiddleName",
                    "preferredFamilyName", "primaryOrg", "pronouns"])
        for n in range(users):
            w.writerow([f"user-{n}", "", "", "true", f"u{n}", "", f"Given{n}", f"Family{n}", "",
                        f"{n:07}", f"u{n}@example.org", "", "", "", "", "", "", "", "", "", "",
                        f"school-{n % 20}", ""])
        out.flush()
        out.detach()
PY
SMALL="$WORK/small"
mkdir -p "$SMALL"

# Runs `cogov import` under /usr/bin/time; prints "seconds peak-KiB summary".
measure() {
    local url=$1; shift
    COGOV_DATABASE_URL=$url /usr/bin/time -v "$BIN" import "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || true
    local secs kib
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$WORK/err.txt")
    kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/err.txt")
    echo "$secs $kib $(grep -m1 '^import ' "$WORK/out.txt")"
}

# Small imports from another process while the big one runs; prints each one's seconds.
other_writes() {
    local url=$1 n=0
    while [ -e "$WORK/running" ]; do
        n=$((n + 1))
        printf 'external_id,name,district_code,time_zone\nw%s,Side School %s,SIDE-%s,UTC\n' "$n" "$n" "$n" >"$SMALL/schools.csv"
        local t0 t1 rc=0
        t0=$(date +%s.%N)
        COGOV_DATABASE_URL=$url "$BIN" import "$SMALL/schools.csv" >/dev/null 2>"$WORK/side-err.txt" || rc=$?
        t1=$(date +%s.%N)
        if [ "$rc" = 0 ]; then
            echo "$t0 $t1" | awk '{printf "%.2f\n", $2-$1}' >>"$WORK/side.txt"
        else
            # Failed side writes are counted with their exit status (139: killed by SIGSEGV).
            echo "exit $rc: $(head -c 200 "$WORK/side-err.txt" | tr '\n' ' ')" >>"$WORK/side-failed.txt"
        fi
        sleep 1
    done
}

run_backend() {
    local name=$1 url=$2
    COGOV_DATABASE_URL=$url "$BIN" migrate >/dev/null 2>&1
    : >"$WORK/side.txt"
    : >"$WORK/side-failed.txt"
    touch "$WORK/running"
    other_writes "$url" &
    local side=$!
    local first second
    first=$(measure "$url" --on-error commit_good_rows --time-zone America/Los_Angeles "$WORK/roster.zip")
    rm -f "$WORK/running"
    wait "$side" || true
    second=$(measure "$url" --on-error commit_good_rows "$WORK/roster.zip")
    local served max median
    served=$(wc -l <"$WORK/side.txt")
    max=$(sort -n "$WORK/side.txt" | tail -1)
    median=$(sort -n "$WORK/side.txt" | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
    echo "| $name | first run | $(echo "$first" | awk '{printf "%.1f s | %.0f MiB", $1, $2/1024}') | $(echo "$first" | cut -d' ' -f3-) |"
    echo "| $name | second run | $(echo "$second" | awk '{printf "%.1f s | %.0f MiB", $1, $2/1024}') | $(echo "$second" | cut -d' ' -f3-) |"
    echo "| $name | other writes during the first run | ${served} served, $(wc -l <"$WORK/side-failed.txt") failed | median ${median:-n/a} s, slowest ${max:-n/a} s | $(sort "$WORK/side-failed.txt" | uniq -c | tr '\n' ';') |"
}

echo "users: $USERS, build: $PROFILE, zip: $(du -h "$WORK/roster.zip" | cut -f1)"
echo "| backend | run | wall time | peak RSS | result |"
echo "|---|---|---|---|---|"
if [ "$WHICH" = both ] || [ "$WHICH" = sqlite ]; then
    run_backend sqlite "sqlite://$WORK/bench.db"
fi
if [ "$WHICH" = both ] || [ "$WHICH" = postgres ]; then
    psql -q "$PG" -c "DROP SCHEMA IF EXISTS cogov_import_bench CASCADE" -c "CREATE SCHEMA cogov_import_bench" >/dev/null 2>&1
    run_backend postgresql "$PG?options=-csearch_path%3Dcogov_import_bench${BENCH_PG_OPTIONS:-}"
    psql -q "$PG" -c "DROP SCHEMA IF EXISTS cogov_import_bench CASCADE" >/dev/null 2>&1
fi
