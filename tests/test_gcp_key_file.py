"""A GCP service-account key file, compact or pretty-printed (issue 18): one finding per key, fingerprinted on its
private key (never the literal `service_account`, which made every key file one credential), with the key's
identity (project_id, private_key_id, client_email) read the same from both forms, kept as facts, linked by
`private_key_id`, and validated with the captured identity. Real files, the real CLI, a loopback token endpoint."""
from __future__ import annotations

import json
import secrets

import pytest

pytest.importorskip("cryptography", reason="generating the key files needs the cryptography dependency")

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from scanner.findings.facts import facts_of
from scanner.pipeline.memory import scan_bytes
from scanner.pipeline.options import ScanOptions
from tests.conftest import run_sprawl
from tests.providerserver import serving
from tests.test_validate_gcp import google

SA = "service" + "_account"


def key_document(project: str = "acme-prod") -> dict:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return {"type": SA, "project_id": project, "private_key_id": secrets.token_hex(20), "private_key": pem,
            "client_email": f"deployer-{secrets.token_hex(3)}@{project}.iam.gserviceaccount.com",
            "client_id": str(secrets.randbelow(10**21)), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token"}, private


def _findings(text: str, path: str):
    result = scan_bytes(text.encode(), path, ScanOptions(min_confidence="low"))
    return [f for f in result.findings if f.rule_id == "gcp-service-account-key-file"], result


def test_compact_and_pretty_forms_read_the_same_key_and_identity():
    doc, _private = key_document()
    [compact], r1 = _findings(json.dumps(doc), "keys/compact.json")
    [pretty], r2 = _findings(json.dumps(doc, indent=2) + "\n", "keys/pretty.json")
    assert compact.fingerprint == pretty.fingerprint
    assert compact.groups == pretty.groups == {"project_id": doc["project_id"], "private_key_id": doc["private_key_id"],
                                               "client_email": doc["client_email"]}
    secret = r2.secrets[pretty.fingerprint]
    assert secret.startswith("-----BEGIN PRIVATE KEY-----") and secret != SA
    assert {(n, v) for n, v, _s in facts_of(pretty, secret)} >= {("private_key_id", doc["private_key_id"]),
                                                                 ("client_email", doc["client_email"]),
                                                                 ("project_id", doc["project_id"])}
    assert pretty.preview.startswith("-----BEGIN PRIVATE KEY-----") and doc["private_key"][40:80] not in pretty.preview


def test_two_key_files_are_two_credentials(tmp_path):
    for n in range(2):
        doc, _ = key_document()
        (tmp_path / f"sa-{n}.json").write_text(json.dumps(doc, indent=2))
    r = run_sprawl("scan", str(tmp_path), "-f", "json", "--min-confidence", "low")
    keys = [f for f in json.loads(r.stdout)["findings"] if f["rule_id"] == "gcp-service-account-key-file"]
    assert len(keys) == 2 and len({f["fingerprint"] for f in keys}) == 2


def test_a_pretty_printed_key_links_by_private_key_id_and_validates(tmp_path):
    doc, private = key_document()
    proj = tmp_path / "infra"
    proj.mkdir()
    (proj / "gke-sa.json").write_text(json.dumps(doc, indent=2) + "\n")
    inv = tmp_path / "inventory.yaml"
    inv.write_text("kind: Inventory\nowners: [{id: team:infra}]\nidentities:\n"
                   "  - {id: service_account:deployer, kind: service_account, owner: team:infra, credentials: [cred:sa]}\n"
                   f"credentials:\n  - {{id: cred:sa, provider: gcp, key_id: {doc['private_key_id']}}}\n")
    seen: list = []
    with serving(google(private.public_key(), seen)) as server:
        r = run_sprawl("scan", str(proj), "--inventory", str(inv), "--validate", "--endpoint", f"gcp={server.url}",
                       "--allow-internal-endpoints", "-f", "json")
    assert r.returncode == 1, r.stderr.decode()
    [f] = [x for x in json.loads(r.stdout)["findings"] if x["rule_id"] == "gcp-service-account-key-file"]
    assert (f["analysis"]["identity"], f["analysis"]["link_methods"][0]) == ("service_account:deployer", "key_id")
    assert f["validation"]["status"] == "active", f["validation"]
    assert seen and seen[0]["iss"] == doc["client_email"]
    assert doc["private_key"].splitlines()[1] not in r.stdout.decode()
