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
- at phone width (375 px) nothing overflows sideways.

It saves screenshots under target/screenshots/ to look at.

Usage: ci/browser_test.py CONTRIBUTORS_BINARY FAKE_GITHUB_BINARY
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


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
                    "return Array.from(document.images).map(i => "
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
