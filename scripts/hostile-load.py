"""Attacks from the public side of a webhook URL, each measured: see scripts/hostile-load."""
import json, socket, sys, threading, time, urllib.request
ING, EXE = int(sys.argv[1]), int(sys.argv[2])
API = "http://127.0.0.1:23001"; HOOK = "http://127.0.0.1:23000/api/webhook:trigger/"
peak = {"ingress": 0, "executor": 0}
def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1]) // 1024
def sample(stop):
    while not stop.is_set():
        peak["ingress"] = max(peak["ingress"], rss(ING)); peak["executor"] = max(peak["executor"], rss(EXE)); time.sleep(0.05)
def call(url, data=None, headers={}, method=None):
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()
def create(doc):
    s, b = call(API + "/api/workflows", json.dumps(doc).encode(), {"Authorization": "Bearer attack-admin", "Content-Type": "application/json"})
    return json.loads(b)["key"]
def measure(name, fn):
    for k in peak: peak[k] = 0
    stop = threading.Event(); t = threading.Thread(target=sample, args=(stop,)); t.start()
    base = {"ingress": rss(ING), "executor": rss(EXE)}
    outcome = fn()
    time.sleep(1); stop.set(); t.join()
    print(f"{name}: {outcome}; RSS before ingress {base['ingress']} MiB / executor {base['executor']} MiB, peak ingress {peak['ingress']} MiB / executor {peak['executor']} MiB")
plain = create({"title": "attack", "trigger": {"type": "webhook"}, "nodes": []})
limited = create({"title": "limited", "trigger": {"type": "webhook", "basicAuthentication": {"username": "shop", "password": "s3cret"}, "rateLimit": {"perSecond": 1, "burst": 1}}, "nodes": []})
def zeros():
    body = ("[" + ",".join(["0"] * 1_000_000) + "]").encode()
    codes = {}
    def one():
        s, _ = call(HOOK + plain, body, {"Content-Type": "application/json"}); codes[s] = codes.get(s, 0) + 1
    ts = [threading.Thread(target=one) for _ in range(40)]; [t.start() for t in ts]; [t.join() for t in ts]
    return f"40 calls of a 2 MB array of a million zeros answered {codes}"
def stall():
    socks = []; head = f"POST /api/webhook:trigger/{plain} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2000000\r\n\r\n".encode()
    for _ in range(120):
        s = socket.create_connection(("127.0.0.1", 23000)); s.sendall(head)
        try: s.sendall(b"x" * 1_000_000)
        except OSError: pass
        socks.append(s)
    time.sleep(12)
    codes = {}
    for s in socks:
        s.settimeout(5)
        try: first = s.recv(64).split(b" ")[1].decode()
        except Exception: first = "none"
        codes[first] = codes.get(first, 0) + 1; s.close()
    return f"120 connections declaring 2 MB and stalling after 1 MB answered {codes}"
def deep():
    codes = {}
    for d in (126, 127):
        s, _ = call(HOOK + plain, ("[" * d + "]" * d).encode(), {"Content-Type": "application/json"}); codes[d] = s
    return f"JSON nested 126/127 deep answered {codes}"
def flood():
    refused = {}
    for _ in range(200):
        s, _ = call(HOOK + limited, b"{}", {"Content-Type": "application/json", "Authorization": "Basic Z3Vlc3M6Z3Vlc3M="}); refused[s] = refused.get(s, 0) + 1
    import base64
    s, _ = call(HOOK + limited, b"{}", {"Content-Type": "application/json", "Authorization": "Basic " + base64.b64encode(b"shop:s3cret").decode()})
    return f"200 calls with wrong credentials answered {refused}; the real sender then got {s}"
def secrets():
    s, b = call(API + f"/internal/triggers/{limited}", headers={"Authorization": "Bearer attack-admin"})
    s2, b2 = call(API + "/api/workflows", headers={"Authorization": "Bearer attack-admin"})
    return f"admin token on the trigger route: {s}; password in the admin list: {'s3cret' in b2.decode()}"
import os
for name, fn in [(n, f) for n, f in [("zeros", zeros), ("stall", stall), ("deep", deep), ("flood", flood), ("secrets", secrets)] if n in os.environ.get("ONLY", "zeros stall deep flood secrets").split()]:
    measure(name, fn)
