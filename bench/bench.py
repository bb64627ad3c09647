#!/usr/bin/env python3
"""bench/bench.py: the measuring half of `make bench` (bench/bench.sh builds).

Runs the two static builds of `contributors` (musl's allocator, mimalloc)
against a local fake GitHub on 127.0.0.1 and writes BENCHMARKS.md:

  1. wrk throughput and latency (/, a cached contributors page, a cached
     avatar), 256 connections for 30 s with the error count, RSS idle and
     under load, binary sizes, and which allocator wins (rule stated);
  2. time from exec to the first 200 on /healthz (raw sockets, median);
  3. upstream requests and TLS handshakes per 1,000 page views (the fake's
     /_fake/stats);
  4. image sizes and `docker stop` time, if an engine and the images exist;
  5. the targets, PASS/MISS, and for each MISS the evidence gathered;
  6. bytes on the wire for /, a 100- and a 500-contributor page, identity
     against gzip (the cached-page throughput with gzip is in section 1);
  7. the wall (wall.svg) and the JSON API (contributors.json): their sizes
     for 12, 100 and 500 contributors, and wrk throughput once cached.
  8. hostile clients (issue 9): a silent-connection flood at the default
     cap, a slow-reader flood; and the GitHub client over HTTP/2 versus
     HTTP/1.1 (this section alone: --only-hostile, one --variant).

Standard library only. Every loop is bounded by a count or a deadline; every
process started here is ended here (by its pid), every container removed.
All traffic goes to 127.0.0.1 (and the project's own containers).
"""

import argparse
import http.client
import json
import os
import re
import resource
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone

# ---------------------------------------------------------------- parameters

WRK_THREADS = 2
WRK_CONNS = 64
WRK_SECS = 10
WRK_LONG_CONNS = 256
WRK_LONG_SECS = 30
PAGE_ROUNDS = 3  # cached-page runs per build, interleaved; the median counts
WRK_TIMEOUT = "2s"  # wrk's default, written out so the report shows it
PAGE = "/kelseyhightower/contributors"
AVATAR = "/avatars/583231?s=80"  # octocat, on the page above
FIRST200_RUNS = 21
FIRST200_DEADLINE = 2.0  # seconds; a run that takes longer is a failure
FIRST200_POLL = 0.0001  # 100 µs between connection attempts
VIEWS = 1000
VIEWS_CONCURRENCY = 8
VIEW_REPOS = [
    "/kelseyhightower/contributors",
    "/rust-lang/rust",
    "/tokio-rs/tokio",
    "/octo/anon",
]
# Section 6: the form, and pages of 100 and 500 people (fake-github's demo).
WEIGHT_PATHS = ["/", "/rust-lang/rust?max=100", "/torvalds/linux?max=500"]
GZIP = ("Accept-Encoding", "gzip, deflate, br")
# The wall and the JSON API: (repository, contributors shown) of the demo
# fixtures, and the one whose cached answers are loaded with wrk.
WALL_LISTS = [("/kelseyhightower/contributors", 12), ("/rust-lang/rust", 100),
              ("/torvalds/linux", 500)]
WALL_LOADED = "/rust-lang/rust"
WALL_FILES = ["wall.svg", "contributors.json"]
DOCKER_VARIANTS = ["scratch", "busybox", "debian"]
DOCKER_RUNS = 3
RSS_SAMPLE_EVERY = 0.05  # seconds
BUSY_REST = 0.25  # cores used by others during a run before the report flags it
QUIET_WAIT = 90  # seconds to wait at most for a quiet machine before starting
FAKE_EXIT_AFTER = 1500  # the fake stops by itself even if we are killed

# BENCH_QUICK=1: a smoke test of the script itself (short runs; the numbers
# are not comparable, and the report says so).
QUICK = os.environ.get("BENCH_QUICK") == "1"
if QUICK:
    WRK_SECS, WRK_LONG_SECS, FIRST200_RUNS, DOCKER_RUNS = 2, 4, 5, 1

TARGETS = {
    "rps": 20_000,
    "idle_rss_kb": 5 * 1024,
    "load_rss_kb": 32 * 1024,
    "first200_ms": 20.0,
    "errors": 0,
}

children = []  # Popen objects started here, ended in cleanup()
containers = []  # container names started here, removed in cleanup()


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc, timeout=10):
    """SIGTERM one child we started, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc in children:
        children.remove(proc)


def cleanup():
    for proc in list(children):
        try:
            stop(proc, 5)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
    for name in list(containers):
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        containers.remove(name)


class Fake:
    """A fake-github process with its own CA, on a free loopback port."""

    def __init__(self, binary, workdir, name, extra_args=()):
        self.ca = os.path.join(workdir, f"{name}-ca.pem")
        args = [binary, "--listen", "127.0.0.1:0", "--ca-out", self.ca,
                "--exit-after", str(FAKE_EXIT_AFTER), "--avatar-base", "self", *extra_args]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        children.append(self.proc)
        line = self.proc.stdout.readline()  # the fake prints exactly one line
        m = re.search(r"listening on (https://127\.0\.0\.1:(\d+))", line)
        if not m:
            raise SystemExit(f"bench: fake-github did not start: {line!r}")
        self.url, self.port = m.group(1), int(m.group(2))
        self.ssl = ssl.create_default_context(cafile=self.ca)

    def stats(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=self.ssl)
        try:
            conn.request("GET", "/_fake/stats")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise SystemExit(f"bench: /_fake/stats answered {resp.status}: "
                                 "is fake-github built with the stats endpoint?")
            return json.loads(body)
        finally:
            conn.close()

    def close(self):
        stop(self.proc)


def app_env(fake, port, extra=None):
    # A clean environment: no GITHUB_TOKEN or proxy settings leak in, and
    # every upstream URL is the local fake, so nothing leaves the machine.
    env = {
        "PATH": "/usr/bin:/bin",
        "PORT": str(port),
        "CONTRIBUTORS_BIND": "127.0.0.1",
        "GITHUB_API_URL": fake.url,
        "CONTRIBUTORS_AVATAR_URL": fake.url,
        "CONTRIBUTORS_EXTRA_CA_FILE": fake.ca,
        "CONTRIBUTORS_CACHE_TTL": "600",
    }
    env.update(extra or {})
    return env


def get(port, path, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def wait_200(port, path="/healthz", deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if get(port, path, timeout=1) == 200:
                return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


class App:
    """One contributors process, stdout to /dev/null (default log level)."""

    def __init__(self, binary, fake, extra_env=None):
        self.port = free_port()
        self.proc = subprocess.Popen([binary], env=app_env(fake, self.port, extra_env),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(self.proc)
        if not wait_200(self.port):
            raise SystemExit(f"bench: {binary} did not answer /healthz")
        self.pid = self.proc.pid

    def status(self):
        """VmRSS, VmHWM (kB) and the thread count."""
        out = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    out[key] = int(value.split()[0])
        if "VmHWM" not in out:  # a zombie: the process has exited
            raise SystemExit(f"bench: the app (pid {self.pid}) exited during the run")
        return out

    def cpu_ticks(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]), int(fields[12])  # utime, stime

    def warm_up(self):
        for path in ("/", PAGE, AVATAR):
            status = get(self.port, path)
            if status != 200:
                raise SystemExit(f"bench: warm-up GET {path} answered {status}")

    def close(self):
        stop(self.proc)


# ---------------------------------------------------------------- wrk

UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_cmd(conns, secs, url, header=None, threads=WRK_THREADS):
    extra = ["-H", f"{header[0]}: {header[1]}"] if header else []
    return ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s",
            "--timeout", WRK_TIMEOUT, "--latency", *extra, url]


def parse_wrk(text):
    def num(pattern, default=0.0):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else default

    lat = {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        lat[pct] = float(m.group(1)) * UNIT[m.group(2)] if m else float("nan")
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(x) for x in sock.groups()) if sock else 0
    non2xx = int(num(r"Non-2xx or 3xx responses: (\d+)"))
    return {
        "rps": num(r"^Requests/sec:\s+([\d.]+)"),
        "requests": int(num(r"^\s+(\d+) requests in")),
        "p50": lat["50"],
        "p99": lat["99"],
        "non2xx": non2xx,
        "socket_errors": socket_errors,
        "socket_detail": sock.group(0) if sock else "Socket errors: none",
        "errors": non2xx + socket_errors,
    }


def read_proc_stat():
    """The machine's CPU time in ticks: busy (all but idle and iowait), and steal."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return {"busy": user + nice + system + irq + softirq + steal, "steal": steal}


def run_wrk(app, conns, secs, path, header=None, threads=WRK_THREADS):
    """wrk against the app, sampling its RSS and both sides' CPU time."""
    url = f"http://127.0.0.1:{app.port}{path}"
    samples = {"max_rss": 0}
    done = threading.Event()

    def sampler():
        while not done.is_set():
            try:
                samples["max_rss"] = max(samples["max_rss"], app.status()["VmRSS"])
            except (OSError, KeyError, SystemExit):
                return
            done.wait(RSS_SAMPLE_EVERY)

    thread = threading.Thread(target=sampler, daemon=True)
    m0 = read_proc_stat()
    u0, s0 = app.cpu_ticks()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    thread.start()
    proc = subprocess.run(wrk_cmd(conns, secs, url, header, threads), capture_output=True, text=True,
                          timeout=secs + 60, check=False)
    done.set()
    thread.join()
    elapsed = time.monotonic() - t0
    u1, s1 = app.cpu_ticks()
    m1 = read_proc_stat()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {proc.stderr}")
    result = parse_wrk(proc.stdout)
    hz = os.sysconf("SC_CLK_TCK")
    result.update({
        "raw": proc.stdout,
        "max_rss": samples["max_rss"],
        "hwm": app.status()["VmHWM"],
        "app_user": (u1 - u0) / hz / elapsed,
        "app_sys": (s1 - s0) / hz / elapsed,
        "wrk_cpu": ((children1.ru_utime - children0.ru_utime)
                    + (children1.ru_stime - children0.ru_stime)) / elapsed,
        "machine_busy": (m1["busy"] - m0["busy"]) / hz / elapsed,
        "steal": (m1["steal"] - m0["steal"]) / hz / elapsed,
    })
    app_cores = result["app_user"] + result["app_sys"]
    # Without CONFIG_IRQ_TIME_ACCOUNTING (not set on the kernel this was
    # written on) softirq work is charged to whichever task was running, so
    # the loopback TCP work is inside the app's and wrk's figures.
    result["rest"] = max(0.0, result["machine_busy"] - app_cores - result["wrk_cpu"])
    result["app_us_per_req"] = app_cores * 1e6 / result["rps"] if result["rps"] else float("nan")
    log(f"  {path} c{conns} {secs}s: {result['rps']:.0f} req/s, p50 {result['p50']:.2f} ms, "
        f"p99 {result['p99']:.2f} ms, errors {result['errors']}")
    return result


# ---------------------------------------------------------------- 1. throughput, RSS


def peak(run):
    """Peak RSS of a run: VmHWM, or a sampled VmRSS above it (VmHWM can lag)."""
    return max(run["hwm"], run["max_rss"])


