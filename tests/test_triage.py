"""sprawl triage: one report per bundle, ranked, with owner, counts, log times, locations and the revoke step."""
from __future__ import annotations

import gzip
import json
from html.parser import HTMLParser

from archiveutil import make_tar as _tar
from conftest import GITHUB_TOKEN, run_sprawl

from scanner.findings.collect import portable_fingerprint

STRIPE_TEST = "sk_test_4eC39HqLyjWDarjtT1zdp7dcXq2Lm9Pz"
SLACK = "xoxb-2094834729-2098374653821-aB3dE5fG7hJ9kL1mN3pQ5rS7"


def _bundle(path, members: dict[str, bytes]) -> None:
    path.write_bytes(_tar(members, "w:gz"))


def _incident_bundle(tmp_path):
    app = "".join(f'{{"time":"2026-06-0{d}T0{d}:00:00Z","auth":"token {GITHUB_TOKEN}"}}\n' for d in (3, 1, 7))
    worker = f"2026-06-02T12:00:00Z INFO stripe={STRIPE_TEST}\n2026-06-05 08:00:00 WARN slack {SLACK}\n"
    bundle = tmp_path / "support.tar.gz"
    _bundle(bundle, {"logs/app.jsonl": app.encode(), "logs/worker.log": worker.encode(),
                     "logs/rotated.log.gz": gzip.compress(f"2026-05-30T00:00:00Z token={GITHUB_TOKEN}\n".encode())})
    return bundle


def test_triage_json_ranks_and_reports_each_credential(tmp_path):
    bundle = _incident_bundle(tmp_path)
    res = run_sprawl("triage", str(bundle), "-f", "json")
    assert res.returncode == 1, res.stderr.decode()
    doc = json.loads(res.stdout)
    [inc] = doc["incidents"]
    assert inc["bundle"] == str(bundle)
    entries = {e["rule_id"]: e for e in inc["entries"]}
    gh = entries["github-pat-classic"]
    assert gh["count"] == 4
    assert (gh["first_seen"], gh["last_seen"]) == ("2026-05-30T00:00:00Z", "2026-06-07T07:00:00Z")
    assert f"{bundle}!logs/rotated.log.gz:1" in gh["where"] and f"{bundle}!logs/app.jsonl:3" in gh["where"]
    assert gh["preview"] == "ghp_u8****" and GITHUB_TOKEN not in res.stdout.decode()
    assert "github.com/settings/tokens" in gh["remediation"]
    assert gh["owner"] == "unknown"
    scores = [e["score"] for e in inc["entries"]]
    assert scores == sorted(scores, reverse=True)
    # An admin-prior PAT logged four times outranks a Stripe test key.
    assert scores[0] == gh["score"] and entries["stripe-test-secret-key"]["score"] < gh["score"]


def test_triage_links_owner_from_the_inventory(tmp_path):
    bundle = _incident_bundle(tmp_path)
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(f"""kind: Inventory
version: 1
owners:
  - {{id: team:platform, type: team, contacts: [platform-oncall@example.test]}}
identities:
  - {{id: agent:deploy-bot, kind: agent, owner: team:platform, environment: prod, credentials: [cred:deploy-gh]}}
credentials:
  - {{id: cred:deploy-gh, provider: github, fingerprint: {portable_fingerprint("github-pat-classic", GITHUB_TOKEN)}}}
""")
    res = run_sprawl("triage", str(bundle), "--inventory", str(inventory), "-f", "json")
    assert res.returncode == 1, res.stderr.decode()
    gh = next(e for e in json.loads(res.stdout)["incidents"][0]["entries"] if e["rule_id"] == "github-pat-classic")
    assert gh["owner"] == "team:platform (platform-oncall@example.test)"
    assert "fingerprint" in gh["owner_detail"] or "agent:deploy-bot" in gh["owner_detail"]


def test_one_incident_per_bundle_and_clean_bundle_exits_zero(tmp_path):
    bundle = _incident_bundle(tmp_path)
    clean = tmp_path / "clean.log"
    clean.write_text("2026-01-01T00:00:00Z INFO nothing\n")
    res = run_sprawl("triage", str(bundle), str(clean), "-f", "json")
    incidents = json.loads(res.stdout)["incidents"]
    assert [i["bundle"] for i in incidents] == [str(bundle), str(clean)]
    assert incidents[1]["entries"] == []
    assert run_sprawl("triage", str(clean)).returncode == 0


def test_markdown_report_for_an_incident_ticket(tmp_path):
    bundle = _incident_bundle(tmp_path)
    out = tmp_path / "incident.md"
    res = run_sprawl("triage", str(bundle), "-f", "markdown", "-o", str(out))
    assert res.returncode == 1
    md = out.read_text()
    assert md.startswith(f"## Leaked credentials in `{bundle}`")
    assert "| # | Score | Credential | Preview | Owner | Link | Count | First seen | Last seen |" in md
    assert "- **Revoke / rotate:** " in md and "`ghp_u8****`" in md
    assert GITHUB_TOKEN not in md and SLACK not in md


def test_html_report_is_well_formed_and_escaped(tmp_path):
    bundle = tmp_path / "we<ird>.log"
    bundle.write_text(f"2026-01-01T00:00:00Z token={GITHUB_TOKEN}\n")
    res = run_sprawl("triage", str(bundle), "-f", "html")
    page = res.stdout.decode()
    assert "we&lt;ird&gt;.log" in page and "we<ird>" not in page
    assert GITHUB_TOKEN not in page

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows = 0

        def handle_starttag(self, tag, attrs):
            self.rows += tag == "tr"

    parser = Tags()
    parser.feed(page)
    assert parser.rows == 2  # header + one credential


def test_text_report_and_bad_input(tmp_path):
    bundle = _incident_bundle(tmp_path)
    res = run_sprawl("triage", str(bundle))
    text = res.stdout.decode()
    assert text.startswith(f"Incident: {bundle}")
    assert "revoke: " in text and "first 2026-05-30T00:00:00Z" in text
    bad = run_sprawl("triage", str(tmp_path / "missing.tar.gz"))
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr
