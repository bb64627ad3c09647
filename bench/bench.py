#!/usr/bin/env python3
"""bench/bench.py: the measuring half of `make bench` (bench/bench.sh builds).

Runs the static builds of `contributors` against a local fake GitHub and
writes BENCHMARKS.md below its MARKER line; the part above it (how to read
the figures) is written by hand and kept as it is. Sections: 1. throughput,
latency and memory of both builds (musl's allocator, mimalloc); 2. exec to the
first 200; 3. upstream requests per 1,000 page views; 4. bytes on the wire; 5.
the wall and the JSON API; 6. one page and 7. many repositories, against bare
hyper (bench/baseline); 8. floods (floods.py); 9. cold views (cold.py); 10. size.
Standard library only. Every loop is bounded by a count or a deadline; every
process started here is ended here, by its pid. All traffic stays on 127.0.0.1."""

import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
import cold  # section 9 (bench/cold.py, beside this file)
import floods  # section 8 (bench/floods.py): issue 24's floods, with this module's helpers

MARKER = "<!-- Generated below by make bench (bench/bench.py): edit only above this line. -->"
WRK_THREADS, WRK_CONNS, WRK_SECS, WRK_TIMEOUT = 2, 64, 10, "2s"
WRK_LONG_CONNS, WRK_LONG_SECS = 256, 30
PAGE_ROUNDS = 3  # cached-page runs per build, the builds taking turns; the median counts
PAGE, AVATAR = "/kelseyhightower/contributors", "/avatars/583231?s=80"
GZIP = ("Accept-Encoding", "gzip, deflate, br")
FIRST200_RUNS, FIRST200_DEADLINE, FIRST200_POLL = 21, 2.0, 0.0001  # runs, s, s
VIEWS, VIEWS_CONCURRENCY = 1000, 8
VIEW_REPOS = [PAGE, "/rust-lang/rust", "/tokio-rs/tokio", "/octo/anon"]
WEIGHT_PATHS = ["/", "/rust-lang/rust?max=100", "/torvalds/linux?max=500"]
WALL_LISTS = [(PAGE, 12), ("/rust-lang/rust", 100), ("/torvalds/linux", 500)]
WALL_LOADED, WALL_FILES = "/rust-lang/rust", ["wall.svg", "contributors.json"]
# Sections 6 and 7: rounds of the servers' turns, seconds per run, and one wrk
# thread, as in issue 13's own table.
TURN_ROUNDS, TURN_SECS, TURN_WRK_THREADS = 9, 5, 1
BASELINE_PATHS, BASELINE_GOAL, CALLGRIND_REQUESTS = ["/", PAGE], 0.90, (1000, 3000)
MANY_REPOS, MANY_ZIPF_S, MANY_SEED, MANY_SEQUENCE = 900, 1.1, 25, 100_000
MANY_GOALS = {"app, warn": 0.90, "app, default log": 0.85}
SIZE_TARGET = 2 * 1024 * 1024  # the scratch image, whose only layer is the binary
BUSY_REST, QUIET_WAIT = 0.25, 90  # cores others use in a run before it is marked †; s to wait
FAKE_EXIT_AFTER = 1500  # the fake stops by itself even if we are killed
QUIET_LOG = {"CONTRIBUTORS_LOG": "warn"}
TARGETS = {"rps": 20_000, "idle_rss_kb": 5 * 1024, "load_rss_kb": 32 * 1024, "first200_ms": 20.0}

# BENCH_QUICK=1 (see bench/bench.mk): short runs that test this script; not a benchmark.
QUICK = os.environ.get("BENCH_QUICK") == "1"
if QUICK:
    WRK_SECS, WRK_LONG_SECS, FIRST200_RUNS, TURN_ROUNDS, TURN_SECS = 2, 4, 5, 1, 2

children = []  # processes started here, ended in cleanup()


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, env=None, **kw):
    proc = subprocess.Popen(argv, env=env, stdout=kw.pop("stdout", subprocess.DEVNULL),
                            stderr=subprocess.DEVNULL, **kw)
    children.append(proc)
    return proc


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


