"""The derivation of one finding's owner and score, as text a reviewer can check line by line.

Works from the plain dicts a Link and a Score serialise to, so the same text comes from a fresh
analysis and from what the datastore recorded."""
from __future__ import annotations


def explain_text(header: str, link: dict, score: dict) -> str:
    out = [header, ""]
    who = link.get("identity") or link.get("owner") or "nobody"
    if link.get("identity") and link.get("owner"):
        who = f"{link['identity']} ({link['owner']})"
    flags = [f for f in ("ambiguous", "orphaned") if link.get(f)]
    out.append(f"Owner: {who}{' [' + ', '.join(flags) + ']' if flags else ''}  status={link.get('status')}  "
               f"confidence={link.get('confidence', 0):.2f}")
    for e in link.get("evidence") or []:
        out.append(f"  {e['method']:<14} {e['confidence']:.2f}  {e['detail']}")
    if link.get("runner_up"):
        out.append(f"  runner-up: {link['runner_up']['id']} at {link['runner_up']['confidence']:.2f}")
    if link.get("status") == "unowned":
        out.append("  no inventory fact links this credential to an identity or owner")
    out.append("")
    out.append(f"Blast radius: {score['score']} ({score['band']})  = min(100, round({score['multiplier']} x "
               f"{score['raw']}))   liveness={score['liveness']}")
    for group in ("impact", "exposure", "governance"):
        out.append(f"  {group.capitalize()}: {score[group]:g}")
        for x in score["factors"]:
            if x["group"] == group:
                tags = f"  [{', '.join(x['tags'])}]" if x["tags"] else ""
                out.append(f"    {x['id']:<4}{x['name']:<12} {x['points']:>5g} / {x['maximum']:<3} {x['reason']}{tags}")
                if x["evidence"]:
                    out.append(f"        evidence: {', '.join(map(str, x['evidence']))}")
    for g in score["gates"]:
        out.append(f"  gate: {g}")
    return "\n".join(out) + "\n"


def header(finding) -> str:
    return f"{finding.fingerprint}  {finding.rule_id}  {finding.preview}  ({len(finding.locations)} location(s))"
