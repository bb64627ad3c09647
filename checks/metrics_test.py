"""checks/metrics_test.py APP_URL — the checks behind checks/metrics-test.sh.

Scrapes APP_URL/metrics, makes a known set of requests, scrapes again, and
prints one `ok - ...` or `not ok - ...` line per check. The app must be
fresh (nothing asked of it yet), backed by the fake GitHub, with a budget of
three GitHub lookups a minute per client (CONTRIBUTORS_CLIENT_LOOKUPS=3) and
room for one entry in each cache (CONTRIBUTORS_CACHE_ENTRIES=1).
"""

import re
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

APP = sys.argv[1]
REPO = "/kelseyhightower/contributors"


def get(path):
    """(status, headers, body) of GET APP+path; errors are answers too."""
    try:
        with urllib.request.urlopen(APP + path, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def scrape():
    """The families as the official parser reads them, and the samples by
    (name, sorted labels)."""
    status, headers, body = get("/metrics")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    samples = {}
    for family in families.values():
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return status, headers, families, samples


def check(description, passed):
    print(("ok - " if passed else "not ok - ") + description, flush=True)


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


status, headers, families, before = scrape()
check("/metrics answers 200", status == 200)
check(
    "the content type is text/plain; version=0.0.4",
    headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
)
check("/metrics is not stored: Cache-Control: no-store", headers.get("cache-control") == "no-store")

# The requests, with the status each must get.
status, _, page = get(REPO)
check(f"a page: 200 (got {status})", status == 200)
check("the same page again: 200", get(REPO)[0] == 200)
avatar = re.search(rb'/avatars/[0-9]+\?s=[0-9]+', page)
avatar = avatar.group().decode() if avatar else "/avatars/1?s=80"
check("an avatar: 200", get(avatar)[0] == 200)
check("the same avatar again: 200", get(avatar)[0] == 200)
check("another page, which takes the first one's place: 200", get("/octo/empty")[0] == 200)
check("a missing repository: 404", get("/no-such-owner/no-such-repo")[0] == 404)
check("a bad name: 400", get("/-bad-/name")[0] == 400)
check("an unknown path: 404", get("/a/b/c/d")[0] == 404)
# Three lookups reached GitHub (two pages, the missing one): a fourth is one too many.
check("a lookup over the budget: 429", get("/kelseyhightower/other")[0] == 429)

status, _, families, after = scrape()


def moved(description, name, expected, **labels):
    delta = value(after, name, **labels) - value(before, name, **labels)
    check(f"{description}: +{expected:g} (got +{delta:g})", delta == expected)


# Every family the issue asks for, with HELP and the right TYPE.
for name, kind in [
    ("contributors_http_requests", "counter"),
    ("contributors_http_request_duration_seconds", "histogram"),
    ("contributors_upstream_requests", "counter"),
    ("contributors_cache_entries", "gauge"),
    ("contributors_cache_bytes", "gauge"),
    ("contributors_cache_hits", "counter"),
    ("contributors_cache_misses", "counter"),
    ("contributors_cache_evictions", "counter"),
    ("contributors_github_rate_limit_remaining", "gauge"),
    ("contributors_github_rate_limit_reset_seconds", "gauge"),
    ("contributors_connections_open", "gauge"),
    ("contributors_connections_turned_away", "counter"),
    ("contributors_clients_over_budget", "counter"),
    ("contributors_seen_ids", "gauge"),
    ("contributors_avatar_failures", "gauge"),
    ("contributors_wall_bytes", "gauge"),
    ("contributors_build_info", "gauge"),
]:
    family = families.get(name)
    check(
        f"{name} is a {kind} with help",
        family is not None and family.type == kind and family.documentation != "",
    )

# Requests, by route name and status.
requests = "contributors_http_requests_total"
moved("contributors pages answered 200", requests, 3, route="contributors", status="200")
moved("contributors pages answered 404", requests, 1, route="contributors", status="404")
moved("contributors pages answered 400", requests, 1, route="contributors", status="400")
moved("contributors pages answered 429", requests, 1, route="contributors", status="429")
moved("avatars answered 200", requests, 2, route="avatar", status="200")
moved("unknown paths answered 404", requests, 1, route="not_found", status="404")
moved("scrapes answered 200 (the first one)", requests, 1, route="metrics", status="200")
labels = {dict(k[1]).get("route") for k in after if k[0] == requests}
check(
    f"routes are names from the table, never paths ({sorted(labels)})",
    not any("/" in label for label in labels),
)

# The histogram: every request counted once, buckets cumulative.
duration = "contributors_http_request_duration_seconds"
moved("contributors page durations counted", f"{duration}_count", 6, route="contributors")
buckets = sorted(
    (float(dict(k[1])["le"]), v)
    for k, v in after.items()
    if k[0] == f"{duration}_bucket" and dict(k[1])["route"] == "contributors"
)
check(
    "the buckets are cumulative and +Inf holds them all",
    all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
    and buckets[-1] == (float("inf"), value(after, f"{duration}_count", route="contributors")),
)
check("the durations add up to more than 0 s", value(after, f"{duration}_sum", route="contributors") > 0)

# Upstream requests: two lists, one missing repository, one avatar.
upstream = "contributors_upstream_requests_total"
moved("API answers ok", upstream, 2, host="api", outcome="ok")
moved("API answers not_found", upstream, 1, host="api", outcome="not_found")
moved("avatar answers ok", upstream, 1, host="avatars", outcome="ok")
total = sum(v for k, v in after.items() if k[0] == upstream) - sum(
    v for k, v in before.items() if k[0] == upstream
)
check(f"no other upstream request: 4 in all (got {total:g})", total == 4)

# Caches: the second page and the second avatar come from memory.
moved("list cache hits (the page again)", "contributors_cache_hits_total", 1, cache="lists")
moved(
    "list cache misses (two pages, the missing one, the one over budget)",
    "contributors_cache_misses_total",
    4,
    cache="lists",
)
moved("page cache hits", "contributors_cache_hits_total", 1, cache="pages")
moved("page cache misses", "contributors_cache_misses_total", 2, cache="pages")
moved("avatar cache hits", "contributors_cache_hits_total", 1, cache="avatars")
moved("avatar cache misses", "contributors_cache_misses_total", 1, cache="avatars")
for cache in ("lists", "pages", "avatars"):
    check(
        f"the {cache} cache holds 1 entry, of some bytes",
        value(after, "contributors_cache_entries", cache=cache) == 1
        and value(after, "contributors_cache_bytes", cache=cache) > 0,
    )
    # One entry each: the second page's list and page took the first's place.
    evicted = 0 if cache == "avatars" else 1
    moved(f"{cache} evictions", "contributors_cache_evictions_total", evicted, cache=cache)

# The rest.
remaining = value(after, "contributors_github_rate_limit_remaining")
reset = value(after, "contributors_github_rate_limit_reset_seconds")
check(f"GitHub's quota is known ({remaining:g} left)", 0 < remaining <= 5000)
check("its reset is in the future", reset > time.time())
moved("clients over budget", "contributors_clients_over_budget_total", 1)
moved("connections turned away", "contributors_connections_turned_away_total", 0)
check("at least one connection is open: the scrape's own", value(after, "contributors_connections_open") >= 1)
build = [k for k in after if k[0] == "contributors_build_info"]
check(
    f"build info is 1, with version and target labels ({build})",
    len(build) == 1
    and after[build[0]] == 1
    and {"version", "target"} <= set(dict(build[0][1])),
)
