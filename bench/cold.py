"""bench/cold.py: section 9 of `make bench`, cold views (issue 24).

How long a view takes when nothing is cached, with GitHub far away: a fresh
app per run (empty caches, no pooled connection) against a fake GitHub that
answers every request 100 ms late (`fake-github --latency-ms 100`). A page
of 500 contributors needs its list's five pages of 100; a wall of 100 needs
a page of 100 and then 100 avatars. The goals count round trips of 100 ms:
at most 3 for the page (0.35 s) and 4 for the wall (0.45 s).

That fake delays answers only, so a new connection costs nothing extra, as
on loopback. On a real network it costs the TCP and the TLS handshake, two
more round trips before its first request: a second fake also starts each
handshake 200 ms late (`--connect-ms 200`), and the report shows both. The
goals are judged on the first, as the issue sets them; the second says what
a really cold process pays.

Run by bench.py (`--only cold`, or as part of the whole run), which
hands itself in as `b`, as it does to floods.py: its helpers (the fake and
app processes, fetching, the report's formats) are used here, and the
processes started through it are ended by it. Standard library only;
every request has a deadline; traffic stays on 127.0.0.1.
"""

import statistics
import time

LATENCY_MS, CONNECT_MS = 100, 200
RUNS = 7  # fresh apps per view and model; the median and the worst count
VIEWS = [  # (what, path, goal in seconds or None)
    ("page, max=500", "/torvalds/linux?max=500", 0.35),
    ("page, max=250", "/rust-lang/rust?max=250", None),
    ("wall of 100", "/torvalds/linux/wall.svg?max=100", 0.45),
]
MODELS = [  # (name, fake-github's arguments)
    (f"+{LATENCY_MS} ms per answer", ["--latency-ms", str(LATENCY_MS)]),
    (f"and +{CONNECT_MS} ms per new connection",
     ["--latency-ms", str(LATENCY_MS), "--connect-ms", str(CONNECT_MS)]),
]
COUNTED = ("contributors_requests", "avatar_requests", "handshakes")
PLACEHOLDER = b"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"  # the 1x1 disc


def one_run(b, binary, fake, path):
    """One cold view on a fresh app: seconds, upstream counts, what it shows."""
    app = b.App(binary, fake)
    try:
        rss_before, before = app.status()["VmRSS"], fake.stats()
        started = time.monotonic()
        status, body, _ = b.fetch(app.port, path, timeout=30)
        seconds = time.monotonic() - started
        if status != 200:
            raise SystemExit(f"bench: cold GET {path} answered {status}")
        after = fake.stats()
        return {"secs": seconds, **{k: after[k] - before[k] for k in COUNTED},
                "placeholders": body.count(PLACEHOLDER),
                "rss_kb": app.status()["VmRSS"] - rss_before}
    finally:
        b.stop(app.proc)


def section(b, binary, fake_binary, workdir):
    """Measures and reports: the section's lines."""
    return report(b, bench(b, binary, fake_binary, workdir))


def bench(b, binary, fake_binary, workdir):
    runs = 2 if b.QUICK else RUNS
    results = {}
    for model, args in MODELS:
        fake = b.Fake(fake_binary, workdir, "cold", args)
        try:
            for what, path, _ in VIEWS:
                b.log(f"cold views: {what}, {model}, {runs} runs")
                results[(model, what)] = [one_run(b, binary, fake, path) for _ in range(runs)]
            results[(model, "peak")] = fake.stats()["avatars_peak"]
        finally:
            b.stop(fake.proc)
    return {"runs": runs, "results": results}


def in_s(x):
    return f"{x:.2f} s"


def report(b, r):
    rows, goals = [], []
    for model, _ in MODELS:
        for what, _, goal in VIEWS:
            runs = r["results"][(model, what)]
            secs = [x["secs"] for x in runs]
            median, worst = statistics.median(secs), max(secs)
            counts = [f"{statistics.median(x[k] for x in runs):g}" for k in COUNTED]
            judged = goal is not None and model == MODELS[0][0]
            rows.append((what, model, in_s(median), in_s(worst),
                         f"{median * 1000 / LATENCY_MS:.1f}", *counts,
                         max(x["placeholders"] for x in runs),
                         b.mib(statistics.median(x["rss_kb"] for x in runs)),
                         f"≤ {in_s(goal)}: **{b.verdict(median <= goal)}**" if judged else "—"))
            if judged:
                goals.append(f"- **{b.verdict(median <= goal)}**: a cold {what}, median "
                             f"{in_s(median)} (worst {in_s(worst)}), ≤ {in_s(goal)} "
                             f"({round(goal * 1000 / LATENCY_MS - 0.5)} round trips).")
    peaks = ", ".join(f"{r['results'][(m, 'peak')]} ({m})" for m, _ in MODELS)
    return ["## 9. Cold views", "",
            f"A fresh app per run, {r['runs']} runs per view and latency; fake-github "
            f"`--latency-ms {LATENCY_MS}`, and then also `--connect-ms {CONNECT_MS}`. "
            f"Upstream requests and new connections are the medians per view, counted by "
            f"the fake; RSS growth is the app's VmRSS after the view less before it.", "",
            *b.table(["view", "added latency", "median", "worst", "round trips",
                      "list pages", "avatars", "new connections", "placeholders",
                      "RSS growth", "goal"], rows), *goals,
            f"- Most avatar requests at once: {peaks}.", ""]