class Fake:
    """A fake-github process with its own CA, on a free loopback port."""

    def __init__(self, binary, workdir, name, extra_args=()):
        self.ca = os.path.join(workdir, f"{name}-ca.pem")
        self.proc = start([binary, "--listen", "127.0.0.1:0", "--ca-out", self.ca, "--exit-after",
                           str(FAKE_EXIT_AFTER), "--avatar-base", "self", *extra_args],
                          stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # the fake prints exactly one line
        m = re.search(r"listening on (https://127\.0\.0\.1:(\d+))", line)
        if not m:
            raise SystemExit(f"bench: fake-github did not start: {line!r}")
        self.url, self.port = m.group(1), int(m.group(2))

    def stats(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=ssl.create_default_context(cafile=self.ca))
        try:
            conn.request("GET", "/_fake/stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()


def app_env(fake, port, extra=None):
    # A clean environment (no token or proxy leaks in; every upstream is the local fake).
    # wrk's many visitors share 127.0.0.1: no cap on one client's connections (default 64).
    return {"PATH": "/usr/bin:/bin", "PORT": str(port), "CONTRIBUTORS_BIND": "127.0.0.1",
            "GITHUB_API_URL": fake.url, "CONTRIBUTORS_AVATAR_URL": fake.url,
            "CONTRIBUTORS_EXTRA_CA_FILE": fake.ca, "CONTRIBUTORS_CACHE_TTL": "600",
            "CONTRIBUTORS_CLIENT_CONNECTIONS": "0", **(extra or {})}


def fetch(port, path, headers=None, timeout=10):
    """GET path: (status, body as sent, lower-cased headers)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def get_all(port, paths):
    """GET each path once, in order, on one keep-alive connection; all must be 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for path in paths:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SystemExit(f"bench: GET {path} answered {resp.status}")
    finally:
        conn.close()


def wait_200(port, path, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if fetch(port, path, timeout=1)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.01)
    return False


class App:
    """One server process (the app, unless `argv` says otherwise), output to /dev/null."""

    def __init__(self, binary, fake, extra_env=None, argv=None, probe="/healthz"):
        self.port = free_port()
        env = app_env(fake, self.port, extra_env) if fake else None
        self.proc = start(argv(self.port) if argv else [binary], env)
        self.pid = self.proc.pid
        if not wait_200(self.port, probe):
            raise SystemExit(f"bench: {binary} did not answer {probe}")

    def status(self):  # VmRSS, VmHWM (kB) and the thread count
        lines = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        out = {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines)
               if k in ("VmRSS", "VmHWM", "Threads")}
        if "VmHWM" not in out:  # a zombie: the process has exited
            raise SystemExit(f"bench: pid {self.pid} exited during the run")
        return out

    def cpu_ticks(self):
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]), int(fields[12])  # utime, stime

    def warm_up(self):
        get_all(self.port, ("/", PAGE, AVATAR))
        return self


def baseline_server(binary, answers, probe="/"):
    """bench/baseline serving the answer files or folders in `answers`."""
    return App(binary, None, argv=lambda port: [binary, str(port), *answers], probe=probe)


def capture(port, path, dest):
    """The app's answer to a plain GET of `path`, as a baseline answer file:
    path, headers but `date` and `content-length`, empty line, body."""
    status, body, headers = fetch(port, path)
    if status != 200:
        raise SystemExit(f"bench: capturing {path} answered {status}")
    head = [path] + [f"{k}: {v}" for k, v in headers.items() if k not in ("date", "content-length")]
    Path(dest).write_bytes(("\n".join(head) + "\n\n").encode() + body)
    return len(body), len(head) - 1


def parse_wrk(text):
    def num(pattern):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else 0.0
    unit, lat = {"us": 0.001, "ms": 1.0, "s": 1000.0}, {}
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        lat[pct] = float(m.group(1)) * unit[m.group(2)] if m else float("nan")
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(x) for x in sock.groups()) if sock else 0
    non2xx = int(num(r"Non-2xx or 3xx responses: (\d+)"))
    return {"rps": num(r"^Requests/sec:\s+([\d.]+)"), "p50": lat["50"], "p99": lat["99"],
            "non2xx": non2xx, "socket_errors": socket_errors, "errors": non2xx + socket_errors,
            "socket_detail": sock.group(0)[15:] if sock else "none"}


