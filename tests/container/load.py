#!/usr/bin/env python3
"""Load for the compose test: THREADS keep-alive clients POST /forward to
URL for SECONDS and count each reply's status (0: the connection failed).
Replies are checked, not stored. Prints one JSON object: {"200": n, ...}.
Usage: load.py URL SECONDS THREADS"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url, seconds, threads = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlsplit(url)
counts = {}
lock = threading.Lock()
end = time.monotonic() + seconds


def client(k):
    conn = None
    i = 0
    while time.monotonic() < end:
        i += 1
        body = '{"x": [%d, -%d]}' % (i, k)
        want = '{"y": [%d.0, %s]}' % (i, repr(-k * 0.01))
        status = 0
        try:
            if conn is None:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            conn.request("POST", u.path, body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            got = r.read().decode()
            status = r.status if r.status != 200 or got == want else -1  # -1: wrong reply
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
        with lock:
            counts[str(status)] = counts.get(str(status), 0) + 1


ts = [threading.Thread(target=client, args=(k,)) for k in range(1, threads + 1)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(json.dumps(counts, sort_keys=True))
