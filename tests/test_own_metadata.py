"""sprawl's own inventory files and `secret-sprawl.io/key-id` / `fingerprint` annotations hold identifiers and keyed
fingerprints, not secrets: they are never findings (issue 18). A real secret pasted into such a field, or anywhere
else in the file, still is. Real files, the real CLI."""
from __future__ import annotations

import json
import secrets

from conftest import run_sprawl

from tests.test_store_fingerprints import ghp

UPPER32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def key_id() -> str:
    return "AKIA" + "".join(secrets.choice(UPPER32) for _ in range(16))


def _found(folder) -> list[tuple[str, str]]:
    r = run_sprawl("scan", str(folder), "-f", "json", "--min-confidence", "low")
    assert r.returncode in (0, 1), r.stderr.decode()
    return [(f["rule_id"], loc["path"].rsplit("/", 1)[-1]) for f in json.loads(r.stdout)["findings"]
            for loc in f["locations"]]


def test_inventory_fields_and_annotations_are_not_findings(tmp_path):
    kid, other = key_id(), key_id()
    hexes = [secrets.token_hex(32), secrets.token_hex(16), secrets.token_hex(32)]
    (tmp_path / "inventory.yaml").write_text(f"""kind: Inventory
owners: [{{id: team:platform}}]
credentials:
  - id: cred:aws
    provider: aws
    key_id: {kid}
    fingerprint: hmac-sha256:{hexes[0]}
  - {{id: cred:gh, provider: github, fingerprint: "{hexes[1]}", secret_ref: vault://kv/ci/gh}}
  - {{id: cred:old, provider: aws, key_id: '{other}', fingerprint: {hexes[2]}}}
""")
    (tmp_path / "sa.yaml").write_text(f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: deployer
  annotations:
    secret-sprawl.io/key-id: {kid}
    "secret-sprawl.io/fingerprint": "{hexes[0]}"
""")
    r = run_sprawl("scan", str(tmp_path), "--min-confidence", "low")
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()


def test_the_same_values_elsewhere_and_real_secrets_in_those_fields_are_still_found(tmp_path):
    kid, token, pasted = key_id(), ghp(), ghp()
    (tmp_path / "deploy.env").write_text(f"AWS_ACCESS_KEY_ID={kid}\n")  # not an inventory: a key id as always
    (tmp_path / "inventory.yaml").write_text(f"""kind: Inventory
credentials:
  - id: cred:gh
    fingerprint: {pasted}
identities:
  - {{id: agent:x, kind: agent, purpose: "uses GITHUB_TOKEN={token}"}}
""")
    (tmp_path / "sa.yaml").write_text(f"metadata:\n  annotations:\n    secret-sprawl.io/key-id: {kid}\n"
                                      f"    other-tool.io/key-id: {kid}\n")
    found = _found(tmp_path)
    assert ("aws-access-key-id", "deploy.env") in found and ("aws-access-key-id", "sa.yaml") in found
    assert [p for rule, p in found if rule.startswith("github")] == ["inventory.yaml", "inventory.yaml"]
    assert found.count(("aws-access-key-id", "sa.yaml")) == 1  # the other tool's annotation only


def test_a_file_that_only_mentions_inventory_is_scanned_as_usual(tmp_path):
    kid = key_id()
    (tmp_path / "notes.yaml").write_text(f"title: Inventory of keys\nkey_id: {kid}\n")
    assert ("aws-access-key-id", "notes.yaml") in _found(tmp_path)
