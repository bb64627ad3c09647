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
- at phone width (375 px) nothing overflows sideways;
- the contributor wall, embedded as `<img>` in a page from another origin
  (a tiny page served by Python on loopback, as a README viewer would),
  shows each avatar: the screenshot's pixel at the centre of every avatar
  cell has that avatar's colour, and the cell's corner stays background
  (the avatars are round).

It saves screenshots under target/screenshots/ to look at.

Usage: checks/browser_test.py CONTRIBUTORS_BINARY FAKE_GITHUB_BINARY
"""

import functools
import http.server
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
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
                    "--disable-dev-shm-usage", "--window-size=1200,900"):
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
            driver.save_screenshot(os.path.join(out_dir, "contributors-desktop.png"))

            driver.set_window_size(375, 812)
            driver.get(base + "/kelseyhightower/contributors")
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            check(overflow <= 0, f"no sideways scrolling at phone width (overflow {overflow} px)")
            narrow = driver.execute_script(
                "const r = document.querySelector('ol.people li').getBoundingClientRect();"
                "return r.right <= window.innerWidth")
            check(narrow, "list rows fit the phone screen")
            driver.save_screenshot(os.path.join(out_dir, "contributors-phone.png"))

            driver.get(base + "/not_valid/x")
            check("Not a repository name" in driver.page_source, "a bad name shows the 400 page")

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