def smaps(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        return f.read()


def anon_huge_kb(smaps_text):
    m = re.search(r"^AnonHugePages:\s+(\d+) kB", smaps_text, re.M)
    return int(m.group(1)) if m else 0


def bench_throughput(variants, fake):
    """Both builds, interleaved where it matters, so that background load on
    the machine hits both alike."""
    results = {name: {"name": name, "binary": binary, "size": os.path.getsize(binary),
                      "page_runs": []} for name, binary in variants}
    before = fake.stats()
    warm_ups = 0
    apps = {}
    try:
        for name, binary in variants:
            apps[name] = App(binary, fake)
            apps[name].warm_up()
            warm_ups += 1
        time.sleep(1.0)  # let the warm-up's connections close
        for name, app in apps.items():
            st = app.status()
            r = results[name]
            r["idle_rss"], r["idle_hwm"], r["idle_threads"] = st["VmRSS"], st["VmHWM"], st["Threads"]
            r["idle_smaps"] = smaps(app.pid)
            log(f"{name}: idle VmRSS {st['VmRSS']} kB")
        for round_ in range(PAGE_ROUNDS):
            for name, app in apps.items():
                log(f"{name}: cached page, round {round_ + 1}/{PAGE_ROUNDS}")
                results[name]["page_runs"].append(run_wrk(app, WRK_CONNS, WRK_SECS, PAGE))
        for name, app in apps.items():
            log(f"{name}: / and the cached avatar")
            results[name]["root"] = run_wrk(app, WRK_CONNS, WRK_SECS, "/")
            results[name]["avatar"] = run_wrk(app, WRK_CONNS, WRK_SECS, AVATAR)
            log(f"{name}: the cached page, gzipped")
            results[name]["page_gzip"] = run_wrk(app, WRK_CONNS, WRK_SECS, PAGE, GZIP)
    finally:
        for app in apps.values():
            app.close()
    for r in results.values():
        runs = sorted(r["page_runs"], key=lambda x: x["rps"])
        r["page"] = runs[len(runs) // 2]  # the median run
    # 256 connections: a fresh process each, so VmHWM is this run's peak.
    for name, binary in variants:
        log(f"{name}: {WRK_LONG_CONNS} connections for {WRK_LONG_SECS} s")
        app = App(binary, fake)
        try:
            app.warm_up()
            warm_ups += 1
            results[name]["long"] = run_wrk(app, WRK_LONG_CONNS, WRK_LONG_SECS, PAGE)
            results[name]["long"]["threads"] = app.status()["Threads"]
        finally:
            app.close()
    # The cached page again with CONTRIBUTORS_LOG=warn: no line per request.
    for name, binary in variants:
        log(f"{name}: cached page with CONTRIBUTORS_LOG=warn")
        app = App(binary, fake, {"CONTRIBUTORS_LOG": "warn"})
        try:
            app.warm_up()
            warm_ups += 1
            results[name]["page_warn"] = run_wrk(app, WRK_CONNS, WRK_SECS, PAGE)
        finally:
            app.close()
    # Each warm-up fetches the list and the avatar once (2 upstream requests);
    # the load itself must add nothing.
    after = fake.stats()
    extra = after["requests"] - before["requests"] - 2 * warm_ups
    for r in results.values():
        r["upstream_during_load"] = extra
    return [results[name] for name, _ in variants]


def fetch(port, path, headers=None):
    """GET path: (status, body, lower-cased headers). http.client does not
    decompress: the body is the bytes as sent."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def bench_wall(binary, fake):
    """The wall and the JSON API on the default build: bytes as sent, with
    and without gzip, for each list of WALL_LISTS (the first request draws
    and caches; the figures are of the cached answer), then wrk on the
    cached 100-contributor answers (no Accept-Encoding: identity bytes)."""
    app = App(binary, fake)
    try:
        sizes = []
        for repo, shown in WALL_LISTS:
            row = {"repo": repo, "shown": shown}
            for file in WALL_FILES:
                path = f"{repo}/{file}?max={shown}"
                status, body, _ = fetch(app.port, path)
                if status != 200:
                    raise SystemExit(f"bench: GET {path} answered {status}")
                count = (body.count(b"<image ") if file == "wall.svg"
                         else len(json.loads(body)["contributors"]))
                if count != shown:
                    raise SystemExit(f"bench: {path} shows {count}, not {shown}")
                _, gz, headers = fetch(app.port, path, dict([GZIP]))
                gzipped = len(gz) if headers.get("content-encoding") == "gzip" else None
                row[file] = (len(body), gzipped)
            sizes.append(row)
        load = {}
        for file in WALL_FILES:
            path = f"{WALL_LOADED}/{file}?max=100"
            log(f"cached {path}")
            load[file] = run_wrk(app, WRK_CONNS, WRK_SECS, path)
    finally:
        app.close()
    return {"sizes": sizes, "load": load}


def machine_busy(secs=2.0):
    """Cores busy on the whole machine over `secs`, before we load it."""
    a = read_proc_stat()
    time.sleep(secs)
    b = read_proc_stat()
    hz = os.sysconf("SC_CLK_TCK")
    return (b["busy"] - a["busy"]) / hz / secs, (b["steal"] - a["steal"]) / hz / secs


# ---------------------------------------------------------------- 2. exec to first 200


def first200_once(binary, fake):
    port = free_port()
    env = app_env(fake, port)
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(binary, [binary], env, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    finally:
        os.close(devnull)
    elapsed = None
    attempts = 0
    try:
        deadline = t0 + int(FIRST200_DEADLINE * 1e9)
        while time.perf_counter_ns() < deadline:
            attempts += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(1.0)
            try:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    s.sendall(request)
                    data = b""
                    while b"\r\n" not in data and len(data) < 4096:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    if data.startswith(b"HTTP/1.1 200"):
                        elapsed = (time.perf_counter_ns() - t0) / 1e6
                        break
            except OSError:
                pass
            finally:
                s.close()
            time.sleep(FIRST200_POLL)
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
    return elapsed, attempts


def bench_first200(name, binary, fake):
    log(f"{name}: exec to first 200 on /healthz, {FIRST200_RUNS} runs")
    times, failures = [], 0
    for _ in range(FIRST200_RUNS):
        elapsed, _ = first200_once(binary, fake)
        if elapsed is None:
            failures += 1
        else:
            times.append(elapsed)
    if not times:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"),
                "failures": failures}
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "failures": failures}


# ---------------------------------------------------------------- 3. upstream per views


def views_pass(binary, fake, concurrency):
    """A fresh app (empty caches, TTL 600), VIEWS page views round-robin over
    VIEW_REPOS from `concurrency` keep-alive clients; the fake's counts."""
    before = fake.stats()
    app = App(binary, fake)
    counter = {"next": 0, "bad": 0}
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=10)
        try:
            while True:
                with lock:
                    i = counter["next"]
                    if i >= VIEWS:
                        return
                    counter["next"] += 1
                conn.request("GET", VIEW_REPOS[i % len(VIEW_REPOS)])
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    with lock:
                        counter["bad"] += 1
        except OSError:
            with lock:
                counter["bad"] += 1
        finally:
            conn.close()

    try:
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        app.close()
    after = fake.stats()
    delta = {k: after[k] - before.get(k, 0) for k in after}
    delta.update(views=counter["next"], non200=counter["bad"], concurrency=concurrency)
    return delta


def bench_views(binary, fake):
    log(f"upstream requests for {VIEWS} page views over {len(VIEW_REPOS)} repositories")
    return [views_pass(binary, fake, c) for c in (1, VIEWS_CONCURRENCY)]


# ---------------------------------------------------------------- 6. page weight


def bench_weight(binary, fake):
    """Body bytes of each WEIGHT_PATHS answer, as is and gzipped. The second
    request of each pair finds the page rendered and compressed already."""
    log("bytes on the wire, identity and gzip")
    app = App(binary, fake)
    rows = []
    try:
        for path in WEIGHT_PATHS:
            sizes = {}
            for label, headers in (("identity", {}), ("gzip", dict([GZIP]))):
                status, body, got = fetch(app.port, path, headers)
                if status != 200:
                    raise SystemExit(f"bench: GET {path} answered {status}")
                sizes[label] = len(body)
                sizes[label + "_coding"] = got.get("content-encoding", "identity")
            rows.append({"path": path, **sizes})
    finally:
        app.close()
    return rows


# ---------------------------------------------------------------- 4. docker


def docker(*args, timeout=60):
    return subprocess.run(["docker", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


class DockerFailure(Exception):
    pass


def docker_image(image, v):
    """DOCKER_RUNS runs of one image: run → /healthz 200, then `docker stop`."""
    ready, stops, codes = [], [], []
    for i in range(DOCKER_RUNS):
        name = f"contributors-bench-{v}-{os.getpid()}-{i}"
        containers.append(name)
        try:
            t0 = time.monotonic()
            # Upstream URLs point at a closed loopback port: nothing can
            # leave the container even by mistake (no page is asked for).
            run = docker("run", "-d", "-P", "--name", name, "--label", "io.contributors.bench=1",
                         "-e", "GITHUB_API_URL=https://127.0.0.1:9",
                         "-e", "CONTRIBUTORS_AVATAR_URL=https://127.0.0.1:9", image)
            if run.returncode != 0:
                raise DockerFailure(f"docker run failed: {run.stderr.strip()[-200:]}")
            port = None
            for _ in range(100):  # the published port appears at once; bounded anyway
                out = docker("port", name, "8080/tcp").stdout.strip().splitlines()
                if out:
                    port = int(out[0].rsplit(":", 1)[1])
                    break
                time.sleep(0.05)
            if port is None or not wait_200(port, deadline=20):
                raise DockerFailure("no 200 on /healthz through the published port within 20 s")
            ready.append((time.monotonic() - t0) * 1000)
            t1 = time.monotonic()
            stopped = docker("stop", name, timeout=30)
            stops.append((time.monotonic() - t1) * 1000)
            if stopped.returncode != 0:
                raise DockerFailure(f"docker stop failed: {stopped.stderr.strip()[-200:]}")
            codes.append(docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip())
        finally:
            docker("rm", "-f", name)
            containers.remove(name)
    return {"image": image, "ready_ms": statistics.median(ready),
            "stop_ms": statistics.median(stops), "stop_all": stops, "exit_codes": codes}


def bench_docker(image_repo):
    try:
        if docker("version", "--format", "{{.Server.Version}}", timeout=15).returncode != 0:
            return {"skipped": "skipped: no engine/images (the Docker engine does not answer)"}
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return {"skipped": "skipped: no engine/images (no docker command or engine)"}
    rows, missing, failed = [], [], []
    for v in DOCKER_VARIANTS:
        image = f"{image_repo}:{v}"
        inspect = docker("image", "inspect", "-f", "{{.Size}}", image)
        if inspect.returncode != 0:
            missing.append(image)
            continue
        log(f"docker: {image}, {DOCKER_RUNS} runs")
        try:
            row = docker_image(image, v)
        except (DockerFailure, subprocess.TimeoutExpired) as e:
            log(f"  {image}: {e}")
            failed.append(f"{image}: {e}")
            continue
        row["size"] = int(inspect.stdout.strip())
        rows.append(row)
    if not rows and not failed:
        return {"skipped": "skipped: no engine/images (none of "
                + ", ".join(f"{image_repo}:{v}" for v in DOCKER_VARIANTS) + " exists)"}
    return {"rows": rows, "missing": missing, "failed": failed}


# ---------------------------------------------------------------- 8. hostile clients, the client's protocol
#
# Issue 9's figures: how long a flood of silent connections at the default
# cap locks visitors out, what a flood of clients that never read costs, and
# whether HTTP/2 to GitHub gains anything over HTTP/1.1. Self-contained: run
# alone with --only-hostile (one --variant), or as part of the whole bench.

SILENT_SOCKETS = 1100  # past the default cap of 1024, as in the report
SILENT_WAIT = 30.0  # seconds the flood run waits at most for a 200
SLOW_READERS = 50
SLOW_PIPELINE = 20  # requests each slow reader sends and never reads
SLOW_PAGE = "/rust-lang/rust?max=250"  # the demo's largest page
SLOW_WATCH = 30.0  # seconds the slow-reader run watches at most
POLL = 0.05
PROTOCOL_LOOKUPS = 200  # cold lookups per protocol (distinct missing names)
PROTOCOL_CONCURRENCY = 16


def raise_fd_limit(wanted):
    """Our sockets and the app's (which inherits the limit) both count."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def established(port):
    """Established TCP connections whose local port is `port` (the app's side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                        count += 1
        except OSError:
            pass
    return count


def healthz_ms(port):
    started = time.monotonic()
    try:
        ok = get(port, "/healthz", timeout=2) == 200
    except OSError:
        ok = False
    return ok, (time.monotonic() - started) * 1000


def bench_silent_flood(binary, fake):
    limit = raise_fd_limit(4 * SILENT_SOCKETS)
    log(f"silent-connection flood: {SILENT_SOCKETS} sockets that send nothing")
    app = App(binary, fake)  # the defaults: cap 1024, header deadline 5 s
    socks = []
    try:
        started = time.monotonic()
        for _ in range(SILENT_SOCKETS):
            socks.append(socket.create_connection(("127.0.0.1", app.port), timeout=5))
        opened = time.monotonic() - started
        refused, served = 0, None
        while time.monotonic() - started < SILENT_WAIT:
            ok, _ = healthz_ms(app.port)
            if ok:
                served = time.monotonic() - started
                break
            refused += 1
            time.sleep(POLL)
        return {"sockets": SILENT_SOCKETS, "fd_limit": limit, "opened_s": opened,
                "served_s": served, "refused": refused}
    finally:
        for s in socks:
            s.close()
        app.close()


def bench_slow_readers(binary, fake):
    log(f"slow-reader flood: {SLOW_READERS} clients pipelining {SLOW_PIPELINE} x {SLOW_PAGE}")
    app = App(binary, fake)  # the defaults: write deadline 10 s
    socks = []
    try:
        if get(app.port, SLOW_PAGE) != 200:
            raise SystemExit(f"bench: GET {SLOW_PAGE} did not answer 200")
        baseline = established(app.port)
        request = f"GET {SLOW_PAGE} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * SLOW_PIPELINE
        started = time.monotonic()
        for _ in range(SLOW_READERS):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # fills fast
            s.connect(("127.0.0.1", app.port))
            s.sendall(request)
            socks.append(s)
        latencies, failures, peak_rss, dropped = [], 0, 0, None
        while time.monotonic() - started < SLOW_WATCH:
            ok, took = healthz_ms(app.port)
            latencies.append(took)
            failures += not ok
            peak_rss = max(peak_rss, app.status()["VmRSS"])
            if established(app.port) <= baseline:
                dropped = time.monotonic() - started
                break
            time.sleep(POLL)
        latencies.sort()
        return {"readers": SLOW_READERS, "pipelined": SLOW_PIPELINE,
                "p50_ms": latencies[len(latencies) // 2], "max_ms": latencies[-1],
                "checks": len(latencies), "failures": failures,
                "dropped_s": dropped, "peak_rss_kb": peak_rss}
    finally:
        for s in socks:
            s.close()
        app.close()


def protocol_pass(binary, fake_binary, workdir, http2):
    """PROTOCOL_LOOKUPS cold lookups (each one upstream call) from
    PROTOCOL_CONCURRENCY clients; latency and the fake's TLS handshakes.
    `binary` is the build whose client speaks the protocol: the shipped one
    (HTTP/1.1), or the `http2-upstream` one, which offers h2 and gets it."""
    fake = Fake(fake_binary, workdir, "h2" if http2 else "h1")
    app = App(binary, fake, {"CONTRIBUTORS_CLIENT_LOOKUPS": "0"})
    latencies, bad = [], 0
    lock = threading.Lock()
    todo = iter(range(PROTOCOL_LOOKUPS))

    def worker():
        nonlocal bad
        while True:
            with lock:
                i = next(todo, None)
            if i is None:
                return
            started = time.monotonic()
            try:
                status = get(app.port, f"/bench/missing-{i}")
            except OSError:
                status = None
            with lock:
                latencies.append((time.monotonic() - started) * 1000)
                bad += status != 404  # a missing repository is the expected answer

    try:
        started = time.monotonic()
        threads = [threading.Thread(target=worker, daemon=True)
                   for _ in range(PROTOCOL_CONCURRENCY)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        wall = time.monotonic() - started
        stats = fake.stats()
    finally:
        app.close()
        fake.close()
    latencies.sort()
    return {"protocol": "HTTP/2" if http2 else "HTTP/1.1", "wall_s": wall,
            "p50_ms": latencies[len(latencies) // 2],
            "p95_ms": latencies[int(len(latencies) * 0.95)],
            "upstream": stats["contributors_requests"], "handshakes": stats["handshakes"],
            "unexpected": bad}


def bench_hostile(binary, fake, fake_binary, workdir, http2_binary):
    if not http2_binary:
        raise SystemExit("bench: section 8 needs --http2-binary (a build with "
                         "--features http2-upstream)")
    return {
        "silent": bench_silent_flood(binary, fake),
        "slow": bench_slow_readers(binary, fake),
        "protocols": [protocol_pass(http2_binary, fake_binary, workdir, True),
                      protocol_pass(binary, fake_binary, workdir, False)],
        "shipped_bytes": os.path.getsize(binary),
        "http2_bytes": os.path.getsize(http2_binary) - os.path.getsize(binary),
    }


def hostile_report(h):
    """The section's Markdown, appended to the report."""
    s, r = h["silent"], h["slow"]
    h2, h1 = h["protocols"]
    served = "never, within the wait" if s["served_s"] is None else f"after {s['served_s']:.1f} s"
    dropped = ("not within the watch" if r["dropped_s"] is None
               else f"after {r['dropped_s']:.1f} s")
    with_h2 = h["shipped_bytes"] + h["http2_bytes"]
    fits = with_h2 <= SIZE_TARGET
    lines = [
        "",
        "## 8. Hostile clients",
        "",
        f"- **Silent-connection flood** at the default cap (1024) and header deadline (5 s): "
        f"{s['sockets']} sockets that send nothing (opened in {s['opened_s']:.1f} s; "
        f"open-file limit {s['fd_limit']}). A normal client polling `/healthz` every "
        f"{POLL * 1000:.0f} ms was served again {served} ({s['refused']} tries refused before).",
        f"- **Slow-reader flood** at the default write deadline (10 s): {r['readers']} clients "
        f"each pipelining {r['pipelined']} × `{SLOW_PAGE}` with a 4 KiB receive buffer and "
        f"never reading. Meanwhile `/healthz`: median {r['p50_ms']:.1f} ms, worst "
        f"{r['max_ms']:.1f} ms, {r['failures']} failed of {r['checks']}; peak RSS "
        f"{r['peak_rss_kb'] / 1024:.1f} MiB; the readers' connections were all closed {dropped}.",
        "",
        "## The GitHub client: HTTP/2 or HTTP/1.1",
        "",
        f"{PROTOCOL_LOOKUPS} cold lookups (distinct missing repositories, one API call each) "
        f"from {PROTOCOL_CONCURRENCY} concurrent clients, against fake-github (which offers "
        "h2 and HTTP/1.1): the build with the `http2-upstream` feature, then the shipped "
        "build, whose client speaks HTTP/1.1 only:",
        "",
        "| protocol | wall | median | p95 | API calls | TLS handshakes | unexpected answers |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in (h2, h1):
        lines.append(f"| {p['protocol']} | {p['wall_s']:.2f} s | {p['p50_ms']:.1f} ms | "
                     f"{p['p95_ms']:.1f} ms | {p['upstream']} | {p['handshakes']} | "
                     f"{p['unexpected']} |")
    lines += [
        "",
        f"HTTP/2 adds {h['http2_bytes']:,} bytes to the binary: {with_h2:,} bytes with it. "
        f"Rule: the default build must fit the scratch image's target of {SIZE_TARGET:,} "
        "bytes (section 10), and HTTP/2 goes in only if it still fits; what it buys is the "
        "table above (fewer handshakes when lookups start at once; after that the pool "
        "keeps the HTTP/1.1 connections for the next lookups). Result: "
        f"**{'HTTP/2 fits: turn http2-upstream on by default' if fits else 'HTTP/1.1 stays the default'}"
        "**.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- 9. the app against bare hyper
#
# Issue 13: at least 90% of a minimal hyper 1 server (bench/baseline) that
# sends the same bytes with the same headers. The baseline serves answers
# captured from the running app; the servers take turns, round after round,
# so that background load hits them alike. The app runs twice: with
# CONTRIBUTORS_LOG=warn (the comparison: the baseline logs nothing) and with
# the default log level (a line per request), to show what the log costs.

# Nine rounds: on this machine one 5-second ratio moves by several points
# from round to round, and the median of nine moves less than that of seven.
BASELINE_ROUNDS = 1 if QUICK else 9
BASELINE_SECS = 2 if QUICK else 5
# One wrk thread, as the issue's own side-by-side table was measured: the
# client shares the two cores with the server either way.
BASELINE_WRK_THREADS = 1
# callgrind: user-space instructions per request, from the difference of
# two runs of this many keep-alive requests (start-up cancels out).
CALLGRIND_REQUESTS = (1000, 3000)
BASELINE_PATHS = ["/", PAGE]
BASELINE_TARGET = 0.90
QUIET_LOG = {"CONTRIBUTORS_LOG": "warn"}


class Baseline(App):
    """The bare hyper server, serving `files` (see bench/baseline)."""

    def __init__(self, binary, files):  # pylint: disable=super-init-not-called
        self.port = free_port()
        self.proc = subprocess.Popen([binary, str(self.port), *files],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(self.proc)
        if not wait_200(self.port, "/"):
            raise SystemExit(f"bench: {binary} did not answer /")
        self.pid = self.proc.pid


def capture(port, path, dest):
    """The app's answer to a plain GET of `path`, written as a baseline
    answer file: path, headers but `date` and `content-length`, body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise SystemExit(f"bench: capturing {path} answered {resp.status}")
        head = [path] + [f"{k.lower()}: {v}" for k, v in resp.getheaders()
                         if k.lower() not in ("date", "content-length")]
    finally:
        conn.close()
    with open(dest, "wb") as f:
        f.write(("\n".join(head) + "\n\n").encode() + body)
    return len(body), len(head) - 1


def bench_baseline(binary, baseline, fake, workdir, symbols="", size_level=None):
    """Rounds of wrk on each path, app (warn), app (info) and baseline in turn;
    with `size_level` = (app, baseline) built with opt-level s, those two too."""
    out = {"paths": {}, "captured": {}}
    servers = {}
    try:
        servers["app"] = App(binary, fake, QUIET_LOG)
        servers["app, default log"] = App(binary, fake)
        if size_level:
            servers["app, opt-level s"] = App(size_level[0], fake, QUIET_LOG)
        for app in servers.values():
            app.warm_up()
        files = []
        for i, path in enumerate(BASELINE_PATHS):
            dest = os.path.join(workdir, f"answer-{i}")
            out["captured"][path] = capture(servers["app"].port, path, dest)
            files.append(dest)
        servers["baseline"] = Baseline(baseline, files)
        if size_level:
            servers["baseline, opt-level s"] = Baseline(size_level[1], files)
        # The two servers of each ratio run back to back, and the order is
        # reversed every other round: a machine that gets faster or slower
        # during the run then favours neither side of a ratio.
        order = [name for name in ("app", "baseline", "app, default log", "app, opt-level s",
                                   "baseline, opt-level s") if name in servers]
        for path in BASELINE_PATHS:
            runs = out["paths"][path] = {name: [] for name in servers}
            for round_ in range(BASELINE_ROUNDS):
                for name in order if round_ % 2 == 0 else reversed(order):
                    server = servers[name]
                    log(f"9. {name}: {path}, round {round_ + 1}/{BASELINE_ROUNDS}")
                    runs[name].append(run_wrk(server, WRK_CONNS, BASELINE_SECS, path,
                                              threads=BASELINE_WRK_THREADS))
    finally:
        for server in servers.values():
            server.close()
    if have("valgrind"):
        out["instructions"] = {}
        for path in BASELINE_PATHS:
            log(f"9. callgrind: {path}")
            app_port, baseline_port = free_port(), free_port()
            out["instructions"][path] = {
                "app": callgrind_per_request([binary], app_env(fake, app_port, QUIET_LOG),
                                             app_port, path, workdir, "app"),
                "baseline": callgrind_per_request([baseline, str(baseline_port), *files], None,
                                                  baseline_port, path, workdir, "baseline"),
            }
    if symbols and have("perf"):
        out["profile"] = perf_top(symbols, fake, workdir,
                                  f"the app on {PAGE}, CONTRIBUTORS_LOG=warn", PAGE, QUIET_LOG)
    return out


def keep_alive_requests(port, path, n):
    """`n` GETs of `path`, one after another on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for _ in range(n):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit(f"bench: GET {path} answered {resp.status} under callgrind")
    finally:
        conn.close()


def callgrind_per_request(argv, env, port, path, workdir, name):
    """User-space instructions per request of the server `argv` on `path`.
    callgrind counts instructions, not seconds, so the figure is the same
    whatever else the machine is doing; two runs that differ only in the
    number of requests differ by exactly that many requests' work."""
    totals = []
    for n in CALLGRIND_REQUESTS:
        out = os.path.join(workdir, f"callgrind-{name}-{n}")
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                 *argv], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        children.append(proc)
        try:
            if not wait_200(port, path, deadline=60):
                raise SystemExit(f"bench: {argv[0]} under callgrind did not answer {path}")
            keep_alive_requests(port, path, n)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        with open(out) as f:
            totals.append(next(int(line.split()[1]) for line in f if line.startswith("totals:")))
    return (totals[1] - totals[0]) / (CALLGRIND_REQUESTS[1] - CALLGRIND_REQUESTS[0])


def baseline_report(b):
    """Section 9's Markdown, appended to the report."""
    lines = [
        "",
        "## 9. The app against bare hyper",
        "",
        f"`bench/baseline`: a minimal hyper 1 server (same lock file, same release profile, "
        "same musl allocator, a multi-threaded tokio runtime) that sends the bytes and headers "
        "it was handed, captured from the app (`/`: {} bytes and {} headers; `{}`: {} bytes and "
        "{} headers; `date` and `content-length` are hyper's, for both). wrk -t{} -c{} for {} s "
        "per run (one client thread, as in the issue's own table), the servers taking turns "
        "(the two of each ratio back to back, in the opposite order every other round), "
        "{} round(s); the ratio is the app's req/s over the baseline's in the same round, its "
        "median and the spread of the rounds. Target: at least {:.0f}%."
        .format(*b["captured"]["/"], PAGE, *b["captured"][PAGE], BASELINE_WRK_THREADS,
                                WRK_CONNS, BASELINE_SECS, BASELINE_ROUNDS, BASELINE_TARGET * 100),
        "",
        "| path | app (CONTRIBUTORS_LOG=warn) req/s | app, default log (info) req/s "
        "| baseline req/s | app / baseline | with the log | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def ratio(runs, name, base="baseline"):
        rs = sorted(a["rps"] / c["rps"] for a, c in zip(runs[name], runs[base]))
        return rs[len(rs) // 2], rs[0], rs[-1]

    def pct(r):
        med, lo, hi = r
        return f"{med * 100:.0f}% ({lo * 100:.0f}–{hi * 100:.0f}%)"

    for path, runs in b["paths"].items():
        per = {name: ", ".join(f"{x['rps'] / 1000:.1f}k" + ("†" if x["rest"] > BUSY_REST else "")
                               for x in r) for name, r in runs.items()}
        quiet, logged = ratio(runs, "app"), ratio(runs, "app, default log")
        mark = "PASS" if quiet[0] >= BASELINE_TARGET else "MISS"
        errors = sum(x["errors"] for r in runs.values() for x in r)
        lines.append(f"| `{path}` | {per['app']} | {per['app, default log']} | {per['baseline']} "
                     f"| **{pct(quiet)}** | {pct(logged)} | {mark}"
                     + (f" ({errors} errors)" if errors else "") + " |")
    sized = [(path, runs) for path, runs in b["paths"].items() if "app, opt-level s" in runs]
    if sized:
        lines += [
            "",
            "The shipped profile is opt-level `z`, for size (section 10). The same sources, app "
            "and baseline both built with opt-level `s` instead, in the same rounds:",
            "",
            "| path | app, opt-level s req/s | baseline, opt-level s req/s "
            "| app / baseline, s | app s / app z |",
            "| --- | --- | --- | --- | --- |",
        ]
        for path, runs in sized:
            per = {name: ", ".join(f"{x['rps'] / 1000:.1f}k"
                                   + ("†" if x["rest"] > BUSY_REST else "") for x in r)
                   for name, r in runs.items()}
            lines.append(f"| `{path}` | {per['app, opt-level s']} | "
                         f"{per['baseline, opt-level s']} | "
                         f"**{pct(ratio(runs, 'app, opt-level s', 'baseline, opt-level s'))}** | "
                         f"{pct(ratio(runs, 'app, opt-level s', 'app'))} |")
    lines += ["", f"† other processes used more than {BUSY_REST} of a core during that run.", ""]

    # The same comparison as cost per request, which the client's share of
    # the cores moves less than req/s: CPU time from /proc, and instructions.
    def cpu_us(run):
        return (run["app_user"] + run["app_sys"]) / run["rps"] * 1e6

    instructions = b.get("instructions", {})
    lines += [
        "Cost per request, the same comparison seen from the server: CPU time (user and "
        "system, from `/proc`, over the requests wrk counted; median of the rounds above), and "
        "user-space instructions (callgrind, the difference between runs of "
        f"{CALLGRIND_REQUESTS[1]:,} and {CALLGRIND_REQUESTS[0]:,} keep-alive requests: the same "
        "count on any run, whatever the machine is doing)" + ("" if instructions else
                                                               " (valgrind not installed: left out)")
        + ":",
        "",
        "| path | app CPU/request | baseline CPU/request | baseline / app "
        "| app instructions/request | baseline instructions/request | baseline / app |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path, runs in b["paths"].items():
        app_cpu = statistics.median(cpu_us(x) for x in runs["app"])
        base_cpu = statistics.median(cpu_us(x) for x in runs["baseline"])
        row = f"| `{path}` | {app_cpu:.1f} µs | {base_cpu:.1f} µs | {base_cpu / app_cpu * 100:.0f}% "
        ins = instructions.get(path)
        row += (f"| {ins['app']:,.0f} | {ins['baseline']:,.0f} | "
                f"{ins['baseline'] / ins['app'] * 100:.0f}% |" if ins else "| | | |")
        lines.append(row)
    lines += [
        "",
        "What the app does per request that the baseline does not, i.e. where the gap "
        "goes (compare the profile below with the list): the deadline wrapper around the "
        "socket (`timed_stream.rs`: the connection's phase, an atomic byte written a few "
        "times per request, and two clock reads; its read alarm is set once per tick, not "
        "per request); the timing of each request and its counters for `/metrics`; the "
        "trusted-proxy check of the peer; the route match; the content negotiation "
        "(`Accept-Encoding` and `If-None-Match`, found in one pass over the request's "
        "headers), then a copy of the answer's prebuilt header map, as the baseline does; "
        "for the page, a look at the page this worker thread answered last (`page_memo.rs`: "
        "the request target compared, the caches' change counts and the list's expiry "
        "checked), which answers a page asked for again without the name check and the "
        "shared list and page cache lookups that the first requests make. An answer from "
        "memory is made inside hyper's call to the service (`routes::answer`, no `await`), "
        "so the request, whose URI and headers are slices of hyper's read buffer, is "
        "dropped before hyper reads on, and hyper reuses the buffer instead of allocating "
        "a new one, as with the baseline. The page's "
        "`Cache-Control` max-age counts down, so its headers are remade once a second, not "
        "per request.",
        "",
        "Two worker threads share the work, and memory that both write costs more than the "
        "instructions above: each write moves the memory to the writing core first. So the "
        "request counters are kept per thread and summed when scraped (`metrics.rs`); a "
        "cache lookup of the entry used last writes nothing, and the list lookup borrows the "
        "entry instead of counting a new handle to it (`cache.rs`); the in-flight count and "
        "the connection's handle are taken only by an answer that waits; and the shutdown "
        "signal is polled again only once it has changed (`server.rs`); a page asked for "
        "again is answered from the thread's own memo, with no shared lock or handle "
        "(`page_memo.rs`). What is left of that kind: the count on the page's body, which "
        "every answer that sends it takes, as the baseline's do, and the lock on the page's "
        "once-a-second headers. The log line (the \"with the log\" column) is the largest "
        "single cost: a formatted line and a `write` to standard output per request.",
        "",
    ]
    prof = b.get("profile")
    if prof and "sym" in prof:
        lines += [
            f"Where the app's time goes ({prof['label']}, {prof['rps']:.0f} req/s while "
            "recorded; `perf record -F 999` of the symbols build, flat, symbols above 1%):",
            "",
            "```",
            prof["sym"],
            "```",
            "",
        ]
        reading = perf_reading(prof["sym"])
        if reading:
            lines += [reading, ""]
    elif prof:
        lines += [f"(perf failed: {prof.get('error', '')})", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- 10. binary size

SIZE_TARGET = 2 * 1024 * 1024  # issue 13: the scratch image, whose only layer is the binary


def size_report(binary, options_file, bloat_file):
    """Section 10's Markdown: the shipped binary against the 2 MiB target,
    what each size option is worth (bench/sizes-options.md, written by
    bench/sizes-options.sh) and the bytes per crate (ci/bloat.sh)."""
    size = os.path.getsize(binary)
    mark = "PASS" if size <= SIZE_TARGET else "MISS"
    lines = [
        "",
        "## 10. Binary size",
        "",
        f"The shipped binary (stripped, static-pie): **{size:,} bytes** "
        f"({size / 1048576:.2f} MiB); target for the scratch image, whose only layer it is: "
        f"{SIZE_TARGET:,} bytes. {mark}.",
        "",
    ]
    if options_file and os.path.exists(options_file):
        with open(options_file) as f:
            table = f.read().rstrip()
        lines += [table, ""]
        base = re.search(r"^\| as shipped.*\| (\d+) bytes \|$", table, re.M)
        savings = [int(x) for x in re.findall(r"\(-(\d+)\)", table)]
        if base and savings:
            rest = int(base.group(1)) - sum(savings)
            lines += [
                f"All the savings above together (if they simply added up) would leave "
                f"{rest:,} bytes, {'under' if rest <= SIZE_TARGET else 'still over'} "
                f"the target by {abs(rest - SIZE_TARGET):,} bytes.",
                "",
            ]
        lines += [
            "Written by `bench/sizes-options.sh` (one fat-LTO build per row, of a copy of the "
            "checkout). What the HTTP/2 client would buy at run time is section 8's table: "
            "the TLS handshakes to GitHub over HTTP/2 against HTTP/1.1.",
            "",
        ]
    if bloat_file and os.path.exists(bloat_file):
        lines += [
            "The options without a build of their own are read from the per-crate table "
            "below: the logging stack is `tracing_subscriber` plus `tracing_core` (a small "
            "writer of the same lines would still need the line formatting and a clock, so "
            "it saves less than their sum); askama's runtime and serde_json are their rows "
            "(both already without default features); tokio's features are its row (the "
            "multi-threaded runtime, the I/O and time drivers and signals are all used). "
            "What cargo-bloat cannot name is in `[Unknown]` (musl, ring's C and assembly). "
            "Beside .text, the file holds read-only data (the compiled-in roots, the "
            "templates' text), the pointers that need relocating at start (.data.rel.ro) "
            "and the list of them (.relr.dyn, packed), with no unwind tables left "
            "(contributors/build.rs): `size -A` on the binary shows each.",
            "",
        ]
        with open(bloat_file) as f:
            lines += [f.read().rstrip(), ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- evidence for a MISS


def have(cmd):
    return subprocess.run(["sh", "-c", f"command -v {cmd}"], capture_output=True,
                          check=False).returncode == 0


def background_page_load(app, seconds, path=PAGE):
    """Warms the app up, then starts a c64 wrk run of `seconds` on `path`
    (the cached page) in the background and gives it a second to reach full
    load. The caller measures, then collects the output with `wrk.communicate()`."""
    app.warm_up()
    url = f"http://127.0.0.1:{app.port}{path}"
    wrk = subprocess.Popen(wrk_cmd(WRK_CONNS, seconds, url), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    children.append(wrk)
    time.sleep(1)
    return wrk


def perf_top(binary, fake, workdir, label, path=PAGE, extra_env=None):
    """A flat `perf record` of the app alone during a c64 run on `path`."""
    out = {"label": label}
    app = App(binary, fake, extra_env)
    data = os.path.join(workdir, "perf.data")
    try:
        wrk = background_page_load(app, 8, path)
        rec = subprocess.run(["perf", "record", "-q", "-F", "999", "-p", str(app.pid),
                              "-o", data, "--", "sleep", "5"],
                             capture_output=True, text=True, timeout=60, check=False)
        wrk_out, _ = wrk.communicate(timeout=30)
        children.remove(wrk)
        out["rps"] = parse_wrk(wrk_out)["rps"]
        if rec.returncode != 0:
            out["error"] = rec.stderr.strip()[-400:]
            return out
        for key, sort, limit in (("dso", "dso", "0.5"), ("sym", "sym", "1")):
            rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", sort,
                                  "--percent-limit", limit],
                                 capture_output=True, text=True, timeout=120, check=False)
            lines = [l.rstrip() for l in rep.stdout.splitlines()
                     if l.strip() and not l.startswith("#")]
            out[key] = "\n".join(lines[:20])
    finally:
        app.close()
        if os.path.exists(data):
            os.unlink(data)
    return out


SYSCALLS = ["mmap", "munmap", "madvise", "futex", "writev", "recvfrom"]


def syscall_rates(binary, fake):
    """`perf stat` of a few syscalls on the app during a c64 cached-page run,
    per request: allocator traffic to the kernel and lock waits."""
    app = App(binary, fake)
    try:
        wrk = background_page_load(app, 7)
        events = ",".join(f"syscalls:sys_enter_{c}" for c in SYSCALLS)
        st = subprocess.run(["perf", "stat", "-x", ",", "-e", events, "-p", str(app.pid),
                             "--", "sleep", "5"],
                            capture_output=True, text=True, timeout=60, check=False)
        wrk_out, _ = wrk.communicate(timeout=30)
        children.remove(wrk)
    finally:
        app.close()
    rps = parse_wrk(wrk_out)["rps"]
    counts = {}
    for line in st.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[2].startswith("syscalls:sys_enter_"):
            try:
                counts[parts[2].rsplit("_", 1)[1]] = int(parts[0])
            except ValueError:
                pass
    if not counts or not rps:
        return {"error": st.stderr.strip()[-300:]}
    return {"rps": rps, "per_request": {k: v / (rps * 5) for k, v in counts.items()}}


def mimalloc_thp_check(binary, fake):
    """The mimalloc build again with MIMALLOC_ALLOW_THP=0: a diagnosis of its
    idle RSS, not a figure for the targets."""
    app = App(binary, fake, {"MIMALLOC_ALLOW_THP": "0"})
    try:
        app.warm_up()
        time.sleep(1.0)
        st = app.status()
        result = {"idle_rss": st["VmRSS"], "anon_huge": anon_huge_kb(smaps(app.pid))}
        result["page"] = run_wrk(app, WRK_CONNS, WRK_SECS, PAGE)
    finally:
        app.close()
    return result


def gather_evidence(args, results, fake, rows):
    ev = {}
    missed = {k for _, _, st, k in rows if st == "MISS"}
    base = results[0]
    if have("perf"):
        for r in results:
            log(f"{r['name']}: syscalls per request under the cached-page load (perf stat)")
            ev.setdefault("syscalls", {})[r["name"]] = syscall_rates(r["binary"], fake)
    if "rps" in missed and base["page"]["rps"] < TARGETS["rps"]:
        # Diagnosis: the same binary with one tokio worker, nobody to contend with.
        log(f"{base['name']}: cached page with TOKIO_WORKER_THREADS=1 (diagnosis only)")
        app = App(base["binary"], fake, {"TOKIO_WORKER_THREADS": "1"})
        try:
            app.warm_up()
            threads = app.status()["Threads"]
            ev["one_worker"] = {"run": run_wrk(app, WRK_CONNS, WRK_SECS, PAGE),
                                "threads": threads, "name": base["name"]}
        finally:
            app.close()
    if "rps" in missed and base["page"]["rps"] < TARGETS["rps"] and have("perf"):
        binary = args.symbols_binary
        if binary and os.path.exists(binary):
            log(f"profiling {base['name']} (symbols build) under the cached-page load")
            ev["perf"] = perf_top(binary, fake, args.workdir,
                                  f"{base['name']}, built as above but with symbols")
    for r in results:
        if (r["idle_rss"] > TARGETS["idle_rss_kb"] or peak(r["long"]) > TARGETS["load_rss_kb"]) \
                and anon_huge_kb(r["idle_smaps"]) > 0 and "mimalloc" in r["name"]:
            log(f"{r['name']}: RSS check with MIMALLOC_ALLOW_THP=0 (diagnosis only)")
            ev["thp"] = mimalloc_thp_check(r["binary"], fake)
            ev["thp"]["name"] = r["name"]
    return ev


# ---------------------------------------------------------------- report


def ms(x):
    return "n/a" if x != x else f"{x:.2f} ms"


def mib(kb):
    return f"{kb / 1024:.1f} MiB"


def cores(x):
    return f"{x:.2f}"


def recommend(a, b):
    """RSS targets are a gate, throughput decides, a small difference is a tie."""
    rule = ("Rule: a build that misses an RSS target (idle ≤ 5 MB, 256 connections ≤ 32 MB) "
            "that the other meets is out. Otherwise the build with the higher cached-page "
            "throughput (median of the c64 runs) wins if it is higher by more than the noise "
            "(5 %, or the spread between one build's own runs if that is larger), unless its "
            "peak RSS under 256 connections grows by a larger percentage than its throughput "
            "does; within the noise it is a tie and the default build (musl's allocator: "
            "smaller binary, one dependency fewer) stays.")

    def fits(r):
        return r["idle_rss"] <= TARGETS["idle_rss_kb"] and peak(r["long"]) <= TARGETS["load_rss_kb"]

    ta, tb = a["page"]["rps"], b["page"]["rps"]
    ra, rb = peak(a["long"]), peak(b["long"])
    dt = (tb - ta) / ta * 100
    dr = (rb - ra) / ra * 100
    idle = (b["idle_rss"] - a["idle_rss"]) / a["idle_rss"] * 100
    facts = (f"{b['name']} vs {a['name']}: cached-page throughput {dt:+.0f} %, idle RSS "
             f"{idle:+.0f} %, peak RSS under 256 connections {dr:+.0f} %")
    fa, fb = fits(a), fits(b)
    if fa != fb:
        w = a if fa else b
        return w["name"], rule, facts + f"; only {w['name']} meets both RSS targets"
    def spread(r):
        xs = [x["rps"] for x in r["page_runs"]]
        return (max(xs) - min(xs)) / r["page"]["rps"] * 100

    noise = max(5.0, spread(a), spread(b))
    if abs(dt) <= noise:
        return a["name"], rule, facts + (f"; within the noise ({noise:.0f} %), a tie on "
                                         "throughput, so the default stays")
    faster, slower = (b, a) if dt > 0 else (a, b)
    cost = (peak(faster["long"]) - peak(slower["long"])) / peak(slower["long"]) * 100
    if cost > abs(dt):
        return slower["name"], rule, facts + f"; {faster['name']} costs more memory than it gains"
    return faster["name"], rule, facts + f"; {faster['name']} is faster for its memory"


def targets(results, first200, views):
    rows = []

    def status(ok):
        return "PASS" if ok else "MISS"

    for r in results:
        runs = ", ".join(f"{x['rps']:,.0f}" for x in r["page_runs"])
        rows.append((f"cached page ≥ 20k req/s ({r['name']})",
                     f"{r['page']['rps']:,.0f} req/s (median of {runs})",
                     status(r["page"]["rps"] >= TARGETS["rps"]), "rps"))
    for r in results:
        rows.append((f"idle RSS ≤ 5 MB ({r['name']})", mib(r["idle_rss"]),
                     status(r["idle_rss"] <= TARGETS["idle_rss_kb"]), "idle"))
    for r in results:
        rows.append((f"RSS under 256 connections ≤ 32 MB ({r['name']})", f"{mib(peak(r['long']))} peak",
                     status(peak(r["long"]) <= TARGETS["load_rss_kb"]), "load"))
    for r in results:
        f = first200[r["name"]]
        rows.append((f"exec to first 200 ≤ 20 ms ({r['name']})", f"{ms(f['median'])} median",
                     status(f["median"] <= TARGETS["first200_ms"] and f["failures"] == 0),
                     "first200"))
    for r in results:
        x = r["long"]
        rows.append((f"0 errors at 256 connections for 30 s ({r['name']})",
                     f"{x['errors']} ({x['non2xx']} non-2xx/3xx, {x['socket_errors']} socket)",
                     status(x["errors"] == 0), "errors"))
    # Issue 13's no-regression bounds, tighter than the first ones, for the default build.
    r, f = results[0], first200[results[0]["name"]]
    rows.append((f"idle RSS ≤ 3 MiB, issue 13 ({r['name']})", mib(r["idle_rss"]),
                 status(r["idle_rss"] <= 3 * 1024), "idle"))
    rows.append((f"exec to first 200 ≤ 2 ms, issue 13 ({r['name']})", f"{ms(f['median'])} median",
                 status(f["median"] <= 2.0 and f["failures"] == 0), "first200"))
    repos = len(VIEW_REPOS)
    ok = all(v["contributors_lists"] == repos and v["non200"] == 0 for v in views)
    rows.append(("1 upstream request per repository per TTL",
                 " / ".join(f"{v['contributors_lists']} lists for {repos} repositories "
                            f"({v['concurrency']} client{'s' if v['concurrency'] > 1 else ''})"
                            for v in views),
                 status(ok), "upstream"))
    return rows


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    revision = sh("git", "rev-parse", "--short=12", "HEAD") or "unknown"
    if subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], capture_output=True,
                      check=False).returncode != 0:
        revision += "-dirty (uncommitted changes in the working tree)"
    return {
        "nproc": sh("nproc"),
        "cpu": cpu,
        "kernel": sh("uname", "-r"),
        "rustc": sh("rustc", "-V"),
        "revision": revision,
        "wrk": (sh("sh", "-c", "wrk -v 2>&1").splitlines() or ["unknown"])[0],
    }


def write_report(args, results, first200, views, dock, evidence, rows, background, started,
                 weight, wall):
    meta = machine()
    base, mim = results
    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w("Generated by `make bench` (`bench/bench.sh`, which builds, then `bench/bench.py`, which "
      "measures); do not edit by hand, run it again. One run on the machine below: compare "
      "the numbers with each other, not with another machine's.")
    w("")
    if QUICK:
        w("**BENCH_QUICK=1: short smoke-test runs; these numbers are not the benchmark.**")
        w("")
    w("| | |")
    w("| --- | --- |")
    w(f"| date | {started.strftime('%Y-%m-%d %H:%M:%S UTC')} |")
    w(f"| nproc | {meta['nproc']} |")
    w(f"| CPU | {meta['cpu']} |")
    w(f"| kernel | {meta['kernel']} |")
    w(f"| rustc | {meta['rustc']} |")
    w(f"| git revision | {meta['revision']} |")
    w(f"| sources built | `{args.sources}` (the git revision the binaries were built from, "
      "once; -dirty: with uncommitted changes) |")
    w(f"| wrk | {meta['wrk']} |")
    w(f"| machine load before the run | {cores(background[0])} cores busy (steal {cores(background[1])}), "
      "measured over 2 s from /proc/stat |")
    w(f"| duration | {args.elapsed:.0f} s measuring, {args.build_secs:.0f} s building |")
    w("")
    runs = [r[k] for r in results
            for k in ("root", "page", "page_gzip", "avatar", "page_warn", "long")]
    noisy = sum(1 for x in runs if x["rest"] > BUSY_REST)
    if noisy:
        w(f"**Warning: other processes used more than {BUSY_REST} of a core during {noisy} of "
          f"the {len(runs)} load runs (marked † in section 1). Those figures are not clean; run "
          "`make bench` again on a quiet machine before comparing.**")
        w("")
    w(f"wrk, the fake GitHub and the app share these {meta['nproc']} cores: the load "
      "generator takes CPU from the server, and a dedicated client machine would show more "
      "requests per second. The CPU columns in section 1 show the split.")
    w("")

    w("## Targets")
    w("")
    w("| target | measured | result |")
    w("| --- | --- | --- |")
    for name, value, st, _ in rows:
        w(f"| {name} | {value} | **{st}** |")
    w("")
    winner, rule, facts = recommend(base, mim)
    w(f"**Recommendation: {winner}** ({facts}).")
    w("")
    t = evidence.get("thp")
    if t and t["idle_rss"] <= TARGETS["idle_rss_kb"]:
        w(f"Note: in a diagnosis run with `MIMALLOC_ALLOW_THP=0` (section 5) the {t['name']} "
          f"build idled at {mib(t['idle_rss'])}, within the target. If the app turns "
          "transparent huge pages off for mimalloc, run `make bench` again and let the rule "
          "decide on the new figures.")
        w("")
    w(rule)
    w("")

    # ---- 1.
    w("## 1. Throughput, latency and memory (static musl builds)")
    w("")
    w(f"`wrk -t{WRK_THREADS} -c{WRK_CONNS} -d{WRK_SECS}s --timeout {WRK_TIMEOUT} --latency URL`. "
      "Each URL was answered once before (warm-up), so the page and the avatar come from the "
      "app's in-memory caches. Default log level (info: a line per request, to /dev/null "
      f"here). The cached page ran {PAGE_ROUNDS} times per build, the builds taking turns; the "
      "table shows the median run. CPU columns are cores used on average: the app from "
      "/proc/PID/stat (user+sys, including the kernel's loopback TCP work done on its "
      "threads), wrk from getrusage, the rest (the fake GitHub, this script, other "
      "processes) = busy time in /proc/stat minus those two.")
    w("")
    w("| build | URL | req/s | p50 | p99 | errors | app CPU | app CPU per request | wrk CPU | rest of the machine |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

    disturbed = []

    def row(r, label, x):
        mark = ""
        if x["rest"] > BUSY_REST:
            mark = " †"
            disturbed.append(x)
        w(f"| {r['name']} | {label} | {x['rps']:,.0f}{mark} | {ms(x['p50'])} | {ms(x['p99'])} | "
          f"{x['errors']} | {cores(x['app_user'] + x['app_sys'])} ({cores(x['app_sys'])} sys) | "
          f"{x['app_us_per_req']:.0f} µs | {cores(x['wrk_cpu'])} | {cores(x['rest'])} |")

    for r in results:
        row(r, "`/`", r["root"])
        row(r, f"`{PAGE}`", r["page"])
        row(r, f"`{PAGE}`, `{GZIP[0]}: {GZIP[1]}`", r["page_gzip"])
        row(r, f"`{AVATAR}`", r["avatar"])
        row(r, f"`{PAGE}`, `CONTRIBUTORS_LOG=warn`", r["page_warn"])
    w("")
    if disturbed:
        w(f"† Something else on the machine used more than {BUSY_REST} of a core during this run "
          "(see the last column): its figures are not comparable with the undisturbed runs.")
        w("")
    sc = evidence.get("syscalls", {})
    if sc and all("per_request" in v for v in sc.values()):
        w(f"System calls per request on the cached page (`perf stat -e syscalls:sys_enter_*` "
          f"on the app for 5 s of a c{WRK_CONNS} run):")
        w("")
        w(syscall_table(sc))
        w("")
        w(syscall_reading(sc))
        w("")
    w(f"256 connections: `wrk -t{WRK_THREADS} -c{WRK_LONG_CONNS} -d{WRK_LONG_SECS}s --timeout "
      f"{WRK_TIMEOUT} --latency` on the cached page, each build in a fresh process (started, "
      "warmed up, loaded), so its VmHWM is this run's peak; VmRSS also sampled every "
      f"{int(RSS_SAMPLE_EVERY * 1000)} ms. Peak = the larger of the two.")
    w("")
    w("| build | req/s | p50 | p99 | non-2xx/3xx | socket errors | VmHWM | max sampled VmRSS | threads |")
    w("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in results:
        x = r["long"]
        mark = " †" if x["rest"] > BUSY_REST else ""
        w(f"| {r['name']} | {x['rps']:,.0f}{mark} | {ms(x['p50'])} | {ms(x['p99'])} | {x['non2xx']} | "
          f"{x['socket_detail'].replace('Socket errors: ', '')} | {mib(x['hwm'])} | "
          f"{mib(x['max_rss'])} | {x['threads']} |")
    w("")
    w("| build | binary size | idle VmRSS | of which transparent huge pages | threads |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        w(f"| {r['name']} | {r['size']:,} bytes ({r['size'] / 1048576:.2f} MiB) | {mib(r['idle_rss'])} | "
          f"{mib(anon_huge_kb(r['idle_smaps']))} | {r['idle_threads']} |")
    w("")
    w("Idle = started, one GET each of `/`, the page and the avatar, then 1 s of quiet. "
      f"Upstream requests during all the load above, beyond each process's warm-up: "
      f"{base['upstream_during_load']} (the caches held).")
    w("")

    # ---- 2.
    w("## 2. Exec to the first 200 on /healthz")
    w("")
    w("`bench/bench.py` takes a timestamp, `posix_spawn`s the binary (output to /dev/null), "
      "then loops: connect a raw TCP socket to 127.0.0.1:PORT; if that works, send "
      "`GET /healthz` and read the status line; otherwise wait "
      f"{FIRST200_POLL * 1e6:.0f} µs and try again, until `HTTP/1.1 200` (deadline "
      f"{FIRST200_DEADLINE:.0f} s). {FIRST200_RUNS} runs per build, each on a new port, "
      "SIGTERM after. Same environment as in section 1 (the extra CA file is read at start).")
    w("")
    w("| build | median | min | max | runs without a 200 |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for r in results:
        f = first200[r["name"]]
        w(f"| {r['name']} | {ms(f['median'])} | {ms(f['min'])} | {ms(f['max'])} | {f['failures']} |")
    w("")

    # ---- 3.
    repos = len(VIEW_REPOS)
    w("## 3. Upstream requests and TLS handshakes per 1,000 page views")
    w("")
    w(f"Per pass: a fresh app ({base['name']} build, `CONTRIBUTORS_CACHE_TTL=600`, empty caches), "
      f"{VIEWS} page views round-robin over " + ", ".join(f"`{p}`" for p in VIEW_REPOS) +
      " from N keep-alive clients. With several clients the first views of each repository "
      "arrive at once: that tests that concurrent misses share one fetch. Counted by the "
      "fake GitHub (`GET /_fake/stats`, which leaves its own request and connection out).")
    w("")
    w("| clients | views answered 200 | lists fetched | API requests | avatar requests | TLS handshakes | expected |")
    w("| ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for v in views:
        w(f"| {v['concurrency']} | {v['views'] - v['non200']} / {v['views']} | {v['contributors_lists']} | "
          f"{v['contributors_requests']} | {v['avatar_requests']} | {v['handshakes']} | "
          f"{repos} lists, {repos} requests (≤ 100 contributors shown: one page each), 0 avatars, 1 handshake |")
    w("")
    conc = views[-1]
    if conc["handshakes"] > 1:
        once = ("The lists were still fetched once each. "
                if conc["contributors_lists"] == repos else "")
        w(f"With {conc['concurrency']} clients the app opened {conc['handshakes']} upstream connections, "
          "not 1: the first views of different repositories missed the cache at the same "
          "moment, and with no pooled connection yet, each of those fetches opened its own "
          f"(the sequential pass needed {views[0]['handshakes']}). {once}Per 1,000 views that is "
          f"{conc['requests']} upstream requests and {conc['handshakes']} handshakes.")
        w("")

    # ---- 4.
    w("## 4. Images: size and `docker stop`")
    w("")
    if "skipped" in dock:
        w(dock["skipped"])
    else:
        w("`docker run -d -P IMAGE` (upstream URLs pointed at a closed loopback port; no page is "
          "asked for), wait for 200 on `/healthz` through the published port, then time "
          f"`docker stop` (10 s grace). Median of {DOCKER_RUNS}.")
        w("")
        w("| image | size | run → /healthz 200 | docker stop | each stop | exit codes |")
        w("| --- | ---: | ---: | ---: | --- | --- |")
        for d in dock["rows"]:
            w(f"| {d['image']} | {d['size'] / 1048576:.2f} MiB ({d['size']:,} bytes) | "
              f"{d['ready_ms']:.0f} ms | {d['stop_ms']:.0f} ms | "
              + ", ".join(f"{x:.0f}" for x in d["stop_all"]) + " ms | "
              + ", ".join(d["exit_codes"]) + " |")
        if dock["missing"]:
            w("")
            w("Not present, skipped: " + ", ".join(dock["missing"]) + " (`make images` builds them).")
        for f in dock["failed"]:
            w("")
            w(f"Failed: {f}")
    w("")

    # ---- 5.
    misses = [(n, k) for n, _, st, k in rows if st == "MISS"]
    w("## 5. Why the misses")
    w("")
    if not misses:
        w("No target missed.")
        w("")
    for kind in dict.fromkeys(k for _, k in misses):
        w("### " + "; ".join(n for n, k in misses if k == kind))
        w("")
        for para in why(kind, results, first200, views, evidence):
            w(para)
            w("")

    # ---- 6.
    w("## 6. Bytes on the wire")
    w("")
    w(f"Body bytes of one GET with no `Accept-Encoding`, and one with `{GZIP[0]}: {GZIP[1]}` "
      f"(the {base['name']} build; pages from the fake GitHub's demo repositories). Pages are "
      "compressed once, when rendered into the page cache, and the form and the stylesheet "
      "when first asked for; a body under 1 KB, or one that gzip does not shrink, is sent as is.")
    w("")
    w("| URL | identity | gzip | sent as | ratio |")
    w("| --- | ---: | ---: | --- | ---: |")
    for x in weight:
        w(f"| `{x['path']}` | {x['identity']:,} bytes | {x['gzip']:,} bytes | "
          f"{x['gzip_coding']} | {x['identity'] / max(x['gzip'], 1):.1f}× |")
    w("")

    # ---- 7.
    w("## 7. The wall and the JSON API")
    w("")
    w(f"The {base['name']} build. Bytes of each answer as sent once cached, as it is and "
      "gzipped (`Accept-Encoding: gzip`); `?max=N` shows N contributors. The fake's avatars "
      "are one-colour PNGs of about 1 KB at 80 px, much alike, which is why its walls gzip so "
      "well; GitHub's photos are larger and compressed already, and a wall inlines at most "
      "4 MiB of them (the rest become placeholders).")
    w("")
    w("| contributors | `wall.svg` | gzipped | `contributors.json` | gzipped |")
    w("| ---: | ---: | ---: | ---: | ---: |")

    def size(pair):
        plain, gz = pair
        return f"{plain:,} B", (f"{gz:,} B" if gz else "(not smaller)")

    for row in wall["sizes"]:
        svg, svg_gz = size(row["wall.svg"])
        js, js_gz = size(row["contributors.json"])
        w(f"| {row['shown']} (`{row['repo']}`) | {svg} | {svg_gz} | {js} | {js_gz} |")
    w("")
    w(f"Cached answers under load: `wrk -t{WRK_THREADS} -c{WRK_CONNS} -d{WRK_SECS}s --timeout "
      f"{WRK_TIMEOUT} --latency URL`, identity bytes.")
    w("")
    w("| URL | req/s | p50 | p99 | errors | app CPU |")
    w("| --- | ---: | ---: | ---: | ---: | ---: |")
    for file, x in wall["load"].items():
        mark = " †" if x["rest"] > BUSY_REST else ""
        w(f"| `{WALL_LOADED}/{file}?max=100` | {x['rps']:,.0f}{mark} | {ms(x['p50'])} | "
          f"{ms(x['p99'])} | {x['errors']} | {cores(x['app_user'] + x['app_sys'])} |")
    w("")
    if any(x["rest"] > BUSY_REST for x in wall["load"].values()):
        w(f"† As in section 1: something else used more than {BUSY_REST} of a core during the run.")
        w("")

    # ---- commands
    w("## How it was measured")
    w("")
    w("```sh")
    w("# builds (nothing to do when up to date):")
    for c in args.commands:
        w(c)
    w("# the fake GitHub (workspace test tool: HTTPS on loopback, throwaway CA):")
    w(f"target/bench/fake-github --listen 127.0.0.1:0 --ca-out CA.pem --exit-after {FAKE_EXIT_AFTER} --avatar-base self")
    w("# the binaries measured are copies under target/bench/ (contributors-musl,")
    w("# contributors-mimalloc, contributors-musl-symbols, fake-github), taken right after the builds")
    w("# the app, a fresh process per run:")
    w("env -i PORT=P CONTRIBUTORS_BIND=127.0.0.1 GITHUB_API_URL=https://127.0.0.1:F \\")
    w("  CONTRIBUTORS_AVATAR_URL=https://127.0.0.1:F CONTRIBUTORS_EXTRA_CA_FILE=CA.pem \\")
    w("  CONTRIBUTORS_CACHE_TTL=600 BINARY >/dev/null 2>&1")
    w(f"wrk -t{WRK_THREADS} -c{WRK_CONNS} -d{WRK_SECS}s --timeout {WRK_TIMEOUT} --latency "
      f"'http://127.0.0.1:P{{/,{PAGE},{AVATAR}}}'")
    w(f"wrk -t{WRK_THREADS} -c{WRK_LONG_CONNS} -d{WRK_LONG_SECS}s --timeout {WRK_TIMEOUT} --latency "
      f"http://127.0.0.1:P{PAGE}")
    w(f"wrk ... -H '{GZIP[0]}: {GZIP[1]}' http://127.0.0.1:P{PAGE}   # the gzipped row")
    w("# section 6, body bytes, for each URL there:")
    w(f"curl -s -o /dev/null -w '%{{size_download}}\\n' [-H '{GZIP[0]}: {GZIP[1]}'] http://127.0.0.1:P/URL")
    w("```")
    w("")
    for r in results:
        for key, label in (("page", "cached page, median run"), ("long", f"{WRK_LONG_CONNS} connections")):
            w(f"<details><summary>wrk output: {r['name']}, {label}</summary>")
            w("")
            w("```")
            w(r[key]["raw"].rstrip())
            w("```")
            w("")
            w("</details>")
            w("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    return winner, facts


def why(kind, results, first200, views, ev):
    out = []
    nproc = os.cpu_count() or 1
    if kind == "rps":
        for r in results:
            x = r["page"]
            out.append(
                f"- {r['name']}: {x['rps']:,.0f} req/s (runs: "
                + ", ".join(f"{y['rps']:,.0f}" for y in r["page_runs"]) + "). During the median "
                f"run {cores(x['machine_busy'])} of {nproc} cores were busy: the app "
                f"{cores(x['app_user'] + x['app_sys'])} ({cores(x['app_sys'])} in the kernel), "
                f"wrk {cores(x['wrk_cpu'])}, the rest {cores(x['rest'])} (steal "
                f"{cores(x['steal'])}). The app spent {x['app_us_per_req']:.0f} µs of CPU per "
                f"request. With `CONTRIBUTORS_LOG=warn`: {r['page_warn']['rps']:,.0f} req/s.")
        for r in results:
            if r["page"]["rps"] >= TARGETS["rps"]:
                continue
            x = r["page"]
            others = [o for o in results if o is not r]
            text = (f"{r['name']} needs {x['app_us_per_req']:.0f} µs of CPU per request")
            if others:
                o = others[0]
                text += (f" where {o['name']} needs {o['page']['app_us_per_req']:.0f} µs for the "
                         "same page")
            idle = nproc - x["machine_busy"]
            text += (f"; with {nproc} cores shared with wrk, that cost sets the throughput. "
                     f"{cores(idle)} cores also stayed idle during the run: its threads spend "
                     "part of the time waiting rather than working (the futex calls below).")
            out.append(text)
        one = ev.get("one_worker")
        if one:
            r = next(x for x in results if x["name"] == one["name"])
            a, b = r["page"], one["run"]
            verdict = ("more requests for less CPU with one thread than with two: the two "
                       "workers mostly get in each other's way"
                       if b["rps"] > a["rps"] and b["app_us_per_req"] < a["app_us_per_req"]
                       else "no gain from running on one thread")
            out.append(f"Diagnosis, not a target figure: the same {one['name']} binary with one "
                       f"tokio worker (`TOKIO_WORKER_THREADS=1`, {one['threads']} threads in "
                       f"all) served {b['rps']:,.0f} req/s at {b['app_us_per_req']:.0f} µs of CPU "
                       f"per request (rest of the machine {cores(b['rest'])} cores), against "
                       f"{a['rps']:,.0f} req/s at {a['app_us_per_req']:.0f} µs with the default "
                       f"two workers: {verdict}.")
        sc = ev.get("syscalls", {})
        if sc and all("per_request" in v for v in sc.values()):
            out.append("System calls per request (from section 1):")
            out.append(syscall_table(sc))
        p = ev.get("perf")
        if p and "error" not in p:
            out.append(f"Where the app's time goes: `perf record -F 999 -p PID` for 5 s of a "
                       f"c{WRK_CONNS} cached-page run ({p['label']}; {p['rps']:,.0f} req/s "
                       "during the profile, perf included). By binary:")
            out.append("```\n" + p["dso"] + "\n```")
            out.append("Top symbols (`[k]` kernel, `[.]` the app):")
            out.append("```\n" + p["sym"] + "\n```")
            out.append(perf_reading(p["sym"]))
        elif p:
            out.append(f"perf record failed: `{p['error']}`")
        elif not have("perf"):
            out.append("(No profile: perf is not available here.)")
    elif kind in ("idle", "load"):
        for r in results:
            x = r["long"]
            out.append(f"- {r['name']}: idle VmRSS {mib(r['idle_rss'])} "
                       f"({mib(anon_huge_kb(r['idle_smaps']))} of it transparent huge pages), "
                       f"peak under {WRK_LONG_CONNS} connections {mib(peak(x))}.")
        for r in results:
            if kind == "idle" and r["idle_rss"] > TARGETS["idle_rss_kb"]:
                out.append(f"{r['name']} at idle, `/proc/PID/smaps_rollup`:")
                out.append("```\n" + r["idle_smaps"].strip() + "\n```")
        t = ev.get("thp")
        if t:
            out.append(
                f"`AnonHugePages` is the cause: mimalloc commits its arena eagerly and asks the "
                f"kernel for transparent huge pages (`madvise(MADV_HUGEPAGE)`; this kernel's THP "
                f"mode is `{thp_mode()}`), so touching a few bytes makes 2 MiB resident. "
                f"Diagnosis, not a target figure: the same {t['name']} binary with "
                f"`MIMALLOC_ALLOW_THP=0` idles at {mib(t['idle_rss'])} "
                f"({mib(t['anon_huge'])} huge pages) and serves the cached page at "
                f"{t['page']['rps']:,.0f} req/s in one {WRK_SECS} s c{WRK_CONNS} run (rest of "
                f"the machine {cores(t['page']['rest'])} cores; peak {mib(peak(t['page']))}). "
                "The fix belongs in the app (e.g. `mi_option_set(mi_option_allow_thp, 0)` at "
                "start, or `ENV MIMALLOC_ALLOW_THP=0` in the images).")
    elif kind == "first200":
        for r in results:
            f = first200[r["name"]]
            out.append(f"- {r['name']}: median {ms(f['median'])}, min {ms(f['min'])}, max "
                       f"{ms(f['max'])}, {f['failures']} runs without a 200 within "
                       f"{FIRST200_DEADLINE:.0f} s.")
    elif kind == "errors":
        for r in results:
            x = r["long"]
            out.append(f"- {r['name']}: {x['non2xx']} non-2xx/3xx responses; {x['socket_detail']}.")
    elif kind == "upstream":
        for v in views:
            out.append(f"- {v['concurrency']} clients: {v['contributors_lists']} list fetches "
                       f"({v['contributors_requests']} API requests) for {len(VIEW_REPOS)} "
                       f"repositories over {v['views']} views; {v['non200']} views not answered "
                       f"200; {v['handshakes']} handshakes.")
    return out


def thp_mode():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            m = re.search(r"\[(\w+)\]", f.read())
            return m.group(1) if m else "unknown"
    except OSError:
        return "unknown"


def syscall_table(sc):
    t = ["| build | req/s during the count | " + " | ".join(SYSCALLS) + " |",
         "| --- | ---: | " + " | ".join("---:" for _ in SYSCALLS) + " |"]
    for name, v in sc.items():
        t.append(f"| {name} | {v['rps']:,.0f} | "
                 + " | ".join(f"{v['per_request'].get(c, 0):.2f}" for c in SYSCALLS) + " |")
    return "\n".join(t)


def syscall_reading(sc):
    """Plain words for the syscall table, from its numbers."""
    parts = []
    maps, futex = {}, {}
    for name, v in sc.items():
        pr = v["per_request"]
        maps[name] = pr.get("mmap", 0) + pr.get("munmap", 0)
        futex[name] = pr.get("futex", 0)
        parts.append(f"{name}: {maps[name]:.2f} mmap+munmap and {futex[name]:.2f} futex calls "
                     "per request")
    text = "; ".join(parts) + "."
    if max(maps.values()) >= 0.05:
        text += (" mmap/munmap on the hot path means an allocator gives memory back to the "
                 "kernel and asks for it again, request after request (and each munmap makes "
                 "the kernel flush the TLB of the other core: `smp_call_function_many_cond` in "
                 "a profile).")
    hi, lo = max(futex.values()), min(futex.values())
    if hi >= 0.5 and hi >= 3 * max(lo, 0.01):
        who = max(futex, key=futex.get)
        text += (f" futex calls are threads waiting for each other; {who} makes "
                 f"{hi / max(lo, 0.01):.0f}× as many as the other build of the same code, so the "
                 "difference is its allocator's lock" + (" (musl's malloc takes one global "
                 "lock, `__lock` in a profile, around every call)" if "musl" in who else "")
                 + ".")
    else:
        text += " Neither build spends much in the kernel on memory or lock waits here."
    return text


def perf_reading(sym):
    """A plain-words summary of the flat profile, from its numbers."""
    share = {}
    for line in sym.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+\[([.k])\]\s+(.*)$", line)
        if m:
            share[m.group(3).strip()] = (float(m.group(1)), m.group(2))
    def total(names):
        return sum(v[0] for k, v in share.items() if k in names)
    memcpy = total({"memcpy", "__memcpy_fwd", "memmove"})
    alloc = total({"__libc_malloc_impl", "__libc_free", "__libc_realloc", "alloc_slot",
                   "__lock", "__unlock", "enframe", "get_meta", "malloc", "free", "realloc",
                   "__malloc_alloc_meta", "nontrivial_free", "__libc_malloc"})
    kernel = sum(v[0] for v in share.values() if v[1] == "k")
    fmt = total({"core::fmt::write", "<alloc::string::String as core::fmt::Write>::write_str",
                 "askama::html::write_escaped_str", "alloc::fmt::format::format_inner"})
    parts = []
    if memcpy:
        parts.append(f"`memcpy` {memcpy:.0f} % (musl's x86-64 memcpy is a bare `rep movsq` "
                     "with no vector path: small, but slow to start, and the app makes many "
                     "short copies when it formats, escapes and buffers)")
    if alloc:
        parts.append(f"musl's allocator and its lock {alloc:.0f} %")
    if fmt:
        parts.append(f"formatting and HTML escaping {fmt:.0f} % (the page is rendered per "
                     "request from the cached list, plus the log line)")
    if kernel:
        known = [
            ("finish_task_switch", "context switches: threads going to sleep on a futex and "
                                   "being woken"),
            ("smp_call_function_many_cond", "cross-core calls, which munmap's TLB shootdowns "
                                            "cause"),
            ("_raw_spin_unlock_irqrestore", "wake-ups of sockets and threads (time lands here "
                                            "when interrupts are re-enabled)"),
        ]
        seen = [f"`{sym}` {share[k][0]:.0f} %: {what}" for sym, what in known
                for k in share if k.startswith(sym) and share[k][1] == "k"]
        parts.append(f"kernel symbols above the cut {kernel:.0f} %"
                     + (" (" + "; ".join(seen) + ")" if seen else ""))
    if not parts:
        return ""
    return "Reading it (symbols above the cut only): " + "; ".join(parts) + "."


# ---------------------------------------------------------------- main


def only_section(args, report, measure):
    """One section alone (--only-hostile, --only-baseline): `measure(fake)`
    against a fake GitHub of its own, and just that section's Markdown to --out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        fake = Fake(args.fake, args.workdir, "main")
        result = measure(fake)
        fake.close()
    finally:
        cleanup()
    with open(args.out, "w") as f:
        f.write(report(result).lstrip("\n"))
    print(f"wrote {args.out}")


def size_level(args):
    """The opt-level s pair for section 9, if both binaries were given."""
    if args.app_s and args.baseline_s:
        return (args.app_s, args.baseline_s)
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", action="append", required=True, metavar="NAME=BINARY",
                   help="twice: the default build first, then the candidate")
    p.add_argument("--fake", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--workdir", required=True)
    p.add_argument("--image", default="contributors")
    p.add_argument("--command", action="append", default=[], dest="commands",
                   help="a build command, shown in the report as run")
    p.add_argument("--build-secs", type=float, default=0.0)
    p.add_argument("--symbols-binary", default="",
                   help="the default variant built with symbols, for a profile on a MISS")
    p.add_argument("--sources", default="unknown", help="git revision of the sources built")
    p.add_argument("--baseline", default="", help="bench/baseline's binary, for section 9")
    p.add_argument("--app-s", default="", help="the app built with opt-level s, for section 9")
    p.add_argument("--baseline-s", default="",
                   help="bench/baseline built with opt-level s, for section 9")
    p.add_argument("--http2-binary", default="",
                   help="the build with --features http2-upstream, for section 8's protocols")
    p.add_argument("--only-baseline", action="store_true",
                   help="run only section 9 (the app against bare hyper) with the first "
                        "--variant, and write just that section to --out")
    p.add_argument("--sizes-options", default="", help="bench/sizes-options.md, for section 10")
    p.add_argument("--bloat", default="", help="ci/bloat.sh's output, for section 10")
    p.add_argument("--only-hostile", action="store_true",
                   help="run only section 8 (hostile clients, the client's protocol) with "
                        "the first --variant, and write just that section to --out")
    args = p.parse_args()
    variants = [tuple(v.split("=", 1)) for v in args.variant]
    if args.only_hostile:
        only_section(args, hostile_report, lambda fake: bench_hostile(
            variants[0][1], fake, args.fake, args.workdir, args.http2_binary))
        return
    if args.only_baseline:
        only_section(args, baseline_report, lambda fake: bench_baseline(
            variants[0][1], args.baseline, fake, args.workdir, args.symbols_binary,
            size_level(args)))
        return
    if len(variants) != 2:
        raise SystemExit("bench: give exactly two --variant NAME=BINARY")

    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        # Wait (bounded) for the machine to be quiet: other people's builds
        # would take CPU from the runs and make the figures incomparable.
        deadline = time.monotonic() + QUIET_WAIT
        while True:
            background = machine_busy()
            log(f"machine load before the run: {background[0]:.2f} cores busy")
            if background[0] <= BUSY_REST or time.monotonic() >= deadline:
                break
            log(f"  waiting for it to fall below {BUSY_REST} (at most {QUIET_WAIT} s in all)")
            time.sleep(3)
        fake = Fake(args.fake, args.workdir, "main")
        results = bench_throughput(variants, fake)
        first200 = {name: bench_first200(name, binary, fake) for name, binary in variants}
        views = bench_views(variants[0][1], fake)
        weight = bench_weight(variants[0][1], fake)
        hostile = bench_hostile(variants[0][1], fake, args.fake, args.workdir,
                                    args.http2_binary)
        dock = bench_docker(args.image)
        wall = bench_wall(variants[0][1], fake)
        versus = (bench_baseline(variants[0][1], args.baseline, fake, args.workdir,
                                 args.symbols_binary, size_level(args))
                  if args.baseline else None)
        rows = targets(results, first200, views)
        evidence = gather_evidence(args, results, fake, rows)
        fake.close()
        args.elapsed = time.monotonic() - t0
        winner, facts = write_report(args, results, first200, views, dock, evidence, rows,
                                     background, started, weight, wall)
        with open(args.out, "a") as f:
            f.write(hostile_report(hostile))
            if versus:
                f.write(baseline_report(versus))
            f.write(size_report(variants[0][1], args.sizes_options, args.bloat))
    finally:
        cleanup()
    width = max(len(r[0]) for r in rows)
    print()
    for name, value, st, _ in rows:
        print(f"{name:<{width}}  {st}  {value}")
    print(f"\nrecommendation: {winner} ({facts})")
    print(f"wrote {args.out} ({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
