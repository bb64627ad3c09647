#!/usr/bin/env python3
"""Seen in a real browser: the contributors page in headless Chromium.

An HTTP 200 says the server answered; it does not say a person sees a page.
This test starts the fake GitHub and the app on loopback, loads a
contributors page in headless Chromium (Debian's chromium and
chromium-driver, driven through Selenium), and asserts from the DOM that:

- every avatar image loaded and decoded (naturalWidth > 0), which proves the
  proxy, its content type and the page's Content-Security-Policy agree;
- the list shows the expected people;
- the page came compressed (fewer bytes encoded than decoded);
- the browser asked for the icon the page links (`/favicon.svg`, an SVG,
  cached and validated) and never for a `/favicon.ico` that is not there;
- avatars beside their login are decorative (`alt=""`), and the heading
  looks like the link it is (underlined);
- at phone width (390 px) nothing overflows sideways, the heading breaks
  only at the "/" (never inside a name), and the Embed box's snippets show
  whole;
- axe-core finds no WCAG 2.1 A or AA violation on `/`, a contributors
  page, a 404 and a 400 page, in the light and the dark scheme;
- the contributor wall, embedded as `<img>` in a page from another origin
  (a tiny page served by Python on loopback, as a README viewer would),
  shows each avatar: the screenshot's pixel at the centre of every avatar
  cell has that avatar's colour, and the cell's corner stays background
  (the avatars are round).

It saves screenshots (1280 and 390 px wide, light and dark) under
target/screenshots/ to look at.

Usage: checks/browser_test.py CONTRIBUTORS_BINARY FAKE_GITHUB_BINARY
"""

import base64
import functools
import http.server
import importlib.util
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"not ok - {url} did not answer 200 within {seconds} s")


def png_chunks(data):
    """The (type, data) chunks of a PNG file."""
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        yield kind, data[pos + 8:pos + 8 + length]
        pos += 12 + length


