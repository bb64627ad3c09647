"""bench/floods.py: `make bench`'s floods section (issue 24).

Each scenario of issue 24 rerun as a client would, against the release
binary and fake-github on loopback, each on a fresh app process (so that its
VmHWM, from /proc/PID/status, is that flood's peak RSS): what the client
does, the bound the issue names, what was measured, PASS or FAIL.

The helpers (Fake, App, fetch, start, stop, ...) are bench.py's: bench.py
passes itself in as `b`, so the processes started here are on its list of
children and end with its cleanup too. Standard library only; every loop is
bounded by a count or a deadline; all traffic goes to 127.0.0.1.
"""

import re
import select
import signal
import socket
import threading
import time
from collections import Counter
from pathlib import Path

MANIFEST = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes" / "deployment.yaml"
WALL_REPO, WALL_MAX = "/rust-lang/rust", 250  # the fake's 250-person repository
AVATAR_BYTES = 24 * 1024  # every fake avatar padded to this (fake-github --avatar-bytes)
WALL_SIZES = (32, 48, 64, 96)  # the wall's sizes; 32, 64 and 96 fetch three avatar sizes
FLOOD_HOLD = 12.0  # s the non-readers hold on: past the app's 10 s write timeout
PROBE_EVERY, PROBE_BOUND = 0.1, 1.0  # s between /healthz probes, and their bound
HEAD_CONNS, HEAD_BYTES, HEAD_SECS, HEAD_BOUND_MIB = 250, 380 * 1024, 4.0, 48  # < 5 s head deadline
IDLE_CAP, NEW_CLIENTS, ROOM_BOUND = 50, 5, 1.0
JSON_MAXES = range(201, 241)
UNSEEN_IDS = range(990_000_001, 990_000_301)
SILENT_TIMEOUT = 3  # s, CONTRIBUTORS_UPSTREAM_TIMEOUT while the avatar host is silent
SILENT_SLACK, REPEAT_BOUND = 1.0, 1.0
FAR_RESET, RETRY_AFTER_MAX = 99_999_999_999, 3600
PROXY_LOOKUPS = 3
SIGTERM_CONNS, SIGTERM_PATH = 200, "/torvalds/linux?max=500"  # a large page, cached
PLACEHOLDER = b"SUhEUgAAAAEAAAAB"  # base64 of a PNG's IHDR of 1 by 1: a wall's placeholder disc
MANY_CLIENTS = {"CONTRIBUTORS_CLIENT_CONNECTIONS": "0"}  # one address stands for many clients


def manifest_bounds():
    """The Deployment's memory limit (MiB) and CONTRIBUTORS_MAX_CONNECTIONS."""
    text = MANIFEST.read_text()
    limit = re.search(r"limits:\s*\n(?:\s+cpu:.*\n)?\s+memory: (\d+)Mi", text)
    conns = re.search(r"CONTRIBUTORS_MAX_CONNECTIONS\s*\n\s*value: \"(\d+)\"", text)
    if not (limit and conns):
        raise SystemExit(f"bench: no memory limit or max connections in {MANIFEST}")
    return int(limit.group(1)), int(conns.group(1))


def status_of(head):
    m = re.match(rb"HTTP/1\.1 (\d{3})", head)
    return int(m.group(1)) if m else "no answer"


def read_answer(sock, deadline):
    """One HTTP/1.1 answer from `sock`: (status, lower-cased head); the body
    is read as its content-length says. (None, b"") if none by the deadline."""
    def more(data, enough):  # data and what came until `enough(data)` or the deadline
        while not enough(data) and time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        return data

    head, sep, body = more(b"", lambda d: b"\r\n\r\n" in d).partition(b"\r\n\r\n")
    if not sep:
        return None, b""
    length = re.search(rb"\r\ncontent-length: (\d+)", head.lower())
    want = int(length.group(1)) if length else 0
    more(body, lambda d: len(d) >= want)
    return status_of(head), head.lower()


