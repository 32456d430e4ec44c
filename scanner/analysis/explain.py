"""The derivation of one finding's owner and score, as text a reviewer can check line by line: every location
with its repository, each link method with its evidence, the runner-up and the ambiguity margin, declared
versus inferred holders, the arithmetic of every factor and the source of every inventory fact used
(tests/test_explain.py).

Works from the typed Link and BlastRadius (scanner.model), so the same text comes from a fresh analysis and
from what the datastore recorded."""
from __future__ import annotations

from scanner.analysis.linking import AMBIGUITY_MARGIN
from scanner.model import GROUPS, BlastRadius, Link


def explain_text(header: str, link: Link, score: BlastRadius) -> str:
    out = [header, ""]
    sprawl = next((x for x in score.factors if x.name == "sprawl"), None)
    if sprawl and sprawl.evidence:
        out.append("Locations (repository:path:line):")
        out.extend(f"  {where}" for where in sprawl.evidence)
        out.append("")
    who = link.identity or link.owner or "nobody"
    if link.identity and link.owner:
        who = f"{link.identity} ({link.owner})"
    flags = [name for name, on in (("ambiguous", link.ambiguous), ("orphaned", link.orphaned)) if on]
    out.append(f"Owner: {who}{' [' + ', '.join(flags) + ']' if flags else ''}  status={link.status}  "
               f"confidence={link.confidence:.2f}")
    for e in link.evidence:
        out.append(f"  {e.method:<14} {e.confidence:.2f}  {e.detail}")
    runner = link.runner_up
    if runner:
        margin = link.margin
        verdict = ("ambiguous" if link.ambiguous else "clear")
        out.append(f"  runner-up: {runner.id} at {runner.confidence:.2f}; margin "
                   f"{margin if margin is not None else link.confidence - runner.confidence:.2f} "
                   f"({verdict}: a runner-up within {AMBIGUITY_MARGIN:.2f}, compared in hundredths, is ambiguous)")
    else:
        out.append("  runner-up: none")
    for ident in link.identifiers:
        out.append(f"  identifier beside it (evidence, not scored): {ident}")
    if link.status == "unowned":
        out.append("  no inventory fact links this credential to an identity or owner")
    if score.holders:
        out.append("Holders:")
        out.extend(f"  {h.identity:<30} {h.how:<9} {h.detail}" for h in score.holders)
    out.append("")
    out.append(f"Blast radius: {score.score} ({score.band})  = min(100, round_half_up({score.multiplier} x "
               f"{score.raw:g}))   liveness={score.liveness}")
    for group in GROUPS:
        out.append(f"  {group.capitalize()}: {score.group(group):g}")
        for x in score.factors:
            if x.group == group:
                tags = f"  [{', '.join(x.tags)}]" if x.tags else ""
                out.append(f"    {x.id:<4}{x.name:<12} {x.points:>5g} / {x.maximum:<3} {x.reason}{tags}")
                if x.evidence and x.name != "sprawl":
                    out.append(f"        evidence: {', '.join(map(str, x.evidence))}")
                for fact in x.facts:
                    out.append(f"        fact: {fact}")
    for g in score.gates:
        out.append(f"  gate: {g}")
    return "\n".join(out) + "\n"


def header(finding) -> str:
    repos = sorted({loc.provenance.repo for loc in finding.locations if loc.provenance.repo})
    where = f" in {', '.join(repos)}" if repos else ""
    return f"{finding.fingerprint}  {finding.rule_id}  {finding.preview}  ({len(finding.locations)} location(s){where})"