def read_proc_stat():
    """The machine's CPU time in ticks: busy (all but idle and iowait), and steal."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _, _, irq, softirq, steal = (fields + [0] * 8)[:8]
    return {"busy": user + nice + system + irq + softirq + steal, "steal": steal}


def run_wrk(app, conns, secs, path, header=None, threads=WRK_THREADS, script=None):
    """wrk against the app, with both sides' CPU time and the app's peak RSS."""
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--timeout", WRK_TIMEOUT, "--latency",
           *(["-H", f"{header[0]}: {header[1]}"] if header else []),
           *(["-s", script] if script else []), f"http://127.0.0.1:{app.port}{path}"]
    m0, (u0, s0) = read_proc_stat(), app.cpu_ticks()
    c0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 60, check=False)
    elapsed, m1, (u1, s1) = time.monotonic() - t0, read_proc_stat(), app.cpu_ticks()
    c1, hz = resource.getrusage(resource.RUSAGE_CHILDREN), os.sysconf("SC_CLK_TCK")
    if proc.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {proc.stderr}")
    x = parse_wrk(proc.stdout)
    x.update(hwm=app.status()["VmHWM"],
             app_cpu=(u1 - u0 + s1 - s0) / hz / elapsed, app_sys=(s1 - s0) / hz / elapsed,
             wrk_cpu=(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime) / elapsed,
             machine_busy=(m1["busy"] - m0["busy"]) / hz / elapsed)
    # softirq work (loopback TCP) is charged to the task that was running:
    # it is inside the app's and wrk's figures, not in the rest.
    x["rest"] = max(0.0, x["machine_busy"] - x["app_cpu"] - x["wrk_cpu"])
    x["app_us"] = x["app_cpu"] * 1e6 / x["rps"] if x["rps"] else float("nan")
    log(f"  {os.path.basename(script) if script else path} c{conns} {secs}s: {x['rps']:.0f} req/s, "
        f"p50 {x['p50']:.2f} ms, errors {x['errors']}")
    return x


def taking_turns(servers, order, rounds, runs_of, label):
    """`rounds` rounds of wrk on each server in `order`, the order reversed
    every other round; `runs_of(name)` lists (runs to append to, path, script)."""
    for round_ in range(rounds):
        for name in order if round_ % 2 == 0 else order[::-1]:
            for runs, path, script in runs_of(name):
                log(f"{label} {name}, round {round_ + 1}/{rounds}")
                runs.append(run_wrk(servers[name], WRK_CONNS, TURN_SECS, path,
                                    threads=TURN_WRK_THREADS, script=script))


# ---------------------------------------------------------------- sections 1 to 5


def bench_throughput(variants, fake):
    """Section 1. The builds take turns where it matters, so that background
    load on the machine hits both alike."""
    results = {name: {"name": name, "binary": binary, "size": os.path.getsize(binary),
                      "page_runs": []} for name, binary in variants}
    before, warm_ups, apps = fake.stats(), len(variants), {}
    try:
        for name, binary in variants:
            apps[name] = App(binary, fake).warm_up()
        time.sleep(1.0)  # let the warm-up's connections close
        for name, app in apps.items():
            huge = re.search(r"^AnonHugePages:\s+(\d+) kB",
                             Path(f"/proc/{app.pid}/smaps_rollup").read_text(), re.M)
            st = app.status()
            results[name].update(idle_rss=st["VmRSS"], idle_threads=st["Threads"],
                                 idle_huge=int(huge.group(1)) if huge else 0)
        for round_ in range(PAGE_ROUNDS):
            for name, app in apps.items():
                log(f"1. {name}: cached page, round {round_ + 1}/{PAGE_ROUNDS}")
                results[name]["page_runs"].append(run_wrk(app, WRK_CONNS, WRK_SECS, PAGE))
        for name, app in apps.items():
            results[name]["root"] = run_wrk(app, WRK_CONNS, WRK_SECS, "/")
            results[name]["avatar"] = run_wrk(app, WRK_CONNS, WRK_SECS, AVATAR)
            results[name]["page_gzip"] = run_wrk(app, WRK_CONNS, WRK_SECS, PAGE, GZIP)
    finally:
        for app in apps.values():
            stop(app.proc)
    for r in results.values():
        r["page"] = sorted(r["page_runs"], key=lambda x: x["rps"])[len(r["page_runs"]) // 2]
    # A fresh process for each of these, so that VmHWM is this run's peak.
    for key, conns, secs, env in (("long", WRK_LONG_CONNS, WRK_LONG_SECS, None),
                                  ("page_warn", WRK_CONNS, WRK_SECS, QUIET_LOG)):
        for name, binary in variants:
            log(f"1. {name}: {key}")
            app = App(binary, fake, env).warm_up()
            warm_ups += 1
            try:
                results[name][key] = run_wrk(app, conns, secs, PAGE)
                results[name][key]["threads"] = app.status()["Threads"]
            finally:
                stop(app.proc)
    # Each warm-up fetches the list and the avatar once; the load must add nothing.
    results[variants[0][0]]["upstream_during_load"] = (fake.stats()["requests"] - before["requests"]
                                                       - 2 * warm_ups)
    return [results[name] for name, _ in variants]


def first200_once(binary, fake, port):
    """Milliseconds from exec to the first `HTTP/1.1 200` on /healthz, polled
    with raw sockets; None past the deadline."""
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(binary, [binary], app_env(fake, port), file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    finally:
        os.close(devnull)
    try:
        while time.perf_counter_ns() < t0 + FIRST200_DEADLINE * 1e9:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                    s.sendall(request)
                    if s.recv(4096).startswith(b"HTTP/1.1 200"):
                        return (time.perf_counter_ns() - t0) / 1e6
            except OSError:
                pass
            time.sleep(FIRST200_POLL)
        return None
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


def bench_first200(binary, fake):
    """Section 2: FIRST200_RUNS runs, each on a port of its own."""
    times = [first200_once(binary, fake, free_port()) for _ in range(FIRST200_RUNS)]
    ok = [t for t in times if t is not None] or [float("nan")]
    return {"median": statistics.median(ok), "min": min(ok), "max": max(ok),
            "failures": times.count(None)}


def views_pass(binary, fake, concurrency):
    """Section 3: a fresh app, VIEWS page views round-robin over VIEW_REPOS
    from `concurrency` keep-alive clients; what the fake counted meanwhile."""
    before, app = fake.stats(), App(binary, fake)
    paths = [VIEW_REPOS[i % len(VIEW_REPOS)] for i in range(VIEWS)]
    try:  # client k asks for every concurrency-th view, from the k-th on
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(lambda k: get_all(app.port, paths[k::concurrency]), range(concurrency)))
    finally:
        stop(app.proc)
    return {**{k: v - before[k] for k, v in fake.stats().items()}, "concurrency": concurrency}


def bench_weight_and_wall(binary, fake):
    """Sections 4 and 5 on one app: body bytes as sent, identity and gzip;
    then wrk on the cached 100-contributor wall and JSON."""
    app, weight, sizes, load = App(binary, fake), [], [], {}

    def sent(path, gzip=False):
        status, body, headers = fetch(app.port, path, dict([GZIP]) if gzip else None)
        if status != 200:
            raise SystemExit(f"bench: GET {path} answered {status}")
        return body, headers.get("content-encoding", "identity")
    try:
        for path in WEIGHT_PATHS:
            (plain, _), (gz, coding) = sent(path), sent(path, gzip=True)
            weight.append((f"`{path}`", f"{len(plain):,} B", f"{len(gz):,} B", coding))
        for repo, shown in WALL_LISTS:
            row = [f"{shown} (`{repo}`)"]
            for file in WALL_FILES:
                body, _ = sent(f"{repo}/{file}?max={shown}")
                count = (body.count(b"<image ") if file == "wall.svg"
                         else len(json.loads(body)["contributors"]))
                if count != shown:
                    raise SystemExit(f"bench: {repo}/{file} shows {count}, not {shown}")
                gz, coding = sent(f"{repo}/{file}?max={shown}", gzip=True)
                row += [f"{len(body):,} B", f"{len(gz):,} B" if coding != "identity" else "as is"]
            sizes.append(row)
        for path in (f"{WALL_LOADED}/{file}?max=100" for file in WALL_FILES):
            load[path] = run_wrk(app, WRK_CONNS, WRK_SECS, path)
    finally:
        stop(app.proc)
    return weight, {"sizes": sizes, "load": load}


def bench_baseline(binary, baseline, fake, workdir):
    """The app (warn, then the default log level) and bare hyper serving the
    app's answers, taking turns on each path; then callgrind on each."""
    out, servers, files = {"paths": {}, "captured": {}}, {}, []
    try:
        servers["app"] = App(binary, fake, QUIET_LOG).warm_up()
        servers["app, default log"] = App(binary, fake).warm_up()
        for i, path in enumerate(BASELINE_PATHS):
            files.append(os.path.join(workdir, f"answer-{i}"))
            out["captured"][path] = capture(servers["app"].port, path, files[-1])
        servers["baseline"] = baseline_server(baseline, files)
        for path in BASELINE_PATHS:
            runs = out["paths"][path] = {name: [] for name in servers}
            taking_turns(servers, ["app", "baseline", "app, default log"], TURN_ROUNDS,
                         lambda name, r=runs, p=path: [(r[name], p, None)], f"6. {path}")
    finally:
        for server in servers.values():
            stop(server.proc)
    if shutil.which("valgrind"):
        out["instructions"] = {path: {
            "app": callgrind([binary], lambda port: app_env(fake, port, QUIET_LOG), path, workdir),
            "baseline": callgrind([baseline, "PORT", *files], lambda port: None, path, workdir),
        } for path in BASELINE_PATHS}
    return out


