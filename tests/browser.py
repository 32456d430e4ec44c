"""A real headless Chromium driven over the WebDriver protocol (chromedriver on a loopback port), for the
HTML reports' tests. Chromium comes from the Debian packages chromium and chromium-driver (.ci/run installs
them); the tests that need it are skipped, saying why, where it is not installed."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
MISSING = "no Chromium and ChromeDriver (Debian: apt-get install chromium chromium-driver)"


class Page:
    def __init__(self, port: int, session: str):
        self.port, self.base = port, f"/session/{session}"

    def call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{self.base}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or b"{}").get("value")

    def run(self, script: str, *args):
        return self.call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def click(self, css: str) -> None:
        element = self.call("POST", "/element", {"using": "css selector", "value": css})
        self.call("POST", f"/element/{next(iter(element.values()))}/click", {})


@contextmanager
def browser(url: str, width: int = 1280, height: int = 900):
    """A page at `url` in a window `width` pixels wide; chromedriver and Chromium end with the block."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    page = None
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        options = {"binary": CHROMIUM, "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                "--disable-background-networking", "--no-first-run",
                                                f"--window-size={width},{height}"]}
        page = Page(port, "")
        page.base = ""
        session = page.call("POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})["sessionId"]
        page.base = f"/session/{session}"
        page.call("POST", "/window/rect", {"width": width, "height": height})
        page.call("POST", "/url", {"url": url})
        yield page
    finally:
        if page is not None and page.base:
            try:
                page.call("DELETE", "")
            except OSError:
                pass
        driver.terminate()
        driver.wait(timeout=30)
