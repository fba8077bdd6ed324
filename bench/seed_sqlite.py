"""Fill a cogov SQLite database with N councils (ids sort like the UUIDv7 ids cogov makes)."""
import sqlite3
import sys

path, total = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(path)
have = db.execute("SELECT count(*) FROM councils").fetchone()[0]
now = "2026-11-25 00:00:00.000000"
rows = (
    (f"00000000-0000-7000-8000-{i:012x}", "community_school_steering_committee", "brown",
     f"Council {i}", "filled_voting_seats", 72, 24, "[]", now, now, 1)
    for i in range(have, total)
)
db.executemany(
    "INSERT INTO councils (id, kind, regime, name, quorum_basis, regular_notice_hours,"
    " special_notice_hours, composition_rules, created_at, updated_at, version)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    rows,
)
db.commit()
print(db.execute("SELECT count(*) FROM councils").fetchone()[0])
