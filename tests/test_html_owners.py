"""The HTML report shows each finding's owner with the owner's contacts (from a fresh analysis and from the
datastore), and its columns sort by clicking their headers in a real headless Chromium (issue 24)."""
from __future__ import annotations

import re

import pytest

from tests.browser import CHROMEDRIVER, CHROMIUM, MISSING, browser
from tests.conftest import REPO, run_sprawl
from tests.repogen import github_token

INVENTORY = REPO / "fixtures" / "inventory" / "inventory.yaml"


def _project(root):
    (root / ".git").mkdir(parents=True)
    (root / "deploy").mkdir()
    (root / "deploy" / "release.env").write_text(f"GITHUB_TOKEN={github_token('owners-release')}\n")
    for i in range(4):
        (root / f"tool{i}.py").write_text(f'TOKEN = "{github_token(f"owners-{i}")}"\n' * (i + 1))
    return root


def _cell(html: str, row_text: str) -> str:
    row = next(r for r in re.findall(r"<tr>.*?</tr>", html, re.S) if row_text in r)
    return re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[5]  # the Owner column


def test_owner_cell_and_owner_block_carry_the_contacts(tmp_path):
    proj = _project(tmp_path / "payments-api")
    out = tmp_path / "report.html"
    res = run_sprawl("scan", str(proj), "--inventory", str(INVENTORY), "-f", "html", "-o", str(out))
    assert res.returncode == 1, res.stderr
    html = out.read_text()
    owner = _cell(html, "release.env")
    assert "agent:release-bot" in owner and '<a href="mailto:payments-oncall@acme.example"' in owner
    assert "#payments-alerts" in owner and 'href="#payments-alerts"' not in owner  # a channel name stays text
    block = html.split("Owners and the credentials they must rotate", 1)[1]
    assert re.search(r"<h3>team:payments .*?mailto:payments-oncall@acme\.example.*?</h3>", block, re.S)


def test_contacts_come_back_from_the_datastore(tmp_path):
    proj = _project(tmp_path / "payments-api")
    db = tmp_path / "store.db"
    res = run_sprawl("scan", str(proj), "--inventory", str(INVENTORY), "--db", str(db))
    assert res.returncode == 1, res.stderr
    html = run_sprawl("findings", "--db", str(db), "-f", "html").stdout.decode()
    assert '<a href="mailto:payments-oncall@acme.example"' in _cell(html, "release.env")


@pytest.mark.skipif(CHROMIUM is None or CHROMEDRIVER is None, reason=MISSING)
def test_clicking_a_header_sorts_the_column_and_again_reverses_it(tmp_path):
    proj = _project(tmp_path / "payments-api")
    out = tmp_path / "report.html"
    assert run_sprawl("scan", str(proj), "--inventory", str(INVENTORY), "-f", "html", "-o", str(out)).returncode == 1
    column = ("return Array.prototype.map.call(document.querySelectorAll('#findings tbody tr'),"
              " function(r){ return r.cells[arguments[0]].textContent; });")
    script = column.replace("arguments[0]", "%d")
    with browser(out.as_uri()) as page:
        first = page.run(script % 7)
        page.click("#findings thead th:nth-child(8)")  # Locations
        ascending = page.run(script % 7)
        page.click("#findings thead th:nth-child(8)")
        descending = page.run(script % 7)
        page.click("#findings thead th:nth-child(3)")  # Rule: text order
        rules = page.run(script % 2)
        header = page.run("return document.querySelector('#findings thead th:nth-child(3)').className;")
    counts = [int(x.split()[0]) for x in ascending]
    assert len(first) == 5 and counts == sorted(counts) and counts != counts[::-1]
    assert [int(x.split()[0]) for x in descending] == sorted(counts, reverse=True)
    assert rules == sorted(rules) and header == "sorted-asc"