def callgrind(argv, env, path, workdir):
    """User-space instructions per request on `path`: the difference of two
    callgrind runs that differ only in the number of requests."""
    totals = []
    for n in CALLGRIND_REQUESTS:
        log(f"6. callgrind: {os.path.basename(argv[0])} {path}, {n} requests")
        out, port = os.path.join(workdir, "callgrind.out"), free_port()
        proc = start(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                      *(str(port) if a == "PORT" else a for a in argv)], env(port))
        try:
            if not wait_200(port, path, deadline=60):
                raise SystemExit(f"bench: {argv[0]} under callgrind did not answer {path}")
            get_all(port, [path] * n)
        finally:
            stop(proc, 60)
        totals.append(int(re.search(r"^totals: (\d+)", Path(out).read_text(), re.M).group(1)))
    return (totals[1] - totals[0]) / (CALLGRIND_REQUESTS[1] - CALLGRIND_REQUESTS[0])


def wrk_script(dest, paths, sequence):
    """A wrk script that asks for `paths[n - 1]` for each n of `sequence`, in
    order and then again; each request is formatted once, in init."""
    Path(dest).write_text("local paths = {" + ",".join(f'"{p}"' for p in paths) + "}\n"
                          f'local order = "{" ".join(map(str, sequence))}"\n'
                          "local requests, seq, i = {}, {}, 0\n"
                          "function init(args)\n"
                          '  for k, p in ipairs(paths) do requests[k] = wrk.format("GET", p) end\n'
                          '  for n in order:gmatch("%d+") do seq[#seq + 1] = tonumber(n) end\n'
                          "end\n"
                          "function request() i = i % #seq + 1; return requests[seq[i]] end\n")
    return dest