def closed_by_app(sock):
    """Whether the app has closed `sock` (end of stream or reset waiting)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    try:
        return not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return True


def first_bytes(sock):
    """The status a non-reader was sent, read only now; or why there is none."""
    sock.setblocking(False)
    try:
        data = sock.recv(64)
    except BlockingIOError:
        return "nothing yet"
    except OSError as e:
        return type(e).__name__
    return status_of(data) if data else "closed, nothing sent"


def drain(sock):
    """What is left to read on a socket the app has closed, without waiting."""
    data = b""
    for _ in range(64):  # a short answer: a few reads at most
        try:
            chunk = sock.recv(65536, socket.MSG_DONTWAIT)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def longest_refusal(probes):
    """Seconds from the first probe of the longest run of probes that got no
    200 to the end of its last one (probes are PROBE_EVERY apart)."""
    longest, run = 0.0, 0.0
    for took, status in probes:
        run = run + took + PROBE_EVERY if status != 200 else 0.0
        longest = max(longest, run)
    return longest


def request(path):
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


def counts(statuses):
    return ", ".join(f"{n}× {s}" for s, n in sorted(Counter(statuses).items(), key=str))


def session(b, binary, fake_binary, workdir, name, fake_args=(), env=None):
    """A fake with `fake_args` and a fresh app on it: (fake, app), to be ended by `end`."""
    fake = b.Fake(fake_binary, workdir, f"floods-{name}", list(fake_args))
    try:
        return fake, b.App(binary, fake, {**b.QUIET_LOG, **(env or {})})
    except BaseException:
        b.stop(fake.proc)
        raise


def end(b, fake, app, socks=()):
    for s in socks:
        s.close()
    for proc in (app.proc, fake.proc):
        b.stop(proc)


def wall_variant(i):
    """The i-th new variant of the wall: its own columns, size and names, and
    the name's letter case changing every other time."""
    name = WALL_REPO if i % 2 else WALL_REPO.title()
    size, names = WALL_SIZES[(i // 50) % 4], "&names=1" if (i // 200) % 2 else ""
    return f"{name}/wall.svg?max={WALL_MAX}&columns={1 + i % 50}&size={size}{names}"


def probe_healthz(b, port, stop_at, out):
    """/healthz on a new connection every PROBE_EVERY s until `stop_at`, as
    a liveness probe: (seconds, status) each."""
    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        try:
            status = b.fetch(port, "/healthz", timeout=5)[0]
        except OSError as e:
            status = type(e).__name__
        out.append((time.monotonic() - t0, status))
        time.sleep(PROBE_EVERY)


def flood_walls(b, binary, fake_binary, workdir, limit_mib, max_conns, clients):
    """1. `clients` clients that never read, each asking a new variant of a
    250-avatar wall whose list and avatars are in memory, at a cap of `max_conns`."""
    env = {**MANY_CLIENTS, "CONTRIBUTORS_MAX_CONNECTIONS": str(max_conns),
           "CONTRIBUTORS_CLIENT_LOOKUPS": "0"}  # the warm-up fetches 250 avatars three times
    fake, app = session(b, binary, fake_binary, workdir, "walls",
                        ["--avatar-bytes", str(AVATAR_BYTES)], env)
    socks, probes = [], []
    try:
        for size in (32, 64, 96):  # the list, and every avatar at the three sizes fetched
            status, body, _ = b.fetch(app.port, f"{WALL_REPO}/wall.svg?max={WALL_MAX}&size={size}",
                                      timeout=60)
            if status != 200 or body.count(b"<image ") != WALL_MAX:
                raise SystemExit(f"bench: the warm-up wall answered {status}")
        warm_kb, before = app.status()["VmHWM"], fake.stats()
        prober = threading.Thread(target=probe_healthz, daemon=True,
                                  args=(b, app.port, time.monotonic() + FLOOD_HOLD, probes))
        prober.start()
        for i in range(clients):
            s = socket.socket()
            socks.append(s)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting
            s.settimeout(5)
            s.connect(("127.0.0.1", app.port))  # then never read
            s.sendall(request(wall_variant(i)))
        prober.join(FLOOD_HOLD + 10)
        hwm = app.status()["VmHWM"]
        answers = [first_bytes(s) for s in socks]  # only now: what each had been sent
        upstream = fake.stats()["requests"] - before["requests"]
    finally:
        end(b, fake, app, socks)
    worst = max((t for t, _ in probes), default=float("nan"))
    return {"hwm": hwm, "warm": warm_kb, "worst": worst, "probes": counts(s for _, s in probes),
            "refused": longest_refusal(probes),
            "answers": counts(answers), "upstream": upstream, "conns": clients,
            "ok": hwm <= limit_mib * 1024 and worst <= PROBE_BOUND
            and all(s == 200 for _, s in probes)}


def flood_heads(b, binary, fake_binary, workdir, max_conns):
    """2. HEAD_CONNS connections each sending an unfinished HEAD_BYTES head."""
    fake, app = session(b, binary, fake_binary, workdir, "heads", (),
                        {**MANY_CLIENTS, "CONTRIBUTORS_MAX_CONNECTIONS": str(max_conns)})
    head = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Flood: " + b"a" * HEAD_BYTES  # never ends
    socks, sent, got, ended = [], {}, {}, {}
    try:
        for _ in range(HEAD_CONNS):
            s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
            s.setblocking(False)
            socks.append(s)
            sent[s], got[s] = 0, b""
        deadline, open_ = time.monotonic() + HEAD_SECS, set(socks)
        while open_ and time.monotonic() < deadline:
            readable, writable, _ = select.select(list(open_), [s for s in open_
                                                  if sent[s] < len(head)], [], 0.1)
            for s in readable:
                try:
                    chunk = s.recv(4096)
                except OSError as e:
                    chunk, ended[s] = b"", type(e).__name__
                got[s] += chunk
                if not chunk:
                    open_.discard(s)
            for s in writable:
                if s in open_:
                    try:
                        sent[s] += s.send(head[sent[s]:sent[s] + 65536])
                    except OSError as e:  # the app has closed: what did it say first?
                        open_.discard(s)
                        ended[s], got[s] = type(e).__name__, got[s] + drain(s)
        hwm = app.status()["VmHWM"]
    finally:
        end(b, fake, app, socks)
    answers = [status_of(got[s]) if got[s] else ended.get(s, "open") for s in socks]
    return {"hwm": hwm, "answers": counts(answers), "sent": sum(sent.values()) / len(socks),
            "ok": hwm <= HEAD_BOUND_MIB * 1024 and all(a == 431 for a in answers)}


def idle_cap(b, binary, fake_binary, workdir):
    """3. IDLE_CAP idle keep-alive connections fill a cap of IDLE_CAP; then
    NEW_CLIENTS new clients, one after another, each want a 200 (and keep
    their connection, so each needs a slot of its own)."""
    fake, app = session(b, binary, fake_binary, workdir, "idle", (),
                        {"CONTRIBUTORS_MAX_CONNECTIONS": str(IDLE_CAP)})
    socks, times = [], []
    try:
        for _ in range(IDLE_CAP):
            s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
            socks.append(s)
            s.sendall(request("/healthz"))
            if read_answer(s, time.monotonic() + 5)[0] != 200:
                raise SystemExit("bench: an idle connection's request was not answered 200")
        time.sleep(0.2)  # every one of them idle now
        statuses, idle = [], list(socks)
        for _ in range(NEW_CLIENTS):
            t0 = time.monotonic()
            try:
                s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
                socks.append(s)
                s.sendall(request("/"))
                statuses.append(read_answer(s, t0 + 5)[0] or "no answer")
            except OSError as e:
                statuses.append(type(e).__name__)
            times.append(time.monotonic() - t0)
        closed = sum(closed_by_app(s) for s in idle)
        hwm = app.status()["VmHWM"]
    finally:
        end(b, fake, app, socks)
    return {"hwm": hwm, "worst": max(times), "answers": counts(statuses), "closed": closed,
            "ok": max(times) <= ROOM_BOUND and all(s == 200 for s in statuses)}


def json_sizes(b, binary, fake_binary, workdir):
    """4. contributors.json?max=201 ... 240 of the 250-person repository,
    one client, the default budget."""
    fake, app = session(b, binary, fake_binary, workdir, "sizes")
    try:
        before = fake.stats()
        statuses = [b.fetch(app.port, f"{WALL_REPO}/contributors.json?max={n}")[0]
                    for n in JSON_MAXES]
        after, hwm = fake.stats(), app.status()["VmHWM"]
    finally:
        end(b, fake, app)
    calls = after["contributors_requests"] - before["contributors_requests"]
    lists = after["contributors_lists"] - before["contributors_lists"]
    pages = -(-WALL_MAX // 100)
    return {"hwm": hwm, "calls": calls, "lists": lists, "pages": pages, "answers": counts(statuses),
            "ok": lists <= 1 and calls <= pages and all(s == 200 for s in statuses)}


def unseen_avatars(b, binary, fake_binary, workdir):
    """5. /avatars/{id} for ids no list has shown."""
    fake, app = session(b, binary, fake_binary, workdir, "unseen")
    try:
        before = fake.stats()
        statuses = [b.fetch(app.port, f"/avatars/{i}?s=80")[0] for i in UNSEEN_IDS]
        calls, hwm = fake.stats()["requests"] - before["requests"], app.status()["VmHWM"]
    finally:
        end(b, fake, app)
    return {"hwm": hwm, "calls": calls, "answers": counts(statuses),
            "ok": calls == 0 and all(s == 404 for s in statuses)}


def silent_avatars(b, binary, fake_binary, workdir):
    """6. A wall of 250 while the avatar host accepts and never answers;
    then the same wall again, and another layout of it."""
    fake, app = session(b, binary, fake_binary, workdir, "silent", ["--avatars-silent"],
                        {"CONTRIBUTORS_UPSTREAM_TIMEOUT": str(SILENT_TIMEOUT),
                         "CONTRIBUTORS_CLIENT_LOOKUPS": "0"})  # all 250 waited for
    runs = []
    try:
        for path in (f"{WALL_REPO}/wall.svg?max={WALL_MAX}",) * 2 + (
                f"{WALL_REPO}/wall.svg?max={WALL_MAX}&columns=5",):
            t0 = time.monotonic()
            status, body, _ = b.fetch(app.port, path, timeout=SILENT_TIMEOUT * 10)
            runs.append((time.monotonic() - t0, status, body.count(PLACEHOLDER)))
        hwm = app.status()["VmHWM"]
    finally:
        end(b, fake, app)
    first, repeats = runs[0][0], max(t for t, _, _ in runs[1:])
    return {"hwm": hwm, "runs": runs, "first": first, "repeats": repeats,
            "ok": first <= SILENT_TIMEOUT + SILENT_SLACK and repeats <= REPEAT_BOUND
            and all(s == 200 for _, s, _ in runs)}


def far_reset(b, binary, fake_binary, workdir):
    """7. Every API call answered 403 with x-ratelimit-reset far ahead."""
    fake, app = session(b, binary, fake_binary, workdir, "reset",
                        ["--rate-limit-reset", str(FAR_RESET)])
    seen = []
    try:
        for path in (WALL_REPO, f"{WALL_REPO}/contributors.json", f"{WALL_REPO}/wall.svg",
                     "/tokio-rs/tokio", WALL_REPO):
            status, _, headers = b.fetch(app.port, path)
            seen.append((status, headers.get("retry-after")))
        hwm = app.status()["VmHWM"]
    finally:
        end(b, fake, app)
    afters = [int(r) if r and r.isdigit() else None for _, r in seen]
    return {"hwm": hwm, "answers": counts(s for s, _ in seen),
            "retry_after": ", ".join(str(a) for a in afters),
            "ok": all(s >= 400 for s, _ in seen)
            and all(a is not None and 0 < a <= RETRY_AFTER_MAX for a in afters)}


def forwarded_ports(b, binary, fake_binary, workdir):
    """8. Behind a trusted proxy (127.0.0.1), clients named with a port in
    X-Forwarded-For, each looking up repositories nobody has asked for."""
    fake, app = session(b, binary, fake_binary, workdir, "xff", (),
                        {"CONTRIBUTORS_TRUSTED_PROXIES": "127.0.0.1/32",
                         "CONTRIBUTORS_CLIENT_LOOKUPS": str(PROXY_LOOKUPS)})
    a, a2, v6 = "198.51.100.9:5555", "198.51.100.9:6666", "[2001:db8::1]:443"
    plan = ([(a, f"a-{i}") for i in range(PROXY_LOOKUPS + 1)]  # the last one over the budget
            + [(a2, "a-other-port"), (v6, "v6-0"), (None, "proxy-itself")])
    try:
        got = [(who, b.fetch(app.port, f"/floods/{repo}",
                             {"X-Forwarded-For": who} if who else None)[0]) for who, repo in plan]
        hwm = app.status()["VmHWM"]
    finally:
        end(b, fake, app)
    refused = [s == 429 for _, s in got]
    expected = [False] * PROXY_LOOKUPS + [True, True, False, False]
    return {"hwm": hwm, "answers": "; ".join(f"{w or 'the proxy'} {s}" for w, s in got),
            "ok": refused == expected}


def sigterm_keepalive(b, binary, fake_binary, workdir):
    """9. SIGTERM just after SIGTERM_CONNS keep-alive clients sent a request."""
    fake, app = session(b, binary, fake_binary, workdir, "sigterm", (), MANY_CLIENTS)
    socks, answers = [], []
    try:
        b.get_all(app.port, [SIGTERM_PATH])
        for _ in range(SIGTERM_CONNS):
            s = socket.create_connection(("127.0.0.1", app.port), timeout=5)
            socks.append(s)
            s.sendall(request(SIGTERM_PATH))
            if read_answer(s, time.monotonic() + 5)[0] != 200:
                raise SystemExit("bench: a keep-alive request was not answered 200")
        hwm = app.status()["VmHWM"]
        for s in socks:
            s.sendall(request(SIGTERM_PATH))
        app.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for s in socks:
            status, head = read_answer(s, deadline)
            answers.append(f"{status or 'no answer'}" + (", close" if b"connection: close"
                                                          in head else ""))
    finally:
        end(b, fake, app, socks)
    return {"hwm": hwm, "answers": counts(answers),
            "ok": sum(a.startswith("200") for a in answers) == SIGTERM_CONNS}


def bench_floods(b, binary, fake_binary, workdir):
    """Every scenario, in issue 24's order, each with its own fake and app."""
    limit_mib, max_conns = manifest_bounds()
    out = {"limit": limit_mib, "max_conns": max_conns}
    for key, run in (("walls", lambda: flood_walls(b, binary, fake_binary, workdir, limit_mib,
                                                   max_conns, max_conns)),
                     ("walls_free", lambda: flood_walls(b, binary, fake_binary, workdir, limit_mib,
                                                        max_conns, max_conns - 1)),
                     ("heads", lambda: flood_heads(b, binary, fake_binary, workdir, max_conns)),
                     ("idle", lambda: idle_cap(b, binary, fake_binary, workdir)),
                     ("sizes", lambda: json_sizes(b, binary, fake_binary, workdir)),
                     ("unseen", lambda: unseen_avatars(b, binary, fake_binary, workdir)),
                     ("silent", lambda: silent_avatars(b, binary, fake_binary, workdir)),
                     ("reset", lambda: far_reset(b, binary, fake_binary, workdir)),
                     ("xff", lambda: forwarded_ports(b, binary, fake_binary, workdir)),
                     ("sigterm", lambda: sigterm_keepalive(b, binary, fake_binary, workdir))):
        b.log(f"floods: {key}")
        out[key] = run()
        b.log(f"floods: {key}: {'PASS' if out[key]['ok'] else 'FAIL'}")
    return out


def run(b, binary, args):
    """The section for bench.py (`b`): measured, then as report lines."""
    return report(bench_floods(b, binary, args.fake, args.workdir), b.mib, b.verdict)


def report(f, mib, verdict):
    """The section's lines; `mib` and `verdict` are bench.py's formatters."""
    h, i, z, u, s, r, x, t = (f[k] for k in ("heads", "idle", "sizes", "unseen", "silent",
                                             "reset", "xff", "sigterm"))
    rows = [
        (n, f"{w['conns']} clients that never read (the manifest's cap of {f['max_conns']}"
            + (")" if w["conns"] == f["max_conns"] else ", less one: a slot for the probe)")
            + ", each asking a new variant (`columns`, `size`, `names`, letter case) of a "
              f"{WALL_MAX}-avatar wall whose list and {AVATAR_BYTES // 1024} KiB avatars are in "
              f"memory; /healthz probed every {PROBE_EVERY} s for {FLOOD_HOLD:.0f} s",
         f"peak RSS ≤ the manifest's {f['limit']} MiB; /healthz 200 within {PROBE_BOUND:.0f} s",
         f"peak RSS {mib(w['hwm'])} (after the warm-up {mib(w['warm'])}); /healthz worst "
         f"{w['worst']:.3f} s ({w['probes']}; longest without a 200: {w['refused']:.1f} s); "
         f"what each wall client had been sent: {w['answers']}; "
         f"{w['upstream']} upstream requests", verdict(w["ok"]))
        for n, w in (("1", f["walls"]), ("1′", f["walls_free"]))] + [
        ("2", f"{HEAD_CONNS} connections each sending an unfinished {HEAD_BYTES // 1024} KB "
              f"request head for {HEAD_SECS:.0f} s",
         f"peak RSS ≤ {HEAD_BOUND_MIB} MiB; each gets 431",
         f"peak RSS {mib(h['hwm'])}; answers: {h['answers']}; on average "
         f"{h['sent'] / 1024:.0f} KiB written per connection (the kernel's buffers included) "
         "before the app closed it", verdict(h["ok"])),
        ("3", f"{IDLE_CAP} idle keep-alive connections fill a cap of {IDLE_CAP}; "
              f"{NEW_CLIENTS} new clients, one after another",
         f"each new client a 200 within {ROOM_BOUND:.0f} s",
         f"worst {i['worst']:.3f} s ({i['answers']}); idle ones closed by the app: "
         f"{i['closed']}; "
         f"peak RSS {mib(i['hwm'])}", verdict(i["ok"])),
        ("4", f"`contributors.json?max=201` … `max=240` ({len(JSON_MAXES)} sizes) of "
              f"`{WALL_REPO}` ({WALL_MAX} people), one client, default budget",
         f"one list: ≤ {z['pages']} upstream calls (its pages of 100)",
         f"{z['calls']} upstream calls, {z['lists']} list(s); answers: {z['answers']}; "
         f"peak RSS {mib(z['hwm'])}", verdict(z["ok"])),
        ("5", f"`/avatars/{{id}}` for {len(UNSEEN_IDS)} ids no list has shown",
         "0 upstream calls; 404s",
         f"{u['calls']} upstream calls; answers: {u['answers']}; peak RSS {mib(u['hwm'])}",
         verdict(u["ok"])),
        ("6", f"a {WALL_MAX}-avatar wall while the avatar host accepts and never answers "
              f"(upstream timeout {SILENT_TIMEOUT} s); again; another layout",
         f"first ≤ {SILENT_TIMEOUT + SILENT_SLACK:.0f} s; repeats ≤ {REPEAT_BOUND:.0f} s",
         "; ".join(f"{t:.2f} s, {st}, {ph} placeholders" for t, st, ph in s["runs"])
         + f"; peak RSS {mib(s['hwm'])}", verdict(s["ok"])),
        ("7", f"GitHub answers 403 with `X-RateLimit-Reset: {FAR_RESET}`; a page, the JSON, "
              "a wall, another repository, the page again",
         f"refused, each with `Retry-After` ≤ {RETRY_AFTER_MAX}",
         f"answers: {r['answers']}; Retry-After: {r['retry_after']}; peak RSS {mib(r['hwm'])}",
         verdict(r["ok"])),
        ("8", f"behind a trusted proxy (budget {PROXY_LOOKUPS} lookups), new repositories for "
              "`X-Forwarded-For` clients with ports, then another port, IPv6, the proxy itself",
         f"only the first client's lookup {PROXY_LOOKUPS + 1} and its other port get 429",
         f"{x['answers']}; peak RSS {mib(x['hwm'])}", verdict(x["ok"])),
        ("9", f"SIGTERM just after {SIGTERM_CONNS} keep-alive clients each sent a second "
              f"request (`{SIGTERM_PATH}`, cached)",
         "every one answered", f"{t['answers']} (`close`: `Connection: close`, answered in the "
         f"shutdown); peak RSS {mib(t['hwm'])}", verdict(t["ok"])),
    ]
    return ["## 8. Floods", "",
            f"Each flood on a fresh app (musl's allocator) and fake GitHub, with the manifest's "
            f"`CONTRIBUTORS_MAX_CONNECTIONS={f['max_conns']}` where it says so; peak RSS is "
            "VmHWM. How to read it: the hand-written part above.", "",
            "| # | what the client does | bound | measured | result |",
            "| --- | --- | --- | --- | --- |",
            *(f"| {n} | {what} | {bound} | {got} | **{v}** |" for n, what, bound, got, v
              in rows),
            "", *(f"- **{v}**: flood {n}, {bound}" for n, _, bound, _, v in rows), ""]
