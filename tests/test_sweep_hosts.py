"""`sprawl sweep` of hosted repositories, end to end on 127.0.0.1: the fake GitHub API of tests/hostserver.py
lists the org, `git http-backend` serves real repositories, the real CLI mirrors and sweeps them into a
real datastore (issue 22, first must-hold case)."""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from base64 import b64encode
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scanner.pipeline.sweep import RemoteTarget, listing_stamp
from scanner.sources.repos import find_targets, is_repository_url
from scanner.store.db import RepositoryFacts
from tests.conftest import run_sprawl
from tests.hostserver import FakeHost, github_repo_item, random_token
from tests.repogen import add_commits, github_token, make_repo
from tests.sweepkit import kill_sweep_after_first_repository

KEY_ENV = {"SPRAWL_FINGERPRINT_KEY": "test-organisation-key", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_NOSYSTEM": "1"}
NAMES = ["app", "site", "tools"]


@pytest.fixture
def org(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Three bare repositories served under acme/, each with a secret of its own in its second commit."""
    root = tmp_path / "served"
    secrets = {name: github_token(f"{name}-{os.getpid()}-{random_token('', 8)}") for name in NAMES}
    for name in NAMES:
        make_repo(root / "acme" / f"{name}.git",
                  [{"README.md": f"# {name}\n"}, {"config/deploy.py": f'GITHUB_TOKEN = "{secrets[name]}"\n'}],
                  bare=True)
    return root, secrets


def sweep(fake: FakeHost, db: Path, mirrors: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_sprawl("sweep", "--github-org", "acme", "--endpoint", f"github={fake.url}", "--allow-internal-endpoints",
                      "--db", str(db), "--mirrors", str(mirrors), "-f", "json", "-j", "2", *args,
                      env={**KEY_ENV, **(env or {})})


def summary(res: subprocess.CompletedProcess) -> dict:
    assert res.stdout, res.stderr.decode()
    return json.loads(res.stdout)


def coverage(doc: dict) -> dict[str, dict]:
    return {row["repo"]: row for row in doc["coverage"]}


def findings(db: Path) -> list[dict]:
    res = run_sprawl("findings", "--db", str(db), "-f", "json", "--min-confidence", "low", env=KEY_ENV)
    assert res.returncode in (0, 1), res.stderr.decode()
    return json.loads(res.stdout)["findings"]


def previews_by_repo(found: list[dict]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in found:
        for loc in f["locations"]:
            out.setdefault(loc["provenance"]["repo"], set()).add(f["preview"])
    return out


def serve_org(fake: FakeHost, names: list[str], public: str = "site") -> None:
    fake.github_repos = [github_repo_item(fake, n, "public" if n == public else "private") for n in names]


def test_org_sweep_finds_every_secret_records_public_and_fetches_only_new_objects(
        tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, secrets = org
    db, mirrors = tmp_path / "org.db", tmp_path / "mirrors"
    token = random_token("ghp_", 36)
    with FakeHost(root, token=token) as fake:
        serve_org(fake, NAMES)
        first = sweep(fake, db, mirrors, env={"GITHUB_TOKEN": token})
        assert first.returncode == 1, first.stderr.decode()
        doc = summary(first)
        cov = coverage(doc)
        assert set(cov) == {f"acme/{n}" for n in NAMES}
        assert {r["status"] for r in cov.values()} == {"scanned"} and {r["mirror"] for r in cov.values()} == {"created"}
        assert all(r["new_blobs"] == 2 and r["reason"] == "" for r in cov.values())
        assert doc["failed"] == 0 and doc["new_findings"] == 3

        found = findings(db)
        by_repo = previews_by_repo(found)
        assert set(by_repo) == {f"acme/{n}" for n in NAMES}
        assert all(len(v) == 1 for v in by_repo.values())
        fingerprints = {f["fingerprint"] for f in found}
        assert len(fingerprints) == 3

        conn = sqlite3.connect(db)
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT full_name, host, url, visibility, default_branch, archived, fork FROM repositories")}
        assert rows["acme/site"][:4] == ("github", f"{fake.git_base}/acme/site.git", "public", "main")
        assert rows["acme/app"][2] == "private" and rows["acme/app"][4:] == (0, 0)
        stored = conn.execute("SELECT count(*), count(DISTINCT scan_id) FROM coverage").fetchone()
        assert stored == (3, 1)
        conn.close()

        # The public repository's finding is exposed publicly (blast radius where-found), the others not.
        analyzed = run_sprawl("analyze", "--db", str(db), "-f", "json", env=KEY_ENV)
        assert analyzed.returncode == 1, analyzed.stderr.decode()
        where = {}
        for f in json.loads(analyzed.stdout)["findings"]:
            factor = next(x for x in f["analysis"]["blast_radius"]["factors"] if x["name"] == "where_found")
            repo = f["locations"][0]["provenance"]["repo"]
            where[repo] = (factor["reason"], factor["points"], f["locations"][0]["provenance"].get("visibility"))
        assert where["acme/site"] == ("public", 12, "public"), where
        assert where["acme/app"][0] != "public" and where["acme/app"][2] == "private"

        # One new commit upstream: only that repository is fetched and only its new objects scanned.
        new_secret = github_token(f"new-{random_token('', 8)}")
        add_commits(root / "acme" / "app.git", [{"config/new.py": f'TOKEN = "{new_secret}"\n'}])
        second = sweep(fake, db, mirrors, env={"GITHUB_TOKEN": token})
        assert second.returncode == 1, second.stderr.decode()
        cov = coverage(summary(second))
        assert (cov["acme/app"]["status"], cov["acme/app"]["mirror"]) == ("scanned", "fetched")
        assert cov["acme/app"]["new_blobs"] == 1  # the new file; the commit's other blobs were scanned before
        for name in ("acme/site", "acme/tools"):
            assert (cov[name]["status"], cov[name]["mirror"], cov[name]["new_blobs"]) == ("unchanged", "unchanged", 0)
        assert summary(second)["new_findings"] == 1
        assert len(findings(db)) == 4
        # The walk read only what the fetch brought (new tips, old tips excluded): one commit, not three;
        # and the secret found before is still at the head of main, not resolved.
        assert re.search(r"swept acme/app \(.*\): 1 commits, 1 new blobs", second.stderr.decode()), second.stderr
        assert summary(second)["resolved_findings"] == 0
        assert [f for f in findings(db) if f.get("status") == "resolved"] == []

        # Nothing moved: every repository unchanged, nothing new, exit 0.
        third = sweep(fake, db, mirrors, env={"GITHUB_TOKEN": token})
        assert third.returncode == 0, third.stderr.decode()
        assert {r["status"] for r in summary(third)["coverage"]} == {"unchanged"}

    # The token (plain or as git's Basic header) is in no file of the mirror cache or the datastore.
    needles = [token.encode(), b64encode(f"x-access-token:{token}".encode())]
    files = [p for p in [*mirrors.rglob("*"), *tmp_path.glob("org.db*")] if p.is_file()]
    assert len(files) > 20
    for path in files:
        data = path.read_bytes()
        assert not any(n in data for n in needles), path


def test_a_listed_repository_the_server_refuses_is_failed_and_exits_3(
        tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, _secrets = org
    db, mirrors = tmp_path / "org.db", tmp_path / "mirrors"
    with FakeHost(root) as fake:
        serve_org(fake, NAMES)
        assert sweep(fake, db, mirrors).returncode == 1
        serve_org(fake, [*NAMES, "gone"])
        fake.refuse_git = {"acme/gone"}
        res = sweep(fake, db, mirrors)
        assert res.returncode == 3, res.stderr.decode()
        cov = coverage(summary(res))
        assert cov["acme/gone"]["status"] == "failed"
        assert "403" in cov["acme/gone"]["reason"] and "acme/gone" in cov["acme/gone"]["reason"]
        assert all(cov[f"acme/{n}"]["status"] == "unchanged" for n in NAMES)
        assert "failed acme/gone" in res.stderr.decode()
        conn = sqlite3.connect(db)
        assert conn.execute("SELECT status FROM coverage WHERE repo = 'acme/gone'").fetchall() == [("failed",)]
        conn.close()


def test_an_api_that_refuses_the_listing_is_failed_and_exits_3(tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, _secrets = org
    with FakeHost(root, token=random_token("ghp_", 36)) as fake:
        serve_org(fake, NAMES)
        res = sweep(fake, tmp_path / "org.db", tmp_path / "mirrors", env={"GITHUB_TOKEN": random_token("ghp_", 36)})
        assert res.returncode == 3, res.stderr.decode()
        [row] = summary(res)["coverage"]
        assert (row["repo"], row["status"]) == ("github:acme", "failed") and "401" in row["reason"]


def test_internal_endpoints_are_refused_unless_allowed(tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, _secrets = org
    with FakeHost(root) as fake:
        serve_org(fake, NAMES)
        res = run_sprawl("sweep", "--github-org", "acme", "--endpoint", f"github={fake.url}", "--db",
                         str(tmp_path / "org.db"), "--mirrors", str(tmp_path / "mirrors"), "-f", "json", env=KEY_ENV)
        assert res.returncode == 3, res.stderr.decode()
        [row] = summary(res)["coverage"]
        assert row["status"] == "failed" and "--allow-internal-endpoints" in row["reason"]
        assert not any(r.method == "GET" for r in fake.requests)


def test_filters_leave_repositories_out_as_listed(tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, _secrets = org
    with FakeHost(root) as fake:
        fake.github_repos = [github_repo_item(fake, "app"), github_repo_item(fake, "site", archived=True),
                             github_repo_item(fake, "tools", fork=True)]
        res = sweep(fake, tmp_path / "org.db", tmp_path / "mirrors", "--skip-archived", "--skip-forks")
        assert res.returncode == 1, res.stderr.decode()
        cov = coverage(summary(res))
        assert {k: (v["status"], v["reason"]) for k, v in cov.items()} == {
            "acme/app": ("scanned", ""), "acme/site": ("listed", "archived"), "acme/tools": ("listed", "fork")}
        res = sweep(fake, tmp_path / "org2.db", tmp_path / "mirrors", "--exclude", "app", "--include", "acme/*")
        assert {k: v["status"] for k, v in coverage(summary(res)).items()} == {
            "acme/app": "listed", "acme/site": "scanned", "acme/tools": "scanned"}


def test_repos_file_mixes_urls_and_local_paths(tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, secrets = org
    local = make_repo(tmp_path / "local" / "svc", [{"a.py": f'T = "{github_token("local-" + random_token("", 8))}"\n'}])
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# mirrors and a local clone\nfile://{root}/acme/app.git\nlocal/svc\n")
    res = run_sprawl("sweep", "--repos", str(listing), "--db", str(tmp_path / "r.db"), "--mirrors",
                     str(tmp_path / "mirrors"), "-f", "json", env=KEY_ENV)
    assert res.returncode == 1, res.stderr.decode()
    cov = coverage(summary(res))
    assert cov["acme/app"]["mirror"] == "created" and cov["acme/app"]["status"] == "scanned"
    assert cov["svc"]["mirror"] == "" and cov["svc"]["url"] == os.path.realpath(local)
    assert set(previews_by_repo(findings(tmp_path / "r.db"))) == {"acme/app", "svc"}


def git_requests(fake: FakeHost) -> list[str]:
    """What git asked the fake's git server: ref advertisements and pack negotiations (upload-pack POSTs)."""
    return [f"{r.method} {r.path.split('?')[0]}" for r in fake.requests if r.path.startswith("/git/")]


def test_a_no_change_rerun_fetches_nothing_while_the_listing_says_nothing_was_pushed(
        tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, _secrets = org
    db, mirrors = tmp_path / "org.db", tmp_path / "mirrors"
    with FakeHost(root) as fake:
        serve_org(fake, NAMES)
        assert sweep(fake, db, mirrors).returncode == 1
        assert any(path.startswith("POST ") for path in git_requests(fake))
        fake.requests.clear()
        again = sweep(fake, db, mirrors)
        assert again.returncode == 0, again.stderr.decode()
        assert {(r["status"], r["mirror"]) for r in summary(again)["coverage"]} == {("unchanged", "unchanged")}
        assert git_requests(fake) == []  # pushed_at and the default branch as listed: no git at all

        # A push moves pushed_at: that repository alone is fetched, and only its new blob scanned.
        add_commits(root / "acme" / "tools.git", [{"notes.txt": "new\n"}])
        fake.requests.clear()
        third = sweep(fake, db, mirrors)
        cov = coverage(summary(third))
        assert (cov["acme/tools"]["mirror"], cov["acme/tools"]["new_blobs"]) == ("fetched", 1)
        assert {cov[n]["mirror"] for n in ("acme/app", "acme/site")} == {"unchanged"}
        assert {p.split("/")[3] for p in git_requests(fake)} == {"tools.git"}


def test_a_listing_stamp_is_trusted_only_for_an_old_push_and_the_same_rules() -> None:
    facts = RepositoryFacts("github", "acme/app", "https://h/acme/app.git", "private", "main")
    remote = RemoteTarget("https://h/acme/app.git", "acme/app", facts, pushed_at="2026-01-01T00:00:00Z")
    now = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
    stamp = listing_stamp(remote, "rules-1", now)
    assert stamp is not None and stamp == listing_stamp(remote, "rules-1", now + 60)
    assert listing_stamp(remote, "rules-2", now) != stamp
    assert listing_stamp(replace(remote, pushed_at="2026-01-02T00:00:00Z"), "rules-1", now) != stamp
    assert listing_stamp(replace(remote, facts=replace(facts, default_branch="dev")), "rules-1", now) != stamp
    # A push within STAMP_MARGIN of now (or a host clock behind ours) could share its second with the next.
    assert listing_stamp(remote, "rules-1", datetime(2026, 1, 1, 0, 1, tzinfo=UTC).timestamp()) is None
    assert listing_stamp(replace(remote, pushed_at=None), "rules-1", now) is None
    assert listing_stamp(replace(remote, pushed_at="yesterday"), "rules-1", now) is None


def mirror_files(mirrors: Path) -> dict[str, int]:
    return {str(p.relative_to(mirrors)): p.stat().st_mtime_ns for p in mirrors.rglob("*") if p.is_file()}


def test_a_url_whose_refs_have_not_moved_is_not_fetched(tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    root, _secrets = org
    db, mirrors = tmp_path / "r.db", tmp_path / "mirrors"
    with FakeHost(root) as fake:
        listing = tmp_path / "repos.txt"
        listing.write_text(f"{fake.git_base}/acme/app.git\n{fake.git_base}/acme/site.git\n")
        args = ("sweep", "--repos", str(listing), "--db", str(db), "--mirrors", str(mirrors),
                "--allow-internal-endpoints", "-f", "json")
        assert run_sprawl(*args, env=KEY_ENV).returncode == 1
        before = mirror_files(mirrors)
        fake.requests.clear()
        again = run_sprawl(*args, env=KEY_ENV)
        assert again.returncode == 0, again.stderr.decode()
        assert {(r["status"], r["mirror"]) for r in summary(again)["coverage"]} == {("unchanged", "unchanged")}
        # `git ls-remote` asked for the refs (protocol v2: GET info/refs, then one ls-refs POST per repository);
        # no fetch ran in the mirrors (a fetch rewrites FETCH_HEAD even when nothing moved).
        assert sorted(git_requests(fake)) == sorted([f"{m} /git/acme/{n}.git/{p}" for n in ("app", "site")
                                                     for m, p in (("GET", "info/refs"), ("POST", "git-upload-pack"))])
        assert mirror_files(mirrors) == before

        add_commits(root / "acme" / "site.git", [{"notes.txt": "moved\n"}])
        third = run_sprawl(*args, env=KEY_ENV)
        cov = coverage(summary(third))
        assert (cov["acme/site"]["mirror"], cov["acme/site"]["new_blobs"]) == ("fetched", 1)
        assert cov["acme/app"]["mirror"] == "unchanged"


def test_repository_url_lines() -> None:
    for url in ("https://github.com/acme/app.git", "ssh://git@host/acme/app", "git://host/app", "file:///srv/app.git",
                "git@github.com:acme/app.git"):
        assert is_repository_url(url), url
    for path in ("acme/app", "/srv/app.git", "C:/x", "./a:b"):
        assert not is_repository_url(path), path


def test_a_list_of_urls_alone_is_enough(tmp_path: Path) -> None:
    listing = tmp_path / "repos.txt"
    listing.write_text("https://example.com/acme/app.git\n")
    targets = find_targets(str(listing), [])
    assert (targets.paths, targets.urls) == ([], ["https://example.com/acme/app.git"])


GITLAB_SERVED = ["platform/api", "platform/web", "platform/infra/terraform", "platform/upstream-fork", "platform/docs"]


def test_gitlab_group_with_subgroups_waits_out_a_rate_limit(tmp_path: Path) -> None:
    root = tmp_path / "served"
    for name in GITLAB_SERVED:
        make_repo(root / "acme" / f"{name}.git",
                  [{"ci.py": f'T = "{github_token(name + random_token("", 8))}"\n'}], bare=True)
    token = random_token("glpat-", 20)
    with FakeHost(root, token=token, rate_limit_once={"gitlab:2"}) as fake:
        res = run_sprawl("sweep", "--gitlab-group", "acme/platform", "--endpoint", f"gitlab={fake.url}/api/v4",
                         "--allow-internal-endpoints", "--db", str(tmp_path / "g.db"), "--mirrors",
                         str(tmp_path / "mirrors"), "--skip-archived", "--skip-forks", "-f", "json",
                         env={**KEY_ENV, "GITLAB_TOKEN": token})
    assert res.returncode == 1, res.stderr.decode()
    assert "gitlab: retry-after, waiting 7s" in res.stderr.decode()
    cov = coverage(summary(res))
    assert {k: v["status"] for k, v in cov.items()} == {
        "acme/platform/api": "scanned", "acme/platform/infra/terraform": "scanned", "acme/platform/docs": "scanned",
        "acme/platform/web": "listed", "acme/platform/upstream-fork": "listed"}
    conn = sqlite3.connect(tmp_path / "g.db")
    assert dict(conn.execute("SELECT full_name, visibility FROM repositories")) == {
        "acme/platform/api": "private", "acme/platform/infra/terraform": "internal", "acme/platform/docs": "public"}
    conn.close()


def test_github_app_installation_token_lists_and_clones(tmp_path: Path, org: tuple[Path, dict[str, str]]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    root, _secrets = org
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "app.pem"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    with FakeHost(root, app_public_key=key.public_key(), installation_id=4242) as fake:
        serve_org(fake, NAMES)
        res = sweep(fake, tmp_path / "a.db", tmp_path / "mirrors", "--github-app-id", fake.app_id,
                    "--github-app-key", str(key_file))
        assert res.returncode == 1, res.stderr.decode()
        assert {r["status"] for r in summary(res)["coverage"]} == {"scanned"}
        minted = list(fake.minted)
        git_auth = {r.headers.get("Authorization") for r in fake.requests if r.path.startswith("/git/")}
    assert len(minted) == 1
    assert f"Basic {b64encode(f'x-access-token:{minted[0]}'.encode()).decode()}" in git_auth
    for path in [p for p in (tmp_path / "mirrors").rglob("*") if p.is_file()] + [tmp_path / "a.db"]:
        assert minted[0].encode() not in path.read_bytes(), path


def datastore_state(db: Path) -> dict:
    """What a sweep leaves, without ids, scan ids, timings or mirror paths."""
    conn = sqlite3.connect(db)
    out = {
        "findings": sorted(conn.execute("SELECT credential_key, rule_id, status, first_seen, last_seen, resolved_at_head "
                                        "FROM findings")),
        "locations": sorted(conn.execute('SELECT f.credential_key, l.repo, l.blob, l."commit", l.path, l.line, l.at_head '
                                         "FROM locations l JOIN findings f ON f.id = l.finding_id")),
        "repositories": sorted(conn.execute("SELECT full_name, url, visibility, refs_hash FROM repositories")),
        "blobs": sorted(conn.execute("SELECT oid, rules_version FROM blobs")),
        "coverage": sorted(conn.execute("SELECT repo, status, new_blobs, reason FROM coverage")),
        "scans": [tuple(r) for r in conn.execute("SELECT kind, status FROM scans")],
    }
    conn.close()
    return out


def test_a_hosted_sweep_killed_mid_way_then_rerun_equals_an_uninterrupted_one(tmp_path: Path) -> None:

    root = tmp_path / "served"
    names = [f"svc{i:02d}" for i in range(10)]
    for i, name in enumerate(names):
        make_repo(root / "acme" / f"{name}.git",
                  [{"README.md": f"# {name}\n", **{f"m{k}.py": f"x = {k}\n" for k in range(30)}},
                   {"deploy.py": f'TOKEN = "{github_token(f"kill-{i}")}"\n', "shared.py": f'T = "{github_token("shared")}"\n'}],
                  bare=True)
    with FakeHost(root) as fake:
        fake.github_repos = [github_repo_item(fake, n, "public" if n == "svc03" else "private") for n in names]
        reference = tmp_path / "reference.db"
        assert sweep(fake, reference, tmp_path / "mirrors-ref", "-j", "1").returncode == 1
        killed = tmp_path / "killed.db"
        args = ["sweep", "--github-org", "acme", "--endpoint", f"github={fake.url}", "--allow-internal-endpoints",
                "--db", str(killed), "--mirrors", str(tmp_path / "mirrors"), "-j", "1"]
        kill_sweep_after_first_repository(args, KEY_ENV)
        conn = sqlite3.connect(killed)
        statuses = [r[0] for r in conn.execute("SELECT status FROM coverage")]
        conn.close()
        assert 1 <= statuses.count("scanned") < len(names), "the kill should land mid-way"
        rerun = sweep(fake, killed, tmp_path / "mirrors", "-j", "1")
    assert rerun.returncode == 1, rerun.stderr.decode()
    assert "resumed an interrupted sweep" in rerun.stderr.decode()
    assert summary(rerun)["new_findings"] == len(names) + 1, "what the killed run found is still new"
    assert datastore_state(killed) == datastore_state(reference)
