#!/usr/bin/env python3
"""HTTP over a Unix socket, for what bash cannot time well.

    sock.py call SOCKET METHOD PATH [JSON]
        one request; prints the status and body, exits 1 unless 2xx
    sock.py latency SOCKET METHOD PATH [JSON] [--n N] [--batches B] [--remove-created]
        B batches of N requests one after another, a new connection each (as
        dockerd's plugin client and the docker CLI make them); prints one line
        "P50 P99" (ms) per batch. --remove-created: the answer carries an "Id"
        (POST /containers/create) and the container is removed after each
        request, untimed.
    sock.py rate SOCKET PATH BODY_FILE [--seconds S] [--threads T]
        POSTs BODY_FILE as fast as T threads can for S seconds; prints
        {"per_second": r, "n": n, "answers": {...}} (answers by "Allow" value)
    sock.py each SOCKET ENDPOINT PREFIX FIRST LAST [JSON_FIELDS] [--threads T]
        VolumeDriver.ENDPOINT for each name PREFIXffff..PREFIXllll (four
        digits), the body {"Name": name} plus JSON_FIELDS ({"Opts": ...} for
        Create, {"ID": ...} for Mount and Unmount); fails on any error answer
    sock.py spawn-and-wait SOCKET PIDFILE LOG -- CMD...
        starts CMD (its output appended to LOG, its PID written to PIDFILE)
        and polls VolumeDriver.List every 2 ms until it answers; prints the
        milliseconds from the spawn to the first answer (helixvol answers
        nothing but Plugin.Activate until its recovery is done)
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def request(sock, method, path, body=None, headers=None):
    c = UnixConnection(sock)
    try:
        h = {"Content-Type": "application/json"} if body is not None else {}
        h.update(headers or {})
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def options(args, name, default, conv=int):
    if name in args:
        i = args.index(name)
        value = conv(args[i + 1])
        del args[i:i + 2]
        return value
    return default


def cmd_call(args):
    sock, method, path = args[:3]
    body = args[3].encode() if len(args) > 3 else None
    status, data = request(sock, method, path, body)
    print(status, data.decode(errors="replace"))
    return 0 if 200 <= status < 300 else 1


def cmd_latency(args):
    n = options(args, "--n", 200)
    batches = options(args, "--batches", 1)
    remove = "--remove-created" in args
    if remove:
        args.remove("--remove-created")
    sock, method, path = args[:3]
    body = args[3].encode() if len(args) > 3 else None
    for _ in range(batches):
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            status, data = request(sock, method, path, body)
            times.append((time.perf_counter() - t0) * 1000)
            if not 200 <= status < 300:
                sys.exit(f"latency: {method} {path}: {status} {data[:300]!r}")
            if remove:
                cid = json.loads(data)["Id"]
                prefix = path.split("/containers/")[0]
                request(sock, "DELETE", f"{prefix}/containers/{cid}?force=1")
        times.sort()
        print(f"{percentile(times, 50):.3f} {percentile(times, 99):.3f}", flush=True)
    return 0


def cmd_rate(args):
    seconds = options(args, "--seconds", 5.0, float)
    threads = options(args, "--threads", 2)
    sock, path, body_file = args[:3]
    with open(body_file, "rb") as f:
        body = f.read()
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()
    answers = {}
    errors = []

    def work():
        local = {}
        try:
            while time.perf_counter() < deadline:
                status, data = request(sock, "POST", path, body)
                key = str(status)
                if status == 200:
                    try:
                        key = "Allow=" + str(json.loads(data).get("Allow"))
                    except ValueError:
                        key = "200 unparsable"
                local[key] = local.get(key, 0) + 1
        except Exception as e:  # reported, not raised: the count so far still stands
            errors.append(repr(e))
        with lock:
            for k, v in local.items():
                answers[k] = answers.get(k, 0) + v

    t0 = time.perf_counter()
    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    elapsed = time.perf_counter() - t0
    n = sum(answers.values())
    print(json.dumps({"per_second": n / elapsed, "n": n, "answers": answers,
                      "errors": errors[:3]}))
    return 0 if not errors else 1


def cmd_each(args):
    threads = options(args, "--threads", 2)
    sock, endpoint, prefix = args[:3]
    first, last = int(args[3]), int(args[4])
    fields = json.loads(args[5]) if len(args) > 5 else {}
    names = [f"{prefix}{i:04d}" for i in range(first, last + 1)]
    failures = []

    def work(part):
        for name in part:
            body = json.dumps({"Name": name, **fields}).encode()
            status, data = request(sock, "POST", f"/VolumeDriver.{endpoint}", body)
            err = json.loads(data).get("Err") if data else None
            if status != 200 or err:
                failures.append(f"{name}: {status} {err or data[:200]!r}")

    ts = [threading.Thread(target=work, args=(names[i::threads],)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if failures:
        sys.exit(f"each {endpoint}: " + "; ".join(failures[:3]))
    return 0


def cmd_spawn_and_wait(args):
    sock, pidfile, log = args[:3]
    cmd = args[args.index("--") + 1:]
    with open(log, "ab") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    with open(pidfile, "w") as f:
        f.write(f"{p.pid}\n")
    deadline = t0 + 120
    while True:
        try:
            status, _ = request(sock, "POST", "/VolumeDriver.List", b"{}")
            if status == 200:
                break
        except OSError:
            pass
        if p.poll() is not None:
            sys.exit(f"spawn-and-wait: {cmd[0]} exited with {p.returncode}")
        if time.perf_counter() > deadline:
            sys.exit("spawn-and-wait: no answer within 120 s")
        time.sleep(0.002)
    print(f"{(time.perf_counter() - t0) * 1000:.3f}")
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    commands = {"call": cmd_call, "latency": cmd_latency, "rate": cmd_rate,
                "each": cmd_each, "spawn-and-wait": cmd_spawn_and_wait}
    cmd = commands.get(sys.argv[1])
    if cmd is None:
        sys.exit(__doc__)
    return cmd(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
