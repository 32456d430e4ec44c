"""The derivation of one finding's owner and score, as text a reviewer can check line by line."""
from __future__ import annotations

from scanner.analysis.blast_radius import Score
from scanner.analysis.linking import Link
from scanner.analysis.subject import Subject


def explain_text(s: Subject, link: Link, score: Score) -> str:
    f = s.finding
    out = [f"{f.fingerprint}  {f.rule_id}  {f.preview}  ({len(f.locations)} location(s))", ""]
    out.append(f"Owner: {link.label}  status={link.status}  confidence={link.confidence:.2f}")
    for e in link.evidence:
        out.append(f"  {e.method:<14} {e.confidence:.2f}  {e.detail}")
    if link.runner_up:
        out.append(f"  runner-up: {link.runner_up.id} at {link.runner_up.confidence:.2f}")
    if link.status == "unowned":
        out.append("  no inventory fact links this credential to an identity or owner")
    out.append("")
    out.append(f"Blast radius: {score.score} ({score.band})  = min(100, round({score.multiplier} x {score.raw}))"
               f"   liveness={score.liveness}")
    for group in ("impact", "exposure", "governance"):
        out.append(f"  {group.capitalize()}: {score.group(group)}")
        for x in score.factors:
            if x.group == group:
                tags = f"  [{', '.join(x.tags)}]" if x.tags else ""
                out.append(f"    {x.id:<4}{x.name:<12} {x.points:>5g} / {x.maximum:<3} {x.reason}{tags}")
                if x.evidence:
                    out.append(f"        evidence: {', '.join(map(str, x.evidence))}")
    for g in score.gates:
        out.append(f"  gate: {g}")
    return "\n".join(out) + "\n"
