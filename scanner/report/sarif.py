"""SARIF 2.1.0, as GitHub code scanning accepts it: rule metadata, locations, partial fingerprints."""
from __future__ import annotations

import json
from pathlib import Path

from scanner import __version__
from scanner.model import ScanResult

_LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(path: str) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return p.as_uri()
    return p.as_posix()


def render(result: ScanResult) -> str:
    used = sorted({f.rule_id for f in result.findings})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    rules = []
    for rule_id in used:
        rule = result.ruleset.by_id[rule_id]
        rules.append({
            "id": rule.id,
            "name": "".join(w.capitalize() for w in rule.id.split("-")),
            "shortDescription": {"text": rule.name},
            "fullDescription": {"text": f"{rule.name} ({rule.provider}, {rule.kind})."},
            "help": {"text": rule.remediation or "Revoke the credential and load it from a secret store."},
            "helpUri": rule.references[0] if rule.references else None,
            "properties": {"tags": ["security", "secret", rule.provider], "security-severity": _severity(rule.privilege)},
        })
        if rules[-1]["helpUri"] is None:
            del rules[-1]["helpUri"]
    results = []
    for f in result.findings:
        for loc in f.locations:
            results.append({
                "ruleId": f.rule_id,
                "ruleIndex": index[f.rule_id],
                "level": _LEVEL[f.confidence],
                "message": {"text": f"{f.rule_name} found: {f.preview}. {f.remediation}".strip()},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(loc.path)},
                        "region": {"startLine": loc.line, "startColumn": loc.column},
                    }
                }],
                "partialFingerprints": {"secretSprawlFingerprint/v1": f.fingerprint},
                "properties": {"confidence": f.confidence, "provider": f.provider, "kind": f.kind,
                               **({k: getattr(f.analysis, k) for k in ("owner", "identity", "link_confidence", "score", "band")}
                                  if f.analysis else {})},
            })
    doc = {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "secret-sprawl",
                "version": __version__,
                "rules": rules,
            }},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _severity(privilege: str) -> str:
    return {"admin": "9.5", "write": "8.0", "read": "6.0", "metered": "5.0", "test": "2.0"}[privilege]