def bench_many(binary, baseline, fake_binary, workdir):
    """Both mixes against the app at warn and at the default log level, and
    against bare hyper serving the app's MANY_REPOS answers, taking turns."""
    if "--repos" not in subprocess.run([fake_binary, "--help"], capture_output=True, text=True,
                                       check=False).stdout:
        return {"skipped": "Skipped: this fake-github has no `--repos` option."}
    # Each mix is a sequence of repository numbers, drawn once with a fixed
    # seed: every server is sent the same sequence.
    ranks = range(1, MANY_REPOS + 1)
    paths, rng = [f"/many/repo-{n}" for n in ranks], random.Random(MANY_SEED)
    mixes = {f"Zipf (s = {MANY_ZIPF_S})": rng.choices(ranks, [k ** -MANY_ZIPF_S for k in ranks],
                                                      k=MANY_SEQUENCE),
             "uniform": rng.choices(ranks, k=MANY_SEQUENCE)}
    scripts = {mix: wrk_script(os.path.join(workdir, f"many-{i}.lua"), paths, seq)
               for i, (mix, seq) in enumerate(mixes.items())}
    answers = os.path.join(workdir, "many-answers")
    os.makedirs(answers, exist_ok=True)
    fake = Fake(fake_binary, workdir, "many", ["--repos", str(MANY_REPOS)])
    order = ["app, warn", "baseline", "app, default log"]
    out, servers = {"mixes": {mix: {name: [] for name in order} for mix in mixes}}, {}
    try:
        # One client makes every cold lookup here: its lookup budget would stop it.
        for name, env in (("app, warn", QUIET_LOG), ("app, default log", {})):
            log(f"7. {name}: caching {MANY_REPOS} pages, one request each")
            servers[name] = App(binary, fake, {**env, "CONTRIBUTORS_CLIENT_LOOKUPS": "0"})
            get_all(servers[name].port, paths)
        for n, path in enumerate(paths):
            capture(servers["app, warn"].port, path, os.path.join(answers, str(n)))
        servers["baseline"] = baseline_server(baseline, [answers], probe=paths[0])
        before = fake.stats()
        out["lists"] = before["contributors_lists"]
        taking_turns(servers, order, TURN_ROUNDS, lambda name: [
            (out["mixes"][mix][name], "/", scripts[mix]) for mix in mixes], "7.")
        out["upstream_during_load"] = fake.stats()["requests"] - before["requests"]
    finally:
        for server in [*servers.values(), fake]:
            stop(server.proc)
    for mix, seq in mixes.items():
        counts = Counter(seq).most_common()
        out["mixes"][mix].update(top10=sum(c for _, c in counts[:10]) / len(seq),
                                 distinct=len(counts))
    return out


# ---------------------------------------------------------------- the report


def table(head, rows):
    return ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head),
            *("| " + " | ".join(str(c) for c in row) + " |" for row in rows), ""]


def ms(x):
    return "n/a" if x != x else f"{x:.2f} ms"


def mib(kb):
    return f"{kb / 1024:.1f} MiB"


def verdict(ok):
    return "PASS" if ok else "FAIL"


def load_row(x):
    """A load run's cells: req/s († if other work took CPU), latency, errors, CPU."""
    return (f"{x['rps']:,.0f}" + (" †" if x["rest"] > BUSY_REST else ""), ms(x["p50"]),
            ms(x["p99"]), x["errors"], f"{x['app_cpu']:.2f} ({x['app_sys']:.2f})",
            f"{x['app_us']:.1f} µs", f"{x['wrk_cpu']:.2f}")


LOAD_HEAD = ["req/s", "p50", "p99", "errors", "app CPU (sys)", "app CPU/request", "wrk CPU"]


