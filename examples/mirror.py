#!/usr/bin/env python3
"""Keep a local SQLite copy of a cogov district, through the change feed.

Standard library only. Run it as often as you like (cron, a loop): the first run copies
everything (a full sync), later runs apply only what changed. It can be stopped at any moment
(even killed): each page of changes is applied in one local transaction together with the feed
cursor, so the next run carries on from the last page it finished, and applying a change twice
does no harm.

    python3 examples/mirror.py --base https://cogov.district.example \\
        --client-id ID --client-secret=SECRET --db district.sqlite

What is copied: schools, councils, their seats and meetings, people, service categories and
partner organizations — each record's JSON as the API returns it, with its version (ETag). With
a district admin's client every record is copied; with another role, what that role may read.

How it works (docs/INTEGRATION.md, "Follow changes"):
  1. Full sync: take `GET /api/v1/changes/head`, read every collection, store the head cursor.
  2. Follow: `GET /api/v1/changes?cursor=…`; for each change of a copied kind, read the
     record at its `href` (a deleted record, or one deleted since, is removed locally).
  3. If the cursor has expired (410 `cursor-expired`: older than the server's retention), throw
     the copy away and start again at 1.
"""

import argparse
import base64
import json
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request

# Kinds of records copied, by the `resource` name the change feed uses.
KINDS = {
    "school",
    "council",
    "seat",
    "meeting",
    "person",
    "service_category",
    "partner_organization",
}

# Top-level collections read in a full sync, and the kind of their items.
COLLECTIONS = [
    ("/api/v1/schools", "school"),
    ("/api/v1/councils", "council"),
    ("/api/v1/people", "person"),
    ("/api/v1/service-categories", "service_category"),
    ("/api/v1/partner-organizations", "partner_organization"),
]

# Collections under each council, and the kind of their items.
COUNCIL_COLLECTIONS = [("seats", "seat"), ("meetings", "meeting")]

HREF = {
    "school": "/api/v1/schools/{}",
    "council": "/api/v1/councils/{}",
    "seat": "/api/v1/seats/{}",
    "meeting": "/api/v1/meetings/{}",
    "person": "/api/v1/people/{}",
    "service_category": "/api/v1/service-categories/{}",
    "partner_organization": "/api/v1/partner-organizations/{}",
}


class CursorExpired(Exception):
    pass


class Api:
    def __init__(self, base, token=None, client_id=None, client_secret=None, timeout=30):
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.client = (client_id, client_secret)
        self.token = token

    def sign_in(self):
        client_id, secret = self.client
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        req = urllib.request.Request(
            self.base + "/api/v1/auth/token",
            data=b"grant_type=client_credentials",
            headers={
                "Authorization": "Basic " + basic,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as res:
            self.token = json.load(res)["access_token"]

    def get(self, path):
        """GET a path or URL: (status, JSON body, headers). 404 and 410 are answers, not errors."""
        url = path if path.startswith("http") else self.base + path
        for attempt in (1, 2):
            headers = {"Accept": "application/json"}
            if self.token:
                headers["Authorization"] = "Bearer " + self.token
            req = urllib.request.Request(url, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    return res.status, json.load(res), res.headers
            except urllib.error.HTTPError as err:
                if err.code == 401 and attempt == 1 and self.client[0]:
                    self.sign_in()  # the token expired: take a new one and retry once
                    continue
                if err.code in (404, 410):
                    body = json.loads(err.read() or b"{}")
                    return err.code, body, err.headers
                raise
        raise RuntimeError("unreachable")

    def pages(self, path):
        """Every item of a paged collection, following `Link: <…>; rel="next"`."""
        url = path + ("&" if "?" in path else "?") + "limit=200"
        while url:
            status, body, headers = self.get(url)
            if status != 200:
                return
            yield from body["items"]
            url = next_link(headers.get("Link"))


def next_link(link):
    for part in (link or "").split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params:
            return target.strip().strip("<>")
    return None


def open_copy(path):
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS records (
            href TEXT PRIMARY KEY,
            resource TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )
    return db


def cursor_of(db):
    row = db.execute("SELECT value FROM sync_state WHERE key = 'cursor'").fetchone()
    return row[0] if row else None


def store(db, resource, record):
    href = HREF[resource].format(record["id"])
    db.execute(
        "INSERT INTO records (href, resource, id, version, body) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (href) DO UPDATE SET version = excluded.version, body = excluded.body",
        (href, resource, record["id"], record.get("version", 0), json.dumps(record, sort_keys=True)),
    )


def full_sync(api, db, log):
    """Copies everything anew; commits once, with the cursor, so a stop midway leaves no half copy."""
    _, head, _ = api.get("/api/v1/changes/head")
    with db:
        db.execute("DELETE FROM records")
        councils = []
        for path, resource in COLLECTIONS:
            for record in api.pages(path):
                store(db, resource, record)
                if resource == "council":
                    councils.append(record["id"])
        for council in councils:
            for sub, resource in COUNCIL_COLLECTIONS:
                for record in api.pages(f"/api/v1/councils/{council}/{sub}"):
                    store(db, resource, record)
        db.execute(
            "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)", (head["cursor"],)
        )
    count = db.execute("SELECT count(*) FROM records").fetchone()[0]
    log(f"full sync: {count} records")


def apply_change(api, db, change):
    resource, href = change["resource"], change.get("href")
    if resource not in KINDS or not href:
        return False
    if change["action"] == "deleted":
        db.execute("DELETE FROM records WHERE href = ?", (href,))
        return True
    status, record, _ = api.get(href)
    if status == 404:
        # Deleted since (its tombstone follows), or no longer readable by this caller.
        db.execute("DELETE FROM records WHERE href = ?", (href,))
    else:
        store(db, resource, record)
    return True


def follow(api, db, log, limit):
    cursor = cursor_of(db)
    applied = 0
    while True:
        query = urllib.parse.urlencode({"cursor": cursor, "limit": limit})
        status, page, headers = api.get(f"/api/v1/changes?{query}")
        if status == 410:
            raise CursorExpired(page.get("detail", "cursor expired"))
        with db:  # one local transaction per page, with the cursor that follows it
            for change in page["items"]:
                applied += apply_change(api, db, change)
            cursor = page["next_cursor"]
            db.execute(
                "INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)", (cursor,)
            )
        if not next_link(headers.get("Link")):
            break
    log(f"followed the feed: {applied} changes applied")


def sync(api, db, log, limit=200):
    if cursor_of(db) is None:
        full_sync(api, db, log)
    try:
        follow(api, db, log, limit)
    except CursorExpired as err:
        log(f"cursor expired ({err}); full sync")
        with db:
            db.execute("DELETE FROM sync_state WHERE key = 'cursor'")
        full_sync(api, db, log)
        follow(api, db, log, limit)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="cogov's base URL")
    parser.add_argument("--db", required=True, help="the local SQLite file")
    parser.add_argument("--token", help="a bearer token (else client credentials)")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--limit", type=int, default=200, help="changes per page (1-200)")
    args = parser.parse_args()
    if not args.token and not (args.client_id and args.client_secret):
        parser.error("give --token, or --client-id and --client-secret")
    api = Api(args.base, args.token, args.client_id, args.client_secret)
    if not api.token:
        api.sign_in()
    db = open_copy(args.db)
    sync(api, db, lambda text: print(text, file=sys.stderr), args.limit)


if __name__ == "__main__":
    main()
