#!/usr/bin/env python3
"""Floods POST /api/v1/auth/token with random usernames and passwords from many concurrent
clients for a bounded time, while sampling the server's resident memory and probing
/health/live. Loopback only. Prints one Markdown table row.

    bench/sign_in_flood.py --pid PID --base http://127.0.0.1:18182 --clients 200 --seconds 6
"""
import argparse
import http.client
import random
import string
import threading
import time
import urllib.parse


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--base", default="http://127.0.0.1:18182")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--label", default="")
    ap.add_argument("--sources", type=int, default=1,
                    help="spread clients over this many loopback source addresses (127.0.0.1, .2, ...)")
    args = ap.parse_args()
    url = urllib.parse.urlsplit(args.base)
    assert url.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    deadline = time.monotonic() + args.seconds
    statuses = {}
    lock = threading.Lock()

    def flood(source):
        conn = None
        while time.monotonic() < deadline:
            user = "".join(random.choices(string.ascii_lowercase, k=12))
            body = urllib.parse.urlencode(
                {"grant_type": "password", "username": user, "password": "wrong password " + user}
            )
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30,
                                                      source_address=(source, 0))
                conn.request("POST", "/api/v1/auth/token", body,
                              {"Content-Type": "application/x-www-form-urlencoded"})
                res = conn.getresponse()
                res.read()
                status = res.status
                if res.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as e:  # a refused or reset connection is an outcome too
                status = type(e).__name__
                conn = None
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    peak = [rss_mib(args.pid)]
    probes = []  # (ok, seconds)

    def watch():
        last_probe = 0.0
        while time.monotonic() < deadline + 1.0:
            peak[0] = max(peak[0], rss_mib(args.pid))
            now = time.monotonic()
            if now - last_probe >= 0.5:
                last_probe = now
                started = time.monotonic()
                try:
                    c = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
                    c.request("GET", "/health/live")
                    ok = c.getresponse().status == 200
                    c.close()
                except Exception:
                    ok = False
                probes.append((ok, time.monotonic() - started))
            time.sleep(0.05)

    idle = rss_mib(args.pid)
    sources = [f"127.0.0.{1 + i % max(1, args.sources)}" for i in range(args.clients)]
    threads = [threading.Thread(target=flood, args=(s,)) for s in sources]
    watcher = threading.Thread(target=watch)
    watcher.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    watcher.join()
    total = sum(statuses.values())
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0])))
    ok = sum(1 for p in probes if p[0])
    slowest = max((p[1] for p in probes), default=0.0)
    print(f"| {args.label} | {args.clients} | {args.seconds:g} s | {total} ({counts}) "
          f"| {idle:.0f} MiB | {peak[0]:.0f} MiB | {ok}/{len(probes)}, slowest {slowest * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
