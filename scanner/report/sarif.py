"""SARIF 2.1.0, as GitHub code scanning reads it: rule metadata with markdown help, RFC 3986 URIs, partial
fingerprints, `level` from the blast-radius band (else the confidence), `security-severity` from the score
(else the rule's privilege), one run per repository with its `versionControlProvenance` where the
repository's URL is known, and each history location's repository and commit (tests/test_report_history.py,
tests/test_sarif_provenance.py)."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

from scanner import __version__
from scanner.model import Finding, Location, ScanResult, VersionControl

_LEVEL = {"high": "error", "medium": "warning", "low": "note"}
_BAND_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _uri(path: str) -> str:
    """An RFC 3986 URI reference: relative to the working folder where it can be, every reserved or
    non-ASCII character percent-encoded (a space, `#`, `?`), so `unquote(uri)` gives the path back."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            return "file://" + quote(p.as_posix(), safe="/", errors="surrogateescape")
    return quote(p.as_posix(), safe="/", errors="surrogateescape")


def render(result: ScanResult) -> str:
    return _document(_runs(result))


def render_incidents(incidents: list[tuple[str, ScanResult]]) -> str:
    """Triage as SARIF: each leaked bundle its own run(s), told apart by an automation id naming the bundle."""
    runs = []
    for bundle, result in incidents:
        for run in _runs(result):
            run["automationDetails"] = {"id": f"secret-sprawl/triage/{bundle}/"}
            run.setdefault("properties", {})["bundle"] = bundle
            runs.append(run)
    return _document(runs)


def _document(runs: list[dict]) -> str:
    return json.dumps({"$schema": _SCHEMA, "version": "2.1.0", "runs": runs}, indent=2) + "\n"


def _runs(result: ScanResult) -> list[dict]:
    used = sorted({f.rule_id for f in result.findings})
    index = {rule_id: i for i, rule_id in enumerate(used)}
    rules = [_rule(result.ruleset.by_id[rule_id]) for rule_id in used]
    runs: dict[str, list[dict]] = defaultdict(list)
    for f in result.findings:
        for loc in f.locations:
            runs[loc.provenance.repo or result.repo or ""].append(_result(f, loc, index[f.rule_id]))
    return ([_run(repo, results, rules, result.vcs.get(repo)) for repo, results in sorted(runs.items())]
            or [_run(result.repo or "", [], rules, result.vcs.get(result.repo or ""))])


def _rule(rule) -> dict:
    out = {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.id.split("-")),
        "shortDescription": {"text": rule.name},
        "fullDescription": {"text": f"{rule.name} ({rule.provider}, {rule.kind})."},
        "help": {"text": rule.remediation or "Revoke the credential and load it from a secret store.",
                 "markdown": _help_markdown(rule)},
        "properties": {"tags": ["security", "secret", rule.provider], "security-severity": _severity(rule.privilege)},
    }
    if rule.references:
        out["helpUri"] = rule.references[0]
    return out


def _run(repo: str, results: list[dict], rules: list[dict], vcs: VersionControl | None) -> dict:
    run: dict = {"tool": {"driver": {"name": "secret-sprawl", "version": __version__, "rules": rules}},
                 "results": results}
    if vcs is not None:  # the URL was stripped of credentials where it was read (scanner.sources.vcs)
        details = {"repositoryUri": vcs.repository_uri, "revisionId": vcs.revision_id, "branch": vcs.branch}
        run["versionControlProvenance"] = [{k: v for k, v in details.items() if v}]
    if repo:
        # One run per repository (a datastore export spans many); the category keeps their alerts apart.
        run["automationDetails"] = {"id": f"secret-sprawl/{repo}/"}
        run["properties"] = {"repository": repo}
    return run


def _result(f: Finding, loc: Location, rule_index: int) -> dict:
    prov = loc.provenance
    properties: dict = {"confidence": f.confidence, "provider": f.provider, "kind": f.kind, "status": f.status}
    if prov.commit:
        properties.update(repository=prov.repo, commit=prov.commit, author=prov.author, date=prov.date)
        if prov.at_head is not None:
            properties["atHead"] = prov.at_head
    level = _LEVEL[f.confidence]
    if f.analysis is not None:
        properties.update({k: getattr(f.analysis, k) for k in ("owner", "identity", "link_confidence", "score", "band")})
        properties["security-severity"] = f"{f.analysis.score / 10:.1f}"
        level = _BAND_LEVEL[f.analysis.band]
    where = f" in {history}" if (history := loc.history()) else ""  # git, or a workstation's client and server
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": level,
        "message": {"text": f"{f.rule_name} found{where}: {f.preview}. {f.remediation}".strip()},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(loc.path)},
                "region": {"startLine": loc.line, "startColumn": loc.column},
            }
        }],
        "partialFingerprints": {"secretSprawlFingerprint/v1": f.fingerprint},
        "properties": properties,
    }


def _severity(privilege: str) -> str:
    return {"admin": "9.5", "write": "8.0", "read": "6.0", "metered": "5.0", "test": "2.0"}[privilege]


def _help_markdown(rule) -> str:
    fix = rule.remediation or "Revoke the credential and load it from a secret store."
    refs = "".join(f"\n- <{ref}>" for ref in rule.references)
    return (f"**{rule.name}** ({rule.provider}, {rule.kind}).\n\n**Fix:** {fix}\n\n"
            f"Remove the secret from the file and its history, revoke it at the provider, and read the new one "
            f"from the environment or a secret manager.{chr(10) + chr(10) + '**References:**' + refs if refs else ''}")
