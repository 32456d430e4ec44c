"""`sprawl sweep --validate` with several workers: each worker validates what it found, but the sweep's budget
(and rate per provider) is one, shared through the ValidationGate (scanner.pipeline.sweep_validate)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.gitutil import commit, init_repo
from tests.providerserver import serving
from tests.test_sweep import KEY_ENV, sweep
from tests.test_validate_aws import aws_server, new_key


def test_the_budget_is_the_sweeps_not_each_workers(tmp_path: Path) -> None:
    org = tmp_path / "org"
    keys = [new_key() for _ in range(4)]
    for n, (key_id, secret) in enumerate(keys):
        commit(init_repo(org / f"svc{n}"), {"deploy.env": f"AWS_ACCESS_KEY_ID={key_id}\n"
                                                          f"AWS_SECRET_ACCESS_KEY={secret}\n"}, "deploy")
    db = tmp_path / "sprawl.db"
    with serving(aws_server(*keys[0])) as server:
        res = sweep(str(org), "--db", str(db), "-j", "2", "--validate", "--validation-budget", "1",
                    "--endpoint", f"aws={server.url}", "--allow-internal-endpoints", env=KEY_ENV)
        assert res.returncode == 1, res.stderr.decode()
        assert len(server.requests) == 1  # two workers, four keys: one request in all
    with sqlite3.connect(db) as conn:
        reasons = [r[0] for r in conn.execute("SELECT v.reason FROM validations v JOIN findings f ON f.id = "
                                              "v.finding_id WHERE f.rule_id = 'aws-secret-access-key'")]
    # Which key a worker validates first is a race. Three keys never reach the provider; the one request was the
    # first of some key's validation: the known key's STS call (its IAM call then meets the spent budget) or an
    # unknown key's, which AWS answers for good. CI once drew the unknown key.
    spent = [r for r in reasons if "budget of 1 requests is spent" in r]
    answered = [r for r in reasons if r not in spent]
    assert len(reasons) == 4 and len(spent) >= 3, reasons
    assert all("InvalidClientTokenId" in r for r in answered), reasons
