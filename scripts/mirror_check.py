#!/usr/bin/env python3
"""Proof that examples/mirror.py keeps an exact copy through creates, updates and deletes, and
resumes after being killed midway. Drives a running cogov (base URL, client id and secret as
arguments); exits non-zero on any difference. Run by scripts/mirror-check.sh."""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
MIRROR = os.path.join(HERE, "..", "examples", "mirror.py")
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
import mirror  # noqa: E402

base, client_id, secret = sys.argv[1:4]
api = mirror.Api(base, client_id=client_id, client_secret=secret)
api.sign_in()


def call(method, path, body=None, etag=None):
    headers = {"Authorization": "Bearer " + api.token, "Content-Type": "application/json"}
    if etag:
        headers["If-Match"] = etag
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as res:
        text = res.read()
        return json.loads(text) if text else None


def tag(record):
    return f'"{record["version"]}"'


def server_state():
    """What the server holds now, read as a full sync reads it."""
    with tempfile.TemporaryDirectory() as tmp:
        db = mirror.open_copy(os.path.join(tmp, "expected.sqlite"))
        mirror.full_sync(api, db, lambda _: None)
        return dict(db.execute("SELECT href, body FROM records"))


def copy_state(path):
    return dict(sqlite3.connect(path).execute("SELECT href, body FROM records"))


def cursor(path):
    row = sqlite3.connect(path).execute("SELECT value FROM sync_state WHERE key='cursor'").fetchone()
    return row[0] if row else None


def sync(path, *extra):
    subprocess.run(
        [sys.executable, MIRROR, "--base", base, "--client-id", client_id,
         f"--client-secret={secret}", "--db", path, *extra],
        check=True,
    )


def settle(path, rounds=50):
    """Syncs until the copy equals the server (on PostgreSQL a change is served once every
    older transaction has finished, so the last one can take a moment to appear)."""
    for _ in range(rounds):
        sync(path)
        expected, actual = server_state(), copy_state(path)
        if expected == actual:
            return len(actual)
        time.sleep(0.2)
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    differ = sorted(h for h in set(expected) & set(actual) if expected[h] != actual[h])
    sys.exit(f"FAIL: the copy differs: missing {missing[:5]}, extra {extra[:5]}, differ {differ[:5]}")


def school(n):
    return call("POST", "/api/v1/schools", {
        "name": f"Mirror School {n}", "district_code": f"MIR-{n}",
        "time_zone": "America/Los_Angeles"})


with tempfile.TemporaryDirectory() as tmp:
    copy = os.path.join(tmp, "copy.sqlite")

    # Creates: schools, councils with seats, people.
    schools = [school(n) for n in range(3)]
    council = call("POST", "/api/v1/councils", {"kind": "school_site_council", "name": "Mirror SSC",
                                                 "school_id": schools[0]["id"]})
    seats = [call("POST", f"/api/v1/councils/{council['id']}/seats",
                  {"constituency": c, "title": f"{c} seat"})
             for c in ("families", "teachers", "students")]
    people = [call("POST", "/api/v1/people", {"display_name": f"Mirror Person {n}"}) for n in range(3)]
    print(f"first sync (full): {settle(copy)} records equal", file=sys.stderr)

    # Updates and deletes.
    call("PATCH", f"/api/v1/schools/{schools[1]['id']}", {"name": "Renamed School"}, tag(schools[1]))
    call("PATCH", f"/api/v1/councils/{council['id']}", {"name": "Mirror SSC (renamed)"}, tag(council))
    call("DELETE", f"/api/v1/seats/{seats[2]['id']}", etag=tag(seats[2]))
    call("DELETE", f"/api/v1/people/{people[0]['id']}", etag=tag(people[0]))
    call("DELETE", f"/api/v1/schools/{schools[2]['id']}", etag=tag(schools[2]))
    school(3)
    print(f"second sync (changes): {settle(copy)} records equal", file=sys.stderr)

    # Killed midway: many changes, a copy following one change per page, killed once it has
    # moved on; the next run resumes from where it stopped and ends exact.
    for n in range(4, 124):
        school(n)
    before = cursor(copy)
    follower = subprocess.Popen(
        [sys.executable, MIRROR, "--base", base, "--client-id", client_id,
         f"--client-secret={secret}", "--db", copy, "--limit", "1"],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while cursor(copy) == before and time.time() < deadline and follower.poll() is None:
        time.sleep(0.02)
    time.sleep(0.1)
    follower.kill()
    follower.wait()
    if follower.returncode == 0:
        sys.exit("FAIL: the follower finished before it could be killed; the test proves nothing")
    partial = len(copy_state(copy))
    print(f"killed midway with {partial} records copied", file=sys.stderr)
    if cursor(copy) == before:
        sys.exit("FAIL: the killed run had not moved the cursor")
    total = settle(copy)
    if partial >= total:
        sys.exit("FAIL: the kill came after the copy was complete; the test proves nothing")
    print(f"resumed after the kill: {total} records equal", file=sys.stderr)
print("mirror check: OK")