def png_pixels(data):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium's
    screenshots are) into (width, height, rows of (r, g, b))."""
    chunks = list(png_chunks(data))
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    if depth != 8 or colour not in (2, 6) or interlace:
        raise SystemExit(f"not ok - unexpected screenshot format: depth {depth}, type {colour}")
    raw = zlib.decompress(b"".join(d for k, d in chunks if k == b"IDAT"))
    step = 4 if colour == 6 else 3
    stride = width * step
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b = prev[i]
            c = prev[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, step)])
        prev = line
    return width, height, rows


def check_wall(driver, base, check, out_dir, tmp):
    """The wall as a README shows it: an <img> on a page of another origin.
    Each avatar cell's centre must have that avatar's colour (the fake's
    avatars are one colour each, read from the PNG's palette), and each
    cell's corner must be the page's white (the clip makes them round)."""
    columns, size, gap = 6, 48, 6
    wall = f"{base}/kelseyhightower/contributors/wall.svg?columns={columns}&size={size}"
    with open(os.path.join(tmp, "embed.html"), "w") as f:
        f.write('<!doctype html><body style="margin:0;background:#fff">'
                f'<img id="wall" src="{wall}" alt="wall"></body>')
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=tmp)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        driver.set_window_size(1200, 900)
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/embed.html")
        state = {}
        for _ in range(100):
            state = driver.execute_script(
                "const i = document.getElementById('wall');"
                "return {complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}")
            if state["complete"]:
                break
            time.sleep(0.1)
        check(state.get("w") == columns * (size + gap) - gap,
              f"the wall decodes as an image, {state.get('w')}x{state.get('h')} px")
        element = driver.find_element("id", "wall")
        shot = element.screenshot_as_png
        with open(os.path.join(out_dir, "wall-embedded.png"), "wb") as f:
            f.write(shot)
        width, height, rows = png_pixels(shot)
        ids = [1_123_322, 583_231, 1_000_101, 480_938, 2_000_202, 2_000_303,
               2_000_404, 2_000_505, 2_000_606, 2_000_707, 2_000_808, 2_000_909]
        matched, round_corners = 0, 0
        for i, user_id in enumerate(ids):
            with urllib.request.urlopen(f"{base}/avatars/{user_id}?s=80", timeout=10) as r:
                plte = dict(png_chunks(r.read()))[b"PLTE"]
            want = tuple(plte[:3])
            x0, y0 = (i % columns) * (size + gap), (i // columns) * (size + gap)
            centre = rows[y0 + size // 2][x0 + size // 2]
            corner = rows[y0 + 1][x0 + 1]
            if all(abs(a - b) <= 6 for a, b in zip(centre, want)):
                matched += 1
            else:
                print(f"# avatar {i} ({user_id}): centre {centre}, expected {want}")
            if all(c >= 250 for c in corner):
                round_corners += 1
        check(matched == len(ids), f"{matched} of {len(ids)} avatar cells show their avatar's colour")
        check(round_corners == len(ids), f"{round_corners} of {len(ids)} avatar corners are background (round)")
    finally:
        server.shutdown()
        server.server_close()


# The accessibility audit: axe-core's WCAG 2.0 and 2.1 rules, levels A and
# AA, on each kind of page the app serves, with the text that proves the
# page is the one meant.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AUDITED = [
    ("/", "Who built it?"),
    ("/kelseyhightower/contributors", "contributions"),
    ("/no/such/page", "Page not found"),
    ("/not_valid/x", "Not a repository name"),
]


def axe_source():
    """axe-core's script, as the PyPI package axe-playwright-python bundles
    it (checks/browser-test.sh installs it; the package is found, not
    imported: its Playwright half is not installed)."""
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec is None:
        raise SystemExit("not ok - axe-playwright-python is not installed (see checks/browser-test.sh)")
    with open(os.path.join(spec.submodule_search_locations[0], "axe.min.js")) as f:
        return f.read()


def audit(driver, base, check, out_dir):
    """Runs axe on every page of AUDITED in the light and the dark scheme
    (prefers-color-scheme emulated through the DevTools protocol), printing
    each violation: its rule, impact and the nodes it found. The pages'
    Content-Security-Policy forbids scripts, axe's too: it is lifted, through
    the DevTools protocol, for the audit only. axe is handed to the browser
    once, to run in every page it opens until the audit ends."""
    driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
    axe = driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": axe_source()})
    try:
        for scheme in ("light", "dark"):
            driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]})
            for path, text in AUDITED:
                driver.get(base + path)
                dark = driver.execute_script(
                    "return matchMedia('(prefers-color-scheme: dark)').matches")
                if text not in driver.page_source or dark != (scheme == "dark"):
                    check(False, f"{path} in the {scheme} scheme is not the page meant")
                    continue
                result = driver.execute_async_script(
                    "const done = arguments[arguments.length - 1];"
                    "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
                    ".then(r => done({passes: r.passes.length, violations: r.violations.map(v =>"
                    " ({id: v.id, impact: v.impact, help: v.help,"
                    " nodes: v.nodes.map(n => n.target.join(' ')),"
                    " why: v.nodes.flatMap(n => n.any.concat(n.all, n.none)).map(c => c.message)[0]}))}),"
                    " e => done({error: String(e)}))", AXE_TAGS)
                if "error" in result:
                    check(False, f"axe ran on {path} ({scheme}): {result['error']}")
                    continue
                for v in result["violations"]:
                    print(f"# {path} ({scheme}): {v['id']} ({v['impact']}): {v['help']}; "
                          f"nodes: {', '.join(v['nodes'])}; {v['why']}")
                check(not result["violations"] and result["passes"] > 0,
                      f"axe: {len(result['violations'])} WCAG 2.1 A/AA violations on {path} "
                      f"({scheme}), {result['passes']} rules passed")
                if scheme == "dark" and path == AUDITED[1][0]:
                    save_full_page(driver, os.path.join(out_dir, "contributors-desktop-dark.png"))
    finally:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", axe)
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": False})


def save_full_page(driver, path):
    """A screenshot of the whole page, below the fold too (the DevTools
    protocol's, as Selenium's covers the window only)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": clip})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def requests_counted(base):
    """`/metrics`' request counter, as {(route, status): count}."""
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        text = r.read().decode()
    pattern = r'^contributors_http_requests_total\{route="(\w+)",status="(\w+)"\} (\d+)$'
    return {(m[1], m[2]): int(m[3]) for m in re.finditer(pattern, text, re.M)}


def check_icon(base, check):
    """The icon the pages link: an SVG, kept by caches and validated like
    the stylesheet, and asked for by the browser instead of /favicon.ico
    (the page just loaded; the browser fetches its icon after the load)."""
    with urllib.request.urlopen(base + "/favicon.svg", timeout=10) as r:
        kind, cache, tag = (r.headers.get(h) for h in ("Content-Type", "Cache-Control", "ETag"))
        status = r.status
    with urllib.request.urlopen(base + "/style.css", timeout=10) as r:
        css_cache = r.headers.get("Cache-Control")
    check(status == 200 and kind == "image/svg+xml",
          f"/favicon.svg answers {status} {kind}")
    check(tag is not None and cache == css_cache and cache.startswith("public, max-age="),
          f"/favicon.svg is cached like the stylesheet: Cache-Control {cache!r}, ETag {tag}")
    request = urllib.request.Request(base + "/favicon.svg", headers={"If-None-Match": tag or ""})
    try:
        urllib.request.urlopen(request, timeout=10)
        revalidated = 200
    except urllib.error.HTTPError as e:
        revalidated = e.code
    check(revalidated == 304, f"/favicon.svg with its ETag answers {revalidated}")
    counts = {}
    for _ in range(50):
        counts = requests_counted(base)
        if counts.get(("favicon", "200"), 0) > 1:
            break
        time.sleep(0.1)
    # One fetch is ours, above; the browser's is the other.
    browser = counts.get(("favicon", "200"), 0) - 1
    missing = counts.get(("not_found", "404"), 0)
    check(browser >= 1 and missing == 0,
          f"the browser fetched the linked icon ({browser}) and asked for nothing missing ({missing} 404s)")


def check_phone_layout(driver, check):
    """At phone width: the heading, too long for one line, breaks only at
    the "/" (each name stays on one line), and the Embed box's snippets are
    not cut off."""
    words = driver.execute_script("""
        const h1 = document.querySelector('h1');
        const walker = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
        const words = [];
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          for (const m of n.data.matchAll(/[^\\/]+/g)) {
            const r = document.createRange();
            r.setStart(n, m.index);
            r.setEnd(n, m.index + m[0].length);
            const lines = new Set(Array.from(r.getClientRects(), x => Math.round(x.top)));
            words.push([m[0], lines.size]);
          }
        }
        const lineHeight = parseFloat(getComputedStyle(h1).lineHeight);
        return {words: words, lines: Math.round(h1.getBoundingClientRect().height / lineHeight)};""")
    check(words["lines"] >= 2 and len(words["words"]) == 2 and all(n == 1 for _, n in words["words"]),
          f"the heading breaks only at the '/': each name on one line {words}")
    snippets = driver.execute_script(
        "return Array.from(document.querySelectorAll('.embed pre, .embed textarea'), e =>"
        " ({tag: e.tagName, cut: e.scrollHeight > e.clientHeight + 1 || e.scrollWidth > e.clientWidth + 1}))")
    check(len(snippets) >= 2 and not any(s["cut"] for s in snippets),
          f"the Embed box's snippets show whole: {snippets}")


def main():
    app_bin, fake_bin = sys.argv[1], sys.argv[2]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out_dir = os.path.join("target", "screenshots")
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="contributors-browser-")
    ca = os.path.join(tmp, "ca.pem")
    procs = []
    passed = failed = 0

    def check(ok, what):
        nonlocal passed, failed
        print(("ok - " if ok else "not ok - ") + what, flush=True)
        if ok:
            passed += 1
        else:
            failed += 1

    try:
        fake = subprocess.Popen(
            [fake_bin, "--listen", "127.0.0.1:0", "--ca-out", ca, "--exit-after", "300"],
            stdout=subprocess.PIPE, text=True)
        procs.append(fake)
        line = fake.stdout.readline()
        m = re.search(r"https://127\.0\.0\.1:(\d+)", line)
        if not m:
            raise SystemExit(f"not ok - fake-github did not start: {line!r}")
        fake_url = m.group(0)

        port = free_port()
        env = dict(os.environ, PORT=str(port), CONTRIBUTORS_BIND="127.0.0.1",
                   GITHUB_API_URL=fake_url, CONTRIBUTORS_AVATAR_URL=fake_url,
                   CONTRIBUTORS_EXTRA_CA_FILE=ca)
        app = subprocess.Popen([app_bin], env=env, stdout=subprocess.DEVNULL)
        procs.append(app)
        base = f"http://127.0.0.1:{port}"
        wait_http(base + "/healthz")

        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        driver.set_page_load_timeout(30)
        try:
            driver.get(base + "/kelseyhightower/contributors")
            # Lazy images below the fold load only when scrolled to: scroll,
            # then wait (bounded) until every image is complete.
            driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
            images = []
            for _ in range(100):
                images = driver.execute_script(
                    "return Array.from(document.querySelectorAll('ol.people img')).map(i => "
                    "({src: i.getAttribute('src'), complete: i.complete, w: i.naturalWidth}))")
                if images and all(i["complete"] for i in images):
                    break
                time.sleep(0.1)
            check(len(images) >= 10, f"the page shows {len(images)} avatars")
            broken = [i["src"] for i in images if i["w"] <= 0]
            check(not broken, f"every avatar decoded (naturalWidth > 0); broken: {broken}")
            check(all(i["src"].startswith("/avatars/") for i in images),
                  "every image comes from our own /avatars/ proxy")
            rows = driver.execute_script("return document.querySelectorAll('ol.people li').length")
            check(rows == len(images), f"{rows} rows, one avatar each")
            title = driver.title
            check("kelseyhightower/contributors" in title, f"title is {title!r}")
            # Sent gzipped: fewer bytes came over the wire than the page holds.
            nav = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "return {encoded: n.encodedBodySize, decoded: n.decodedBodySize}")
            check(0 < nav["encoded"] < nav["decoded"],
                  f"the page loaded with Content-Encoding gzip: {nav}")
            alts = driver.execute_script(
                "return Array.from(document.querySelectorAll('ol.people img'), i => i.getAttribute('alt'))")
            check(alts and all(a == "" for a in alts),
                  f"avatars beside their login are decorative (alt=\"\"): {set(alts)}")
            underline = driver.execute_script(
                "return getComputedStyle(document.querySelector('h1 a')).textDecorationLine")
            check("underline" in underline, f"the heading's link is underlined ({underline!r})")
            check_icon(base, check)
            save_full_page(driver, os.path.join(out_dir, "contributors-desktop.png"))

            driver.set_window_size(390, 844)
            driver.get(base + "/kelseyhightower/contributors")
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            check(overflow <= 0, f"no sideways scrolling at phone width (overflow {overflow} px)")
            narrow = driver.execute_script(
                "const r = document.querySelector('ol.people li').getBoundingClientRect();"
                "return r.right <= window.innerWidth")
            check(narrow, "list rows fit the phone screen")
            check_phone_layout(driver, check)
            save_full_page(driver, os.path.join(out_dir, "contributors-phone.png"))

            driver.get(base + "/not_valid/x")
            check("Not a repository name" in driver.page_source, "a bad name shows the 400 page")

            driver.set_window_size(1280, 900)
            audit(driver, base, check, out_dir)
            check_wall(driver, base, check, out_dir, tmp)
        finally:
            driver.quit()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
