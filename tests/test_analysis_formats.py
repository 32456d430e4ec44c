"""Once an inventory is given, every scan and report format carries each finding's owner, link
confidence, score and band, highest blast radius first; with --db too, the links and scores land in
the datastore as `sprawl analyze --db` writes them, and `sprawl findings` / `sprawl explain` read them
back. Real git repositories, real SQLite files, the real CLI."""
from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from html.parser import HTMLParser

import pytest
from conftest import GITHUB_TOKEN, REPO, run_sprawl
from gitutil import commit, git, init_repo

from scanner.store.keys import keyed_fingerprint

INVENTORY = str(REPO / "fixtures" / "inventory" / "inventory.yaml")
KEY = {"SPRAWL_FINGERPRINT_KEY": "acme-test-organisation-key"}
AWS = "AWS_ACCESS_KEY_ID=AKIAQX3MPLEK3YRELBOT\nAWS_SECRET_ACCESS_KEY=Zk3vR8qLm2Xw9Tb4Yp7Hs1Jc6Nd0Ff5Ga2Qe8Ur\n"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """payments-api: the release bot's GitHub token (linked by env var and repository) and its AWS key
    (linked by key id), committed, so a filesystem scan and a history scan both find them."""
    root = init_repo(tmp_path_factory.mktemp("org") / "payments-api")
    commit(root, {"app.py": f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n', "deploy/release.env": AWS}, "release config")
    return root


IDENTIFIER_RULES = {"aws-access-key-id"}  # identifiers: evidence on the secret beside them, never scored


def _scored(findings: list[dict]) -> list[dict]:
    """The findings that carry an analysis; every other one is an identifier (DESIGN section 7)."""
    assert {f["rule_id"] for f in findings if "analysis" not in f} <= IDENTIFIER_RULES
    return [f for f in findings if "analysis" in f]


def _expected(args) -> list[dict]:
    """The four fields per finding, from the JSON report of the same command."""
    r = run_sprawl(*args, "-f", "json", env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    out = []
    for f in _scored(json.loads(r.stdout)["findings"]):
        a = f["analysis"]
        out.append({"fingerprint": f["fingerprint"], "owner": a["owner"], "identity": a["identity"],
                    "link_confidence": a["link_confidence"], "score": a["score"], "band": a["band"]})
    return out


def _check_json_findings(findings: list[dict], expected: list[dict]) -> None:
    got = [{"fingerprint": f["fingerprint"], **{k: f["analysis"][k] for k in
                                                ("owner", "identity", "link_confidence", "score", "band")}}
           for f in _scored(findings)]
    assert got == expected


class _Rows(HTMLParser):
    """The text of each row of the findings table."""

    def __init__(self):
        super().__init__()
        self.rows, self._in, self._cells = [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._in = dict(attrs).get("id") == "findings"
        elif tag == "tr" and self._in:
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cells.append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self._cells:
            self.rows.append(self._cells)
        if tag in ("tr", "table"):
            self._cells = None if tag == "tr" else self._cells
        if tag == "table":
            self._in = False

    def handle_data(self, data):
        if self._cells:
            self._cells[-1] += data


def _check(fmt: str, out: str, expected: list[dict]) -> None:
    """Assert the report in `fmt` carries owner, link confidence, score and band of every finding."""
    if fmt == "json":
        _check_json_findings(json.loads(out)["findings"], expected)
    elif fmt == "jsonl":
        _check_json_findings([json.loads(line) for line in out.splitlines()], expected)
    elif fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        for e in expected:
            props = [r["properties"] for r in results
                     if r["partialFingerprints"]["secretSprawlFingerprint/v1"] == e["fingerprint"]]
            assert props and all({k: p[k] for k in ("owner", "identity", "link_confidence", "score", "band")} ==
                                 {k: e[k] for k in ("owner", "identity", "link_confidence", "score", "band")}
                                 for p in props)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        for e in expected:
            mine = [r for r in rows if r["fingerprint"] == e["fingerprint"]]
            assert mine and all((r["owner"], r["identity"], float(r["link_confidence"]), int(r["score"]), r["band"]) ==
                                (e["owner"], e["identity"], e["link_confidence"], e["score"], e["band"]) for r in mine)
    elif fmt == "html":
        parser = _Rows()
        parser.feed(out)
        rows = {r[-1]: r for r in parser.rows}  # keyed by the fingerprint's first 12 characters
        for e in expected:
            score, band, _rule, _preview, _where, owner, link = rows[e["fingerprint"][:12]][:7]
            assert (int(score), band) == (e["score"], e["band"])
            assert e["identity"] in owner and e["owner"] in owner and link.startswith(f"{e['link_confidence']:.2f}")
        assert [int(r[0]) for r in parser.rows] == sorted((int(r[0]) for r in parser.rows), reverse=True)
    else:  # text: the lead lists every finding, highest blast radius first, with its owner and link
        lines = out.splitlines()
        assert lines[0] == "Blast radius, highest first:"
        lead = lines[1:1 + len(expected)]
        for e in expected:
            [line] = [x for x in lead if x.endswith(f"[{e['fingerprint']}]")]
            assert re.match(rf"\s*{e['score']} {e['band']}\s", line), line
            assert f"owner: {e['identity']} ({e['owner']})" in line and f"link {e['link_confidence']:.2f}" in line
        scores = [int(x.split()[0]) for x in lead]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("command", ["scan", "git"])
@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif", "csv", "html"])
def test_every_format_carries_owner_link_confidence_score_and_band(repo, command, fmt):
    args = (command, str(repo), "--inventory", INVENTORY)
    expected = _expected(args)
    assert {e["identity"] for e in expected} == {"agent:release-bot"} and len(expected) >= 2
    assert [e["score"] for e in expected] == sorted((e["score"] for e in expected), reverse=True)
    r = run_sprawl(*args, "-f", fmt, env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    _check(fmt, r.stdout.decode(), expected)


def _bundle(tmp_path):
    logs = tmp_path / "agent-logs"
    logs.mkdir()
    (logs / "release.log").write_text(f"2026-11-20T10:00:00Z export GITHUB_TOKEN={GITHUB_TOKEN}\n"
                                      f"2026-11-20T10:00:01Z {AWS.splitlines()[0]} {AWS.splitlines()[1]}\n")
    return logs


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_every_triage_format_carries_owner_link_confidence_score_and_band(tmp_path, fmt):
    bundle = _bundle(tmp_path)
    doc = json.loads(run_sprawl("triage", str(bundle), "--inventory", INVENTORY, "-f", "json").stdout)
    entries = doc["incidents"][0]["entries"]
    assert entries and any(e["owner"].startswith("team:payments") for e in entries)
    assert all(isinstance(e["link_confidence"], float) for e in entries)
    r = run_sprawl("triage", str(bundle), "--inventory", INVENTORY, "-f", fmt)
    assert r.returncode == 1, r.stderr.decode()
    out = r.stdout.decode()
    for i, e in enumerate(entries, 1):
        conf = f"{e['link_confidence']:.2f}"
        if fmt == "json":
            continue  # checked above
        if fmt == "text":
            block = out.split(f"\n  {i}. ")[1]
            assert block.startswith(f"[{e['score']} {e['band']}]")
            assert f"owner: {e['owner']} (" in block and f"link confidence {conf})" in block.split("\n")[1]
        elif fmt == "markdown":
            row = next(x for x in out.splitlines() if x.startswith(f"| {i} |"))
            assert f"| {e['score']} {e['band']} |" in row and f"| {e['owner']} | {conf} |" in row
        else:
            assert f"<td>{i}</td><td>{e['score']} {e['band']}</td>" in out
            assert f"link confidence {conf}</small>" in out


def _tables(db):
    con = sqlite3.connect(db)
    try:
        links = con.execute("SELECT finding_id, identity_id, owner_id, method, confidence, evidence FROM links "
                            "ORDER BY finding_id, id").fetchall()
        scores = con.execute("SELECT finding_id, score, band, link_confidence, factors FROM scores "
                             "ORDER BY finding_id").fetchall()
        findings = con.execute("SELECT id, keyed_fingerprint FROM findings ORDER BY id").fetchall()
    finally:
        con.close()
    return links, scores, dict((fp, fid) for fid, fp in findings)


def _keyed(fingerprint: str) -> str:
    """What the datastore keeps of a portable fingerprint (never the unkeyed value)."""
    return keyed_fingerprint(fingerprint, KEY["SPRAWL_FINGERPRINT_KEY"].encode())


@pytest.mark.parametrize("command", ["scan", "git"])
def test_scan_with_db_and_inventory_writes_links_and_scores_as_analyze_does(repo, tmp_path, command):
    db = tmp_path / "sprawl.db"
    r = run_sprawl(command, str(repo), "--db", str(db), "--inventory", INVENTORY, "-f", "json", env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    assert b"with links and scores" in r.stderr
    everything = json.loads(r.stdout)["findings"]
    reported = {_keyed(f["fingerprint"]): f["analysis"] for f in _scored(everything)}
    links, scores, ids = _tables(db)
    assert set(ids) == {_keyed(f["fingerprint"]) for f in everything}
    ids = {fp: fid for fp, fid in ids.items() if fp in reported}
    by_id = {fid: fp for fp, fid in ids.items()}
    assert len(scores) == len(reported)
    for fid, score, band, conf, factors in scores:
        a = reported[by_id[fid]]
        assert (score, band, conf) == (a["score"], a["band"], a["link_confidence"])
        assert [f["points"] for f in json.loads(factors)["factors"]] == [f["points"] for f in
                                                                         a["blast_radius"]["factors"]]
    chosen = {fid: (ident, owner, method, conf, json.loads(ev)) for fid, ident, owner, method, conf, ev in links
              if json.loads(ev)["chosen"]}
    assert set(chosen) == set(by_id)
    for fid, (ident, owner, method, conf, ev) in chosen.items():
        a = reported[by_id[fid]]
        assert (ident, owner, method, conf) == (a["identity"], a["owner"], a["link_methods"][0], a["link_confidence"])
        assert ev["evidence"] and {e["method"] for e in ev["evidence"]} == set(a["link_methods"])
    assert {c[2] for c in chosen.values()} >= {"key_id", "env_var"}

    # `sprawl analyze --db` over what the scan recorded writes the same links and scores.
    again = run_sprawl("analyze", "--db", str(db), "--inventory", INVENTORY, env=KEY)
    assert again.returncode == 1, again.stderr.decode()
    links2, scores2, _ = _tables(db)
    assert [s[:4] for s in scores2] == [s[:4] for s in scores]
    assert [lk[:5] for lk in links2] == [lk[:5] for lk in links]


def test_explain_db_and_findings_db_after_a_scan_with_an_inventory(repo, tmp_path):
    db = tmp_path / "sprawl.db"
    scan = run_sprawl("scan", str(repo), "--db", str(db), "--inventory", INVENTORY, "-f", "json", env=KEY)
    everything = json.loads(scan.stdout)["findings"]
    reported = _scored(everything)
    top, low = reported[0], reported[-1]
    assert top["analysis"]["score"] > low["analysis"]["score"]

    r = run_sprawl("explain", top["fingerprint"], "--db", str(db), env=KEY)
    assert r.returncode == 0, r.stderr.decode()
    a = top["analysis"]
    assert f"Owner: {a['identity']} ({a['owner']})  status=linked  confidence={a['link_confidence']:.2f}" in r.stdout.decode()
    assert f"Blast radius: {a['score']} ({a['band']})" in r.stdout.decode()

    listed = run_sprawl("findings", "--db", str(db), "-f", "json", env=KEY)
    assert listed.returncode == 1
    got = json.loads(listed.stdout)["findings"]
    # highest first, identifiers last; the datastore shows each finding by its keyed fingerprint
    assert [f["fingerprint"] for f in got] == [_keyed(f["fingerprint"]) for f in everything]
    got = _scored(got)
    for f, want in zip(got, reported):
        assert {k: f["analysis"][k] for k in ("owner", "identity", "link_confidence", "score", "band")} == \
            {k: want["analysis"][k] for k in ("owner", "identity", "link_confidence", "score", "band")}
        assert f["analysis"]["computed_at"]
    expected = [{"fingerprint": _keyed(f["fingerprint"]), **{k: f["analysis"][k] for k in
                                                     ("owner", "identity", "link_confidence", "score", "band")}}
                for f in reported]
    for fmt in ("text", "csv", "sarif", "html"):
        out = run_sprawl("findings", "--db", str(db), "-f", fmt, env=KEY)
        assert out.returncode == 1, out.stderr.decode()
        _check(fmt, out.stdout.decode(), expected)

    def listed_fps(*args):
        r = run_sprawl("findings", "--db", str(db), "-f", "json", *args, env=KEY)
        return [f["fingerprint"] for f in json.loads(r.stdout)["findings"]]

    assert listed_fps("--min-score", str(top["analysis"]["score"])) == [_keyed(top["fingerprint"])]
    assert listed_fps("--min-score", "0") == [_keyed(f["fingerprint"]) for f in reported]
    assert listed_fps("--min-band", "critical") == [_keyed(f["fingerprint"]) for f in reported
                                                    if f["analysis"]["band"] == "critical"]
    assert listed_fps("--min-band", low["analysis"]["band"]) == [_keyed(f["fingerprint"]) for f in reported]
    assert listed_fps("--owner", "team:payments") == [_keyed(f["fingerprint"]) for f in reported]
    assert listed_fps("--owner", "agent:release-bot") == [_keyed(f["fingerprint"]) for f in reported]
    assert listed_fps("--owner", "team:nobody") == []
    assert listed_fps("--repo", "payments-api") == [_keyed(f["fingerprint"]) for f in everything]  # a scan records the name
    assert listed_fps("--repo", "ledger") == []
    bad = run_sprawl("findings", "--db", str(db), "--min-band", "severe", env=KEY)
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr


def test_findings_db_without_analysis_lists_unscored_and_filters_to_none(repo, tmp_path):
    db = tmp_path / "sprawl.db"
    assert run_sprawl("scan", str(repo), "--db", str(db), env=KEY).returncode == 1
    links, scores, _ = _tables(db)
    assert links == [] and scores == []  # a scan without --inventory writes no links or scores
    plain = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json", env=KEY).stdout)["findings"]
    assert plain and all("analysis" not in f for f in plain)
    text = run_sprawl("findings", "--db", str(db), env=KEY).stdout.decode()
    assert "Blast radius" not in text
    assert run_sprawl("findings", "--db", str(db), "--min-band", "info", env=KEY).returncode == 0


def test_sweep_with_an_inventory_scores_what_it_recorded(repo, tmp_path):
    db = tmp_path / "sprawl.db"
    r = run_sprawl("sweep", str(repo.parent), "--db", str(db), "--inventory", INVENTORY, env=KEY)
    assert r.returncode == 1, r.stderr.decode()
    assert b"linked and scored against" in r.stderr
    links, scores, ids = _tables(db)
    assert len(scores) == len(ids) - 1 >= 2  # all but the AWS key id, an identifier
    assert {json.loads(lk[5])["chosen"] and lk[1] for lk in links} >= {"agent:release-bot"}
    listed = run_sprawl("findings", "--db", str(db), "--owner", "agent:release-bot", "-f", "json", env=KEY)
    assert len(json.loads(listed.stdout)["findings"]) == len(ids) - 1


def test_staged_with_db_and_inventory_records_scores(tmp_path):
    root = init_repo(tmp_path / "payments-api")
    commit(root, {"README.md": "# payments\n"}, "init")
    (root / "app.py").write_text(f'GITHUB_TOKEN = "{GITHUB_TOKEN}"\n')
    git(root, "add", "app.py")
    db = tmp_path / "sprawl.db"
    # PYTHONPATH: run this tree's sprawl, not the installed one, from outside the tree.
    r = run_sprawl("staged", "--db", str(db), "--inventory", INVENTORY, "-f", "json", cwd=root,
                   env={**KEY, "PYTHONPATH": str(REPO)})
    assert r.returncode == 1, r.stderr.decode()
    [f] = json.loads(r.stdout)["findings"]
    assert (f["analysis"]["identity"], f["analysis"]["link_confidence"]) == ("agent:release-bot", 0.82)
    _links, scores, _ = _tables(db)
    assert [(s[1], s[2]) for s in scores] == [(f["analysis"]["score"], f["analysis"]["band"])]


def test_a_bad_inventory_records_nothing(repo, tmp_path):
    db = tmp_path / "sprawl.db"
    bad = REPO / "fixtures" / "inventory" / "invalid-inventory.yaml"
    r = run_sprawl("scan", str(repo), "--db", str(db), "--inventory", str(bad), env=KEY)
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    assert not db.exists()  # the inventory is read before the datastore is opened