def turns(runs, name, base="baseline"):
    """`name`'s req/s in each round; the median ratio to `base`'s run of the
    same round; that median with the lowest and highest, as text."""
    rs = sorted(a["rps"] / b["rps"] for a, b in zip(runs[name], runs[base]))
    return (", ".join(f"{x['rps'] / 1000:.1f}k" + ("†" if x["rest"] > BUSY_REST else "")
                      for x in runs[name]), rs[len(rs) // 2],
            f"{rs[len(rs) // 2]:.0%} ({rs[0]:.0%}–{rs[-1]:.0%})")


def goal_line(what, ratio, goal):
    return f"- **{verdict(ratio[1] >= goal)}**: {what} ≥ {goal:.0%} of bare hyper: {ratio[2]}"


def targets(results, first200, views):
    """(target, measured, PASS/FAIL) rows."""
    rows = []
    for r in results:
        f, x, n = first200[r["name"]], r["long"], r["name"]
        rows += [(f"cached page ≥ 20k req/s ({n})", f"{r['page']['rps']:,.0f} req/s (median of "
                  + ", ".join(f"{y['rps']:,.0f}" for y in r["page_runs"]) + ")",
                  verdict(r["page"]["rps"] >= TARGETS["rps"])),
                 (f"idle RSS ≤ 5 MB ({n})", mib(r["idle_rss"]),
                  verdict(r["idle_rss"] <= TARGETS["idle_rss_kb"])),
                 (f"RSS under 256 connections ≤ 32 MB ({n})", f"{mib(x['hwm'])} peak",
                  verdict(x["hwm"] <= TARGETS["load_rss_kb"])),
                 (f"exec to first 200 ≤ 20 ms ({n})", f"{ms(f['median'])} median",
                  verdict(f["median"] <= TARGETS["first200_ms"] and not f["failures"])),
                 (f"0 errors at 256 connections ({n})",
                  f"{x['errors']} ({x['non2xx']} non-2xx/3xx, {x['socket_errors']} socket)",
                  verdict(x["errors"] == 0))]
    r, f = results[0], first200[results[0]["name"]]  # issue 13's bounds, for the default build
    return rows + [
        (f"idle RSS ≤ 3 MiB, issue 13 ({r['name']})", mib(r["idle_rss"]),
         verdict(r["idle_rss"] <= 3 * 1024)),
        (f"exec to first 200 ≤ 2 ms, issue 13 ({r['name']})", f"{ms(f['median'])} median",
         verdict(f["median"] <= 2.0 and not f["failures"])),
        ("1 upstream request per repository per TTL",
         " / ".join(f"{v['contributors_lists']} lists for {len(VIEW_REPOS)} repositories "
                    f"({v['concurrency']} at once)" for v in views),
         verdict(all(v["contributors_lists"] == len(VIEW_REPOS) for v in views)))]


def recommend(a, b):
    """The allocator rule, stated in BENCHMARKS.md's preamble: (build, facts)."""
    def more(key):  # b's figure against a's, in per cent
        return (key(b) - key(a)) / key(a) * 100
    dt = more(lambda r: r["page"]["rps"])
    facts = (f"{b['name']} against {a['name']}: cached-page throughput {dt:+.0f} %, idle RSS "
             f"{more(lambda r: r['idle_rss']):+.0f} %, peak RSS under 256 connections "
             f"{more(lambda r: r['long']['hwm']):+.0f} %")
    fits = [r["idle_rss"] <= TARGETS["idle_rss_kb"] and r["long"]["hwm"] <= TARGETS["load_rss_kb"]
            for r in (a, b)]
    if fits[0] != fits[1]:
        w = a if fits[0] else b
        return w["name"], facts + f"; only {w['name']} meets both RSS targets"
    noise = max(5.0, *((max(xs) - min(xs)) / r["page"]["rps"] * 100
                       for r in (a, b) for xs in [[x["rps"] for x in r["page_runs"]]]))
    if abs(dt) <= noise:
        return a["name"], facts + f"; within the noise ({noise:.0f} %): the default stays"
    faster, slower = (b, a) if dt > 0 else (a, b)
    if (faster["long"]["hwm"] - slower["long"]["hwm"]) / slower["long"]["hwm"] * 100 > abs(dt):
        return slower["name"], facts + f"; {faster['name']} costs more memory than it gains"
    return faster["name"], facts + f"; {faster['name']} is faster for its memory"


def report_head(args, results, rows, background):
    def run(*cmd):
        p = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    cpu = re.search(r"^model name\s*: (.*)$", Path("/proc/cpuinfo").read_text(), re.M)
    loads = [r[k] for r in results for k in ("root", "page", "page_gzip", "avatar", "page_warn")]
    winner, facts = recommend(*results)
    return ["## The run", "", *(["**BENCH_QUICK=1: short test runs, not the benchmark.**", ""]
                                * QUICK),
            *table(["", ""], [
                ("date", args.started.strftime("%Y-%m-%d %H:%M:%S UTC")), ("nproc", os.cpu_count()),
                ("CPU", cpu.group(1) if cpu else "?"), ("kernel", os.uname().release),
                ("rustc", run("rustc", "-V")), ("wrk", run("wrk", "-v")),
                ("git revision", run("git", "describe", "--always", "--abbrev=12", "--dirty")),
                ("sources built", f"`{args.sources}`"),
                ("cores busy before the run", f"{background[0]:.2f} (steal {background[1]:.2f})"),
                ("section 1's runs disturbed (†)", sum(x["rest"] > BUSY_REST for x in loads)),
                ("duration", f"{args.elapsed:.0f} s measuring, {args.build_secs:.0f} s building")]),
            "## Targets", "", *table(["target", "measured", "result"],
                                     [(n, v, f"**{st}**") for n, v, st in rows]),
            f"**Recommendation: {winner}** ({facts}).", ""]


def report_1_to_5(results, first200, views, weight, wall):
    return ["## 1. Throughput, latency and memory", "",
            f"`wrk -t{WRK_THREADS} -c{WRK_CONNS} -d{WRK_SECS}s --timeout {WRK_TIMEOUT} --latency "
            f"URL`, every answer cached by a warm-up request; the cached page {PAGE_ROUNDS} times "
            "per build, the builds taking turns (the median run shown).", "",
            *table(["build", "URL", *LOAD_HEAD, "rest"],
                   [(r["name"], label, *load_row(r[key]), f"{r[key]['rest']:.2f}") for r in results
                    for key, label in (("root", "`/`"), ("page", f"`{PAGE}`"),
                                       ("page_gzip", "the page, gzip"), ("avatar", f"`{AVATAR}`"),
                                       ("page_warn", "the page, `CONTRIBUTORS_LOG=warn`"))]),
            f"{WRK_LONG_CONNS} connections for {WRK_LONG_SECS} s on the cached page, a fresh "
            "process per build:", "",
            *table(["build", "req/s", "p50", "p99", "non-2xx/3xx", "socket errors",
                    "peak RSS (VmHWM)", "threads"],
                   [(r["name"], load_row(x)[0], ms(x["p50"]), ms(x["p99"]), x["non2xx"],
                     x["socket_detail"], mib(x["hwm"]), x["threads"])
                    for r in results for x in [r["long"]]]),
            *table(["build", "binary", "idle VmRSS", "of it transparent huge pages", "threads"],
                   [(r["name"], f"{r['size']:,} bytes", mib(r["idle_rss"]), mib(r["idle_huge"]),
                     r["idle_threads"]) for r in results]),
            f"Upstream requests during all that load, beyond the warm-ups: "
            f"{results[0]['upstream_during_load']}.", "",
            "## 2. Exec to the first 200 on /healthz", "",
            f"{FIRST200_RUNS} runs per build, polled every {FIRST200_POLL * 1e6:.0f} µs.", "",
            *table(["build", "median", "min", "max", "runs without a 200"],
                   [(n, ms(f["median"]), ms(f["min"]), ms(f["max"]), f["failures"])
                    for n, f in first200.items()]),
            "## 3. Upstream requests and TLS handshakes per 1,000 page views", "",
            f"A fresh app ({results[0]['name']}) per pass, {VIEWS} views round-robin over "
            + ", ".join(f"`{p}`" for p in VIEW_REPOS) + ", all answered 200.", "",
            *table(["clients", "lists fetched", "API requests", "avatars", "TLS handshakes"],
                   [(v["concurrency"], v["contributors_lists"],
                     v["contributors_requests"], v["avatar_requests"], v["handshakes"])
                    for v in views]),
            "## 4. Bytes on the wire", "",
            *table(["URL", "identity", f"`{GZIP[0]}: {GZIP[1]}`", "sent as"], weight),
            "## 5. The wall and the JSON API", "",
            *table(["contributors", "`wall.svg`", "gzipped", "`contributors.json`", "gzipped"],
                   wall["sizes"]),
            *table(["cached answer", *LOAD_HEAD],
                   [(f"`{u}`", *load_row(x)) for u, x in wall["load"].items()])]


def report_6(b):
    rows, goals = [], []
    for path, runs in b["paths"].items():
        quiet, logged = turns(runs, "app"), turns(runs, "app, default log")
        rows.append((f"`{path}`", quiet[0], logged[0], turns(runs, "baseline", "app")[0],
                     f"**{quiet[2]}**", logged[2]))
        goals.append(goal_line(f"`{path}`, the app at warn", quiet, BASELINE_GOAL))
    ins = b.get("instructions", {})
    cpu = {p: [statistics.median(x["app_us"] for x in runs[n]) for n in ("app", "baseline")]
           for p, runs in b["paths"].items()}
    return ["## 6. One page, against bare hyper", "",
            "Answers captured from the app: " + "; ".join(
                f"`{p}` {n:,} bytes, {k} headers" for p, (n, k) in b["captured"].items())
            + f". `wrk -t{TURN_WRK_THREADS} -c{WRK_CONNS} -d{TURN_SECS}s`, {TURN_ROUNDS} rounds.",
            "",
            *table(["path", "app (warn) req/s", "app, default log req/s", "baseline req/s",
                    "app / baseline", "default log / baseline"], rows), *goals, "",
            "Cost per request: CPU time (median of the rounds) and user-space instructions "
            "(callgrind" + ("" if ins else "; valgrind not installed") + "):", "",
            *table(["path", "app CPU", "baseline CPU", "app instructions", "baseline instructions"],
                   [(f"`{p}`", f"{c[0]:.1f} µs", f"{c[1]:.1f} µs",
                     *(f"{ins[p][n]:,.0f}" if p in ins else "" for n in ("app", "baseline")))
                    for p, c in cpu.items()])]


def report_7(m):
    if "skipped" in m:
        return ["## 7. Many repositories, against bare hyper", "", m["skipped"], ""]
    rows, goals = [], []
    for mix, runs in m["mixes"].items():
        ratios = [turns(runs, n) for n in MANY_GOALS]
        rows.append((mix, f"{runs['top10']:.0%}", runs["distinct"], *(r[0] for r in ratios),
                     turns(runs, "baseline", "app, warn")[0], *(f"**{r[2]}**" for r in ratios)))
        goals += [goal_line(f"{mix}, {n}", r, g) for (n, g), r in zip(MANY_GOALS.items(), ratios)]
    return ["## 7. Many repositories, against bare hyper", "",
            f"{MANY_REPOS} repositories cached ({m['lists']} lists fetched to warm both apps up; "
            f"{m['upstream_during_load']} upstream requests during the load). "
            f"`wrk -t{TURN_WRK_THREADS} -c{WRK_CONNS} -d{TURN_SECS}s` and a script that sends a "
            f"sequence of {MANY_SEQUENCE:,} paths (seed {MANY_SEED}); {TURN_ROUNDS} rounds.", "",
            *table(["mix", "top 10 share", "repositories asked for", "app (warn) req/s",
                    "app, default log req/s", "baseline req/s", "warn / baseline",
                    "default log / baseline"], rows), *goals, ""]


def report_8_and_builds(args, binary):
    size = os.path.getsize(binary)
    lines = ["## 10. Binary size", "", f"- **{verdict(size <= SIZE_TARGET)}**: the shipped binary, "
             f"{size:,} bytes, ≤ {SIZE_TARGET:,} bytes.", ""]
    for name in (args.sizes_options, args.bloat):
        lines += [Path(name).read_text().rstrip(), ""] if name and os.path.exists(name) else []
    return lines + ["## The builds", "", "```sh", *args.commands, "```", ""]


def write(path, lines, preamble=None):
    """Writes `lines`, below the hand-written part of `preamble` if given."""
    head = ""
    if preamble:
        old = Path(preamble).read_text() if os.path.exists(preamble) else ""
        head = (old.split(MARKER)[0] if MARKER in old else "") + MARKER + "\n\n"
    Path(path).write_text(head + "\n".join(lines).rstrip() + "\n")


def quiet_machine():
    """Waits (bounded) for the machine to be quiet: other people's work would
    take CPU from the runs. Returns the cores busy, and stolen, last seen."""
    deadline, hz = time.monotonic() + QUIET_WAIT, os.sysconf("SC_CLK_TCK") * 2
    while True:
        a, _, b = read_proc_stat(), time.sleep(2), read_proc_stat()
        busy, steal = (b["busy"] - a["busy"]) / hz, (b["steal"] - a["steal"]) / hz
        log(f"machine load before the run: {busy:.2f} cores busy")
        if busy <= BUSY_REST or time.monotonic() >= deadline:
            return busy, steal
        time.sleep(3)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", action="append", required=True, metavar="NAME=BINARY",
                   help="twice: the default build first, then the candidate")
    for flag in ("--fake", "--baseline", "--out", "--workdir"):  # fake-github's, bench/baseline's
        p.add_argument(flag, required=True)
    for flag, what in (("--preamble", "the file whose hand-written part heads --out (--out)"),
                       ("--sources", "the git revision of the sources built"),
                       ("--sizes-options", "bench/sizes-options.md"),
                       ("--bloat", "ci/bloat.sh's output")):
        p.add_argument(flag, default="", help=what)
    p.add_argument("--command", action="append", default=[], dest="commands",
                   help="a build command, shown in the report as run")
    p.add_argument("--build-secs", type=float, default=0.0)
    p.add_argument("--only", choices=["one-page", "many", "floods", "cold"],
                   help="run only section 6, 7, 8 or 9, with the first --variant; to --out")
    args = p.parse_args()
    variants = [tuple(v.split("=", 1)) for v in args.variant]
    app, t0, args.started = variants[0][1], time.monotonic(), datetime.now(timezone.utc)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if not args.only and len(variants) != 2:
        p.error("give two --variant NAME=BINARY")
    try:
        background = (0, 0) if args.only else quiet_machine()
        fake = Fake(args.fake, args.workdir, "main")
        if args.only == "many":
            lines = report_7(bench_many(app, args.baseline, args.fake, args.workdir))
        elif args.only == "floods":
            lines = floods.run(sys.modules[__name__], app, args)
        elif args.only == "cold":
            lines = cold.section(sys.modules[__name__], app, args.fake, args.workdir)
        elif args.only:
            lines = report_6(bench_baseline(app, args.baseline, fake, args.workdir))
        else:
            results = bench_throughput(variants, fake)
            first200 = {name: bench_first200(binary, fake) for name, binary in variants}
            views = [views_pass(app, fake, c) for c in (1, VIEWS_CONCURRENCY)]
            weight, wall = bench_weight_and_wall(app, fake)
            one, many = (bench_baseline(app, args.baseline, fake, args.workdir),
                         bench_many(app, args.baseline, args.fake, args.workdir))
            flood = floods.run(sys.modules[__name__], app, args)
            cold_lines = cold.section(sys.modules[__name__], app, args.fake, args.workdir)
            rows = targets(results, first200, views)
            args.elapsed = time.monotonic() - t0
            lines = (report_head(args, results, rows, background)
                     + report_1_to_5(results, first200, views, weight, wall)
                     + report_6(one) + report_7(many) + flood + cold_lines
                     + report_8_and_builds(args, app))
            print("\n".join(f"{st}  {name}: {value}" for name, value, st in rows))
    finally:
        for proc in list(children):
            stop(proc, 5)
    write(args.out, lines, None if args.only else args.preamble or args.out)
    print("\n".join(x for x in lines if x.startswith("- **")))
    print(f"wrote {args.out} ({time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
