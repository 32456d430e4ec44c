"""Link and score a set of findings against an inventory: the analysis stage of the pipeline.

Identity resolution runs first (scanner.inventory.resolve), so one workload is never two holders.
Identifiers (an AWS key id, an Azure tenant id...) are not credentials: they are linked to nothing and
scored never; each is attached as evidence to the secret it pairs with (Link.identifiers).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from scanner.analysis.blast_radius import Scorer
from scanner.analysis.linking import LinkDecision, Linker
from scanner.analysis.subject import Subject, is_identifier
from scanner.inventory.model import Inventory
from scanner.inventory.resolve import resolve_identities
from scanner.model import BlastRadius, Finding, FindingAnalysis


@dataclass
class Analysis:
    inventory: Inventory
    subjects: list[Subject]  # the credentials: linked and scored
    links: dict[str, LinkDecision] = field(default_factory=dict)
    scores: dict[str, BlastRadius] = field(default_factory=dict)
    today: date | None = None
    identifiers: list[Subject] = field(default_factory=list)  # evidence only: never linked, scored or ranked

    def ranked(self) -> list[Subject]:
        """Highest blast radius first; identifiers are not ranked."""
        return sorted(self.subjects, key=lambda s: (-self.scores[s.fingerprint].score, s.finding.rule_id,
                                                    s.finding.fingerprint))

    def finding_analysis(self, fingerprint: str) -> FindingAnalysis | None:
        """The owner, link and score every report format carries once an inventory is given (None for an
        identifier: it has no score of its own)."""
        if fingerprint not in self.scores:
            return None
        link, score = self.links[fingerprint], self.scores[fingerprint]
        return FindingAnalysis(owner=link.owner, identity=link.identity, link_status=link.status,
                               link_confidence=link.confidence, link_methods=link.methods,
                               ambiguous=link.ambiguous, orphaned=link.orphaned, score=score.score,
                               band=score.band, link=link.link(), blast_radius=score,
                               contacts=list(known.contacts) if (known := self.inventory.owner(link.owner)) else [])


def analyze(findings: list[Finding] | list[Subject], inventory: Inventory, *, today: date | None = None,
            default_repo: str | None = None, public_repos: frozenset[str] = frozenset(),
            keyed: Callable[[str], str] | None = None) -> Analysis:
    """Link and score; `keyed` as Linker takes it, for findings read from the datastore."""
    everything = [f if isinstance(f, Subject) else Subject(f, default_repo=default_repo, public_repos=public_repos)
                  for f in findings]
    inventory = resolve_identities(inventory)
    public = inventory.public_repos
    if public:  # the inventory's `repos:` visibility, with any --public-repo the caller gave
        for s in everything:
            s.public_repos = s.public_repos | public
    subjects = [s for s in everything if not is_identifier(s.finding)]
    out = Analysis(inventory, subjects, today=today, identifiers=[s for s in everything if is_identifier(s.finding)])
    out.links = Linker(inventory, keyed).link_all(subjects, out.identifiers)
    scorer = Scorer(inventory, today)
    out.scores = {s.fingerprint: scorer.score(s, out.links[s.fingerprint]) for s in subjects}
    return out
