"""The self-contained HTML report, rendered in headless Chromium: the table and the chart are drawn.

Chromium comes from the Debian packages chromium and chromium-driver (.ci/run installs them); this
test installs nothing and is skipped, saying why, where no browser is installed.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import GITHUB_TOKEN, REPO, run_sprawl

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)


def _project(root):
    (root / ".git").mkdir(parents=True)
    (root / "app.py").write_text(f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n')
    (root / "deploy").mkdir()
    (root / "deploy" / "release.env").write_text(
        "AWS_ACCESS_KEY_ID=AKIAQX3MPLEK3YRELBOT\nAWS_SECRET_ACCESS_KEY=Zk3vR8qLm2Xw9Tb4Yp7Hs1Jc6Nd0Ff5Ga2Qe8Ur\n")
    (root / "logs").mkdir()
    (root / "logs" / "agent.log").write_text(f"2026-11-20 request with token {GITHUB_TOKEN}\n")
    return root


@pytest.fixture
def report(tmp_path):
    proj = _project(tmp_path / "payments-api")
    out = tmp_path / "report.html"
    r = run_sprawl("scan", str(proj), "--inventory", str(REPO / "fixtures" / "inventory" / "inventory.yaml"),
                   "-f", "html", "-o", str(out))
    assert r.returncode == 1, r.stderr
    return out


def test_the_report_is_self_contained(report):
    html = report.read_text()
    # No fetch of anything: no external script, style, image or font.
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html
    assert GITHUB_TOKEN not in html  # secrets stay redacted
    assert "agent:release-bot (team:payments)" in html and "Owners and the credentials they must rotate" in html
    assert "Sprawl per credential" in html


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium chromium-driver)")
def test_headless_chromium_draws_the_table_and_the_chart(report):
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                          "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
                         capture_output=True, timeout=120, text=True).stdout
    assert 'id="findings"' in dom, "Chromium rendered nothing"
    table = dom.split('id="findings"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td data-sort=\"(\d+)\">", table)
    # The GitHub token and the AWS secret key; the AWS key id is an identifier, evidence for its secret,
    # never ranked as a credential of its own (issue 18).
    assert len(rows) == 2 and [int(x) for x in rows] == sorted((int(x) for x in rows), reverse=True)
    assert 'data-sortable="yes"' in dom  # the sorting script ran
    svg = dom.split('id="distribution"', 1)[1].split("</svg>", 1)[0]
    assert 'data-drawn="10"' in svg  # the drawing script ran: ten buckets
    bars = re.findall(r'<rect[^>]*class="bar"[^>]*data-count="(\d+)"', svg)
    assert len(bars) == 10 and sum(map(int, bars)) == 2
    assert any(int(b) > 0 for b in bars) and re.search(r'<rect[^>]*height="[1-9]', svg)


CHROMEDRIVER = shutil.which("chromedriver")


def _webdriver(port: int, method: str, path: str, body: dict | None = None) -> dict:
    import json
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read() or b"{}")


@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None,
                    reason="no Chromium and ChromeDriver (Debian: apt-get install chromium chromium-driver)")
def test_typing_into_the_filter_leaves_the_matching_rows(report):
    """A real browser, driven over the WebDriver protocol: type into the filter, count the rows left."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = subprocess.Popen([CHROMEDRIVER, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                _webdriver(port, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        options = {"binary": CHROMIUM, "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                                "--disable-background-networking", "--no-first-run"]}
        session = _webdriver(port, "POST", "/session", {"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": options}}})["value"]["sessionId"]
        base = f"/session/{session}"
        _webdriver(port, "POST", f"{base}/url", {"url": report.as_uri()})
        count = "return Array.prototype.filter.call(document.querySelectorAll('#findings tbody tr')," \
                " function(r){ return !r.hidden; }).length;"
        before = _webdriver(port, "POST", f"{base}/execute/sync", {"script": count, "args": []})["value"]
        field = _webdriver(port, "POST", f"{base}/element", {"using": "css selector", "value": "#filter"})["value"]
        element = next(iter(field.values()))
        _webdriver(port, "POST", f"{base}/element/{element}/value", {"text": "github"})
        after = _webdriver(port, "POST", f"{base}/execute/sync", {"script": count, "args": []})["value"]
        shown = _webdriver(port, "POST", f"{base}/execute/sync",
                           {"script": "return document.getElementById('shown').textContent;", "args": []})["value"]
        _webdriver(port, "DELETE", base)
    finally:
        driver.terminate()
        driver.wait(timeout=30)
    assert before == 2 and after == 1 and shown == "1 of 2 shown"
