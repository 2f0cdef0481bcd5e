#!/usr/bin/env python3
# Hostile families against a running sidecar (issue 17), raw sockets, reading Netty's direct memory from /metrics:
# WebSocket upgrades carrying a body, then 2,000 silent connections.  Usage: exhaust-leaks.py PORT [COUNT]
import socket, sys, time, re, urllib.request
port = int(sys.argv[1])
def metric(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    vals = [float(m.group(1)) for m in re.finditer(r'^' + name + r'(?:\{[^}]*\})? (\S+)$', text, re.M)]
    return vals
def direct():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    m = re.search(r'^netty_allocator_memory_used_bytes\{type="direct"\} (\S+)$', text, re.M)
    return float(m.group(1))
def healthz():
    t = time.time()
    r = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status
    return r, (time.time() - t) * 1000
body = b"x" * 2048
req = (b"GET /registry HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 2048\r\n\r\n" + body)
print("direct before", direct())
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
t = time.time(); statuses = {}
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    head = s.recv(64)
    st = head[9:12].decode() if head.startswith(b"HTTP/1.1") else "closed"
    statuses[st] = statuses.get(st, 0) + 1
    s.close()
print(f"family 1: {n} upgrades with a 2 KiB body in {time.time()-t:.1f}s, answers {statuses}")
time.sleep(2)
print("direct after", direct(), "healthz", healthz())
# family 5: silent connections
socks = []
t = time.time()
for i in range(2000):
    socks.append(socket.create_connection(("127.0.0.1", port)))
print("opened 2000 silent connections; healthz", healthz())
for s in socks:
    s.settimeout(30)
closed_at = []
for s in socks:
    try:
        d = s.recv(1)
        closed_at.append(time.time() - t)
    except Exception as e:
        closed_at.append(-1)
    s.close()
print(f"family 5: last silent connection closed by the sidecar {max(closed_at):.1f}s after opening (header timeout 10s); not closed: {closed_at.count(-1)}")
print("direct end", direct(), "healthz", healthz())
