#!/usr/bin/env python3
# The buffering budget against a running sidecar (issue 17): 40 unfinished 4 MB bodies; how many are held,
# how many answered 503, what /metrics says.  Usage: exhaust-budget.py PORT
import socket, sys, time, re, urllib.request
port = int(sys.argv[1])
def scrape(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    m = re.search(r'^' + name + r'(?:\{[^}]*\})? (\S+)$', text, re.M)
    return float(m.group(1))
socks = []; refused = 0
for i in range(40):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /registry HTTP/1.1\r\nHost: s\r\nContent-Length: 4000000\r\n\r\n" + b"{" + b" " * 1000000)
    s.settimeout(0.3)
    try:
        head = s.recv(20)
        if b" 503 " in head: refused += 1
    except socket.timeout:
        pass
    socks.append(s)
print(f"40 unfinished 4 MB bodies: {refused} answered 503 at once; buffered {scrape('sidecar_buffered_bytes')/1e6:.1f} MB; "
      f"refused_total {scrape('sidecar_buffered_refused_total'):.0f}; heap used {scrape('jvm_memory_used_bytes'):.0f}")
print("healthz", urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz").status)
for s in socks: s.close()
time.sleep(1)
print(f"after closing: buffered {scrape('sidecar_buffered_bytes'):.0f}")
