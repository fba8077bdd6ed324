#!/usr/bin/env python3
"""Checks a cogov council's record (its hash chain of public acts) without trusting the server.

Usage:
    python3 scripts/verify_record.py BASE_URL COUNCIL_ID
    python3 scripts/verify_record.py --file record.json

BASE_URL is the server's root (https://cogov.district.example); the record is read from
BASE_URL/api/v1/councils/COUNCIL_ID/record, every page. With --file, the entries are read from a
saved file: either one page as served ({"items": [...]}) or a JSON array of entries.

Each entry's hash must be the lowercase hex SHA-256 of its prev_hash, a line feed, and the
canonical JSON of {council_id, data, kind, recorded_at, seq, subject_id}; entries are numbered
1, 2, 3 ... and each prev_hash is the hash before it (64 zeros for the first). docs/VERIFY.md
describes the canonical form. Prints "ok: N entries, head HASH" and exits 0, or names the first
bad entry and exits 1. Python standard library only.
"""

import hashlib
import json
import sys
import urllib.parse
import urllib.request

GENESIS = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def canonical_string(text):
    out = ['"']
    for c in text:
        if c in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[c])
        elif ord(c) < 0x20 or c == "\x7f":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def canonical(value):
    """The canonical JSON text: what `jq -cS .` prints for the values a record holds."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValueError("integer out of range: %d" % value)
        return str(value)
    if isinstance(value, float):
        raise ValueError("the record holds no fractional numbers: %r" % value)
    if isinstance(value, str):
        return canonical_string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: k.encode("utf-8"))
        return "{" + ",".join(canonical_string(k) + ":" + canonical(value[k]) for k in keys) + "}"
    raise ValueError("not a JSON value: %r" % (value,))


def entry_hash(entry):
    body = {
        "council_id": entry["council_id"],
        "data": entry["data"],
        "kind": entry["kind"],
        "recorded_at": entry["recorded_at"],
        "seq": entry["seq"],
        "subject_id": entry["subject"]["id"],
    }
    text = entry["prev_hash"] + "\n" + canonical(body)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fetch(base, council):
    after = 0
    while True:
        query = urllib.parse.urlencode({"limit": 200, "after_seq": after})
        url = "%s/api/v1/councils/%s/record?%s" % (base.rstrip("/"), council, query)
        with urllib.request.urlopen(url) as reply:
            page = json.load(reply)
        items = page["items"]
        if not items:
            return
        for entry in items:
            yield entry
        after = items[-1]["seq"]


def verify(entries):
    """Returns (True, count, head) or (False, message)."""
    prev, seq = GENESIS, 0
    for entry in entries:
        seq += 1
        if entry.get("seq") != seq:
            return False, "gap at entry %d: found entry %s" % (seq, entry.get("seq"))
        if entry.get("prev_hash") != prev:
            return False, "broken link at entry %d" % seq
        try:
            computed = entry_hash(entry)
        except (KeyError, TypeError, ValueError) as err:
            return False, "hash mismatch at entry %d (%s)" % (seq, err)
        if computed != entry.get("hash"):
            return False, "hash mismatch at entry %d" % seq
        prev = computed
    return True, seq, prev


def main(argv):
    if len(argv) == 3 and argv[1] == "--file":
        with open(argv[2], encoding="utf-8") as f:
            saved = json.load(f)
        entries = saved["items"] if isinstance(saved, dict) else saved
    elif len(argv) == 3:
        entries = fetch(argv[1], argv[2])
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    outcome = verify(entries)
    if outcome[0]:
        print("ok: %d entries, head %s" % (outcome[1], outcome[2]))
        return 0
    print(outcome[1])
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
