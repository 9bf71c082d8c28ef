#!/usr/bin/env python3
# Slow clients against a running server (issue 11): 2,000 connections that
# trickle a head byte every 3 s and 1,000 idle keep-alive connections,
# then 20 small requests from a new client; prints their median and max
# latency and the server RSS; exits 1 when the median is 100 ms or more.
# Usage: bench/slowloris.py PORT SERVER_PID
# (the soft open-file limit must allow 3,100 descriptors).
import socket, sys, time, os, resource, statistics
port = int(sys.argv[1]); pid = int(sys.argv[2])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
trick, idle = [], []
for i in range(2000):
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(b'POST /forward HTTP/1.1\r\nHost: a\r\n'); trick.append(s)
for i in range(1000):
    s = socket.create_connection(('127.0.0.1', port)); s.sendall(b'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n'); s.recv(1000); idle.append(s)
def rss():
    for l in open('/proc/%d/status' % pid):
        if l.startswith('VmRSS'): return l.split()[1]
lat = []
last = 0
while len(lat) < 20:
    if time.time() - last > 3:
        for s in trick:
            try: s.send(b'X')
            except OSError: pass
        last = time.time()
    t = time.time(); c = socket.create_connection(('127.0.0.1', port))
    c.sendall(b'POST /forward HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\nConnection: close\r\n\r\n[1, -2.5]')
    r = c.recv(1000); lat.append((time.time() - t) * 1000); c.close()
    assert r.startswith(b'HTTP/1.1 200'), r
    time.sleep(0.2)
med = statistics.median(lat)
print('median %.2f ms, max %.2f ms over %d; server RSS %s kB with %d+%d connections open' % (med, max(lat), len(lat), rss(), len(trick), len(idle)))
sys.exit(0 if med < 100 else 1)  # the goal: under 100 ms
