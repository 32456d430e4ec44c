"""The non-secret facts of a finding, read at scan time while the secret is still in memory: JWT claims
(sub, iss, aud, iat, exp), identifiers a rule captured beside the secret (private_key_id, client_email,
project_id, key ids) and the token type its prefix names (DESIGN section 7).

Every recording path keeps them (scanner.store.record.observe: `scan --db` and the sweep alike), so a later
`sprawl analyze --db` links and scores as the scan did (tests/test_analysis_facts.py).
"""
from __future__ import annotations

from scanner.model import Finding

FACT_NAMES = ("sub", "iss", "aud", "iat", "exp", "client_id", "azp", "private_key_id", "client_email", "project_id",
              "key_id", "access_key_id", "app_id", "token_type")
KEY_ID_FACTS = ("sub", "client_id", "azp", "private_key_id", "client_email", "key_id", "access_key_id", "app_id")
_TOKEN_TYPES = (("ghs_", "github-installation"), ("ghu_", "github-user-to-server"), ("ghp_", "github-pat"),
                ("github_pat_", "github-fine-grained-pat"), ("ASIA", "aws-session"), ("AKIA", "aws-long-term"))


def facts_of(finding: Finding, secret: str | None) -> list[tuple[str, str, str]]:
    """The non-secret facts of a finding, read at scan time (the secret is not kept): (name, value, source).
    JWT claims (sub, iss, aud, iat, exp, client_id, azp), identifiers the rule captured beside the secret
    (private_key_id, client_email, project_id, key ids) and the token type its prefix names.
    tests/test_analysis_facts.py."""
    out: list[tuple[str, str, str]] = []
    for name, value in sorted(finding.groups.items()):
        if name in FACT_NAMES and value:
            out.append((name, str(value), f"rule {finding.rule_id} capture"))
    if secret:
        prefix = next((t for p, t in _TOKEN_TYPES if secret.startswith(p)), None)
        if prefix:
            out.append(("token_type", prefix, "prefix"))
        claims = _jwt_claims(secret)
        for claim in ("sub", "iss", "aud", "iat", "exp", "client_id", "azp"):
            raw = claims.get(claim)
            if isinstance(raw, list):
                out.extend((claim, str(v), "jwt claim") for v in raw)
            elif raw is not None and raw != "":
                out.append((claim, str(int(raw)) if isinstance(raw, float) else str(raw), "jwt claim"))
    return list(dict.fromkeys(out))


def _jwt_claims(secret: str) -> dict:
    if not secret.startswith("eyJ") or secret.count(".") < 2:
        return {}
    import base64
    import json

    try:
        payload = secret.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}
