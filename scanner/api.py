"""The library's workflows that span stages: record a scan, analyze findings, list and explain what a
datastore holds. The click commands (scanner.cli) are thin layers over these and the scan drivers
(scanner.pipeline); `import scanner` exports them (tests/test_readme.py runs the README's examples).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner.errors import SprawlError
from scanner.inventory.model import Inventory
from scanner.model import (
    BAND_NAMES,
    BlastRadius,
    Finding,
    FindingAnalysis,
    Link,
    ScanResult,
    ScanStats,
    ValidationResult,
    confidence_rank,
    fingerprint_prefix,
)

if TYPE_CHECKING:
    from scanner.analysis.analyze import Analysis
    from scanner.store.db import Store
    from scanner.validate.api import ValidationOptions
    from scanner.validate.revoke import RevocationOutcome


@dataclass(frozen=True)
class FindingFilter:
    """Which stored findings `list_findings` returns; every field optional."""

    rule: str | None = None
    provider: str | None = None
    repo: str | None = None
    status: str | None = None  # open, allowed, revoked, or resolved (gone from every branch head)
    new_since: int | None = None  # only credentials first found after this scan id
    min_confidence: str = "medium"
    min_score: int | None = None  # only findings whose recorded blast radius is at least this
    min_band: str | None = None
    owner: str | None = None  # only findings linked to this owner or identity

    def __post_init__(self) -> None:
        confidence_rank(self.min_confidence)
        if self.min_band is not None and self.min_band not in BAND_NAMES:
            raise ValueError(f"unknown band {self.min_band!r}: one of {', '.join(BAND_NAMES)}")
        if self.min_score is not None and not 0 <= self.min_score <= 100:
            raise ValueError("min_score is a blast-radius score from 0 to 100")


@dataclass
class Explanation:
    """How one finding's owner was found and how its blast radius adds up (scanner.analysis.explain)."""

    fingerprint: str
    header: str
    link: Link
    blast_radius: BlastRadius
    credential_key: str | None = None
    computed_at: str | None = None  # set when it was read from the datastore

    def text(self) -> str:
        from scanner.analysis.explain import explain_text

        return explain_text(self.header, self.link, self.blast_radius)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fingerprint": self.fingerprint}
        if self.credential_key is not None:
            out["credential_key"] = self.credential_key
        out.update(link=self.link.to_dict(), blast_radius=self.blast_radius.to_dict())
        if self.computed_at is not None:
            out["computed_at"] = self.computed_at
        return out


@dataclass
class Recorded:
    scan_id: int
    analysed: bool = False


def record_scan(db_path: str | Path, result: ScanResult, kind: str, target: str, *,
                inventory: Inventory | None = None, store_secrets: bool = False,
                public_repos: frozenset[str] = frozenset(),
                key_file: str | None = None) -> Recorded:
    """Record a scan's findings in the datastore; with an inventory, link and score them and write the
    links and scores in the same transaction (a reader sees the findings with their scores or neither)."""
    from scanner.store.record import record_result

    def then(store: Store, ids: dict[str, int], scan_id: int) -> None:
        from scanner.analysis.store_io import analyze_recorded

        answers = {ids[f.fingerprint]: f.validation for f in result.findings
                   if f.validation is not None and f.fingerprint in ids}
        if answers:
            from scanner.store import validations

            validations.record(store, answers)
        if inventory is not None:
            analyze_recorded(store, result, ids, scan_id, inventory, repo=result.repo, public_repos=public_repos)

    # Locations carry the repository's name, as a sweep records them, so a later `sprawl analyze --db`
    # links them by repository just as this scan did.
    scan_id = record_result(db_path, result, kind, target, repo=result.repo or "", store_secrets=store_secrets,
                            key_file=key_file, then=then)
    return Recorded(scan_id, analysed=inventory is not None)


def validate_result(result: ScanResult, options: ValidationOptions) -> None:
    """Ask each finding's own provider whether its credential is live (never another host): each finding
    gets its `validation`, and the analysis then scores with it (liveness and privilege first)."""
    from scanner.validate.api import validate_candidates
    from scanner.validate.pairing import Held, candidates_of

    held = [Held(f, secret, tuple((loc.provenance.repo or result.repo or "", loc.path, loc.line) for loc in f.locations))
            for f in result.findings if (secret := result.secrets.get(f.fingerprint) or f.secret)]
    for h, answer in zip(held, validate_candidates(candidates_of(held), options), strict=True):
        h.finding.validation = answer


@dataclass
class StoredValidation:
    """One stored finding's validation: asked now, or reused from the datastore (younger than --max-age)."""

    fingerprint: str
    rule_id: str
    preview: str
    result: ValidationResult
    reused: bool


def validate_stored(db_path: str | Path, fingerprints: list[str], options: ValidationOptions, *,
                    max_age_seconds: float | None = None, key_file: str | None = None) -> list[StoredValidation]:
    """Validate what a datastore holds (the findings named, else every open one): an answer younger than
    max_age_seconds is reused, the others asked of each credential's own provider and recorded with their
    time. Only findings whose secret the datastore holds (--store-secrets) can be asked."""
    import json

    from scanner.store import Store, validations
    from scanner.store.keys import load_key
    from scanner.validate.api import validate_candidates
    from scanner.validate.result import Candidate

    store = Store(db_path, load_key(key_file), create=False)
    try:
        if fingerprints:
            ids = sorted({fid for fp in fingerprints for fid in store.resolve_fingerprint(fp)})
        else:
            ids = [row["id"] for row in store.query_findings(status="open")]
        rows = {fid: store.db["findings"].get(fid) for fid in ids}
        kept = validations.latest(store, ids, max_age_seconds) if max_age_seconds is not None else {}
        ask = [fid for fid in ids if fid not in kept and rows[fid]["secret"]]
        candidates = [Candidate(rows[fid]["rule_id"], rows[fid]["provider"], rows[fid]["secret"],
                                json.loads(rows[fid]["groups_json"] or "{}")) for fid in ask]
        asked = dict(zip(ask, validate_candidates(candidates, options), strict=True)) if ask else {}
        if asked:
            validations.record(store, asked)
        out = []
        for fid in ids:
            result = kept.get(fid) or asked.get(fid)
            if result is not None:
                row = rows[fid]
                out.append(StoredValidation(row["keyed_fingerprint"], row["rule_id"], row["preview"], result,
                                            reused=fid in kept))
        return out
    finally:
        store.close()


@dataclass
class Revocation:
    """What `revoke_stored` did: the outcome of scanner.validate.revoke, and whether the datastore now
    marks the credential revoked (only once a fresh validation said so)."""

    outcome: RevocationOutcome
    marked_revoked: bool = False


def revoke_stored(db_path: str | Path, fingerprint: str, options: ValidationOptions, *, confirm: bool = False,
                  secret: str | None = None, key_file: str | None = None) -> Revocation:
    """Revoke a stored credential through its provider's API: a dry run (the plan, nothing sent) unless
    `confirm`. The secret is the one the datastore holds (--store-secrets) or `secret`, which must be that
    credential (its keyed fingerprint is checked) so no other token is ever sent. A confirmed revocation
    that a fresh validation calls revoked marks the finding revoked (tests/test_validate_cli.py)."""
    import json

    from scanner.net.http import GuardedClient
    from scanner.store import Store, StoreError
    from scanner.store.keys import credential_key, load_key
    from scanner.validate.result import Candidate
    from scanner.validate.revoke import revoke

    key = load_key(key_file)
    store = Store(db_path, key, create=False)
    try:
        [fid, *_] = store.resolve_fingerprint(fingerprint)
        row = store.db["findings"].get(fid)
        value = row["secret"] or secret
        if not value:
            raise StoreError("the datastore does not hold this secret (it was recorded without --store-secrets): "
                             "give it on standard input with --secret-stdin")
        if credential_key(value, key) != row["credential_key"]:
            raise StoreError(f"the secret given is not credential {fingerprint}")
        candidate = Candidate(row["rule_id"], row["provider"], value, json.loads(row["groups_json"] or "{}"))
        outcome = revoke(candidate, GuardedClient(options.policy()), confirm=confirm)
        done = outcome.after is not None and str(outcome.after.status) == "revoked"
        if done:
            store.set_status(row["credential_key"], "revoked",
                             f"revoked through the {row['provider']} API by sprawl revoke; a validation then said revoked")
        return Revocation(outcome, marked_revoked=done)
    finally:
        store.close()


def analyze_result(result: ScanResult, inventory: Inventory | None = None, *,
                   public_repos: frozenset[str] = frozenset(), today: date | None = None) -> Analysis:
    """Link every finding of a scan to its owner and score its blast radius (an empty inventory still
    scores: every finding is then unowned); the findings are annotated and ranked highest first."""
    from scanner.analysis.annotate import analyze_result as annotate_result

    return annotate_result(result, inventory, repo=result.repo, public_repos=public_repos, today=today)


def score_unscored(result: ScanResult) -> None:
    """Score, with no inventory, the findings that carry no analysis yet (the HTML report ranks every
    finding by blast radius); stored and inventory scores are kept as they are."""
    unscored = [f for f in result.findings if f.analysis is None]
    if not unscored:
        return
    from scanner.analysis.annotate import analyze_result as annotate_result

    part = ScanResult(unscored, result.stats, result.ruleset, result.secrets, result.repo)
    annotate_result(part, None, repo=result.repo)


def analyze(paths: list[str] | None = None, *, db: str | Path | None = None, inventory: Inventory | None = None,
            min_confidence: str = "medium", public_repos: frozenset[str] = frozenset(), write: bool = False,
            today: date | None = None) -> tuple[ScanResult, Analysis]:
    """Analyze what a datastore holds (writing links and scores back when `write`), or scan `paths` and
    analyze that. Returns (ScanResult annotated and ranked, scanner.analysis.analyze.Analysis)."""
    from scanner.analysis.annotate import annotate
    from scanner.analysis.store_io import analyze_store
    from scanner.rules import load_rules

    confidence_rank(min_confidence)
    if db is None:
        if not paths:
            raise ValueError("give paths to scan, or a datastore")
        return _scan_and_analyze(paths, inventory, min_confidence, public_repos, today)
    if paths:
        raise ValueError("give either paths or a datastore, not both")
    analysis, stored = analyze_store(db, inventory or Inventory(), write=write, min_confidence=min_confidence,
                                     public_repos=public_repos, today=today)
    result = ScanResult([s.finding for s in stored.subjects], ScanStats(unit="credential"), load_rules())
    annotate(result, analysis)
    return result, analysis


def _scan_and_analyze(paths: list[str], inventory: Inventory | None, min_confidence: str,
                      public_repos: frozenset[str], today: date | None) -> tuple[ScanResult, Analysis]:
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.options import ScanOptions

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise SprawlError(f"no such file or folder: {', '.join(missing)}")
    result = scan_paths(list(paths), ScanOptions(min_confidence=min_confidence))
    analysis = analyze_result(result, inventory, public_repos=public_repos, today=today)
    return result, analysis


def explain(fingerprint: str, paths: list[str] | None = None, *, db: str | Path | None = None,
            inventory: Inventory | None = None, min_confidence: str = "medium",
            public_repos: frozenset[str] = frozenset()) -> Explanation:
    """The derivation of one finding's owner and score. With a datastore and no inventory or paths, what
    the last analysis recorded; otherwise derived afresh (and nothing is written)."""
    if db is not None and inventory is None and not paths:
        return _explain_stored(fingerprint, db)
    from scanner.analysis.explain import header

    _result, analysis = analyze(paths, db=db, inventory=inventory, min_confidence=min_confidence,
                                public_repos=public_repos)
    try:
        prefix = fingerprint_prefix(fingerprint)
    except ValueError as exc:
        raise SprawlError(str(exc)) from None
    hits = [s for s in analysis.subjects if s.fingerprint.startswith(prefix) or
            (s.credential_key or "").startswith(prefix)]
    if not hits and any(s.fingerprint.startswith(prefix) for s in analysis.identifiers):
        raise SprawlError(f"{fingerprint} is an identifier (a key id, tenant or account name): it is not scored; it "
                          "is evidence on the secret beside it (explain that secret)")
    if not hits:
        raise SprawlError(f"no finding with fingerprint {fingerprint} in {', '.join(paths or [str(db)])}")
    if len(hits) > 1:
        raise SprawlError(f"fingerprint prefix {fingerprint} is ambiguous: {len(hits)} findings")
    s = hits[0]
    return Explanation(s.fingerprint, header(s.finding), analysis.links[s.fingerprint].link(),
                       analysis.scores[s.fingerprint])


def _explain_stored(fingerprint: str, db: str | Path) -> Explanation:
    from scanner.analysis.store_io import find_stored, read_scores, stored_link
    from scanner.store import Store

    store = Store(db, create=False)
    try:
        fid = find_stored(store, fingerprint)
        row = store.db["findings"].get(fid)
        stored = read_scores(store, [fid]).get(fid)
    finally:
        store.close()
    if stored is None:
        raise SprawlError(f"finding {fingerprint} has no score yet: run `sprawl analyze --db {db} --inventory FILE` "
                          "(or scan with --db and --inventory)")
    head = (f"{row['keyed_fingerprint']}  {row['rule_id']}  {row['preview']}  "
            f"(recorded {stored['computed_at']})")
    return Explanation(row["keyed_fingerprint"], head, stored_link(stored), BlastRadius.from_dict(stored["factors"]),
                       credential_key=row["credential_key"], computed_at=stored["computed_at"])


def list_findings(db_path: str | Path, where: FindingFilter = FindingFilter(),
                  show_secrets: bool = False) -> ScanResult:
    """What the datastore holds, one finding per credential with every place it appears: scored findings
    (with their recorded owner and blast radius) highest first, then the others in datastore order.
    A finding whose rule is not in the current rules is left out with a warning (reports need its rule)."""
    from scanner.pipeline.engines import get_engine
    from scanner.store import Store
    from scanner.store.record import to_finding

    store = Store(db_path, create=False)
    try:
        rows = store.query_findings(where.rule, where.provider, where.repo, where.status, where.new_since,
                                    where.min_confidence)
        scores = _stored_analyses(store, [row["id"] for row in rows])
        found = []
        for row in rows:
            f = to_finding(row, store.locations_of(row["id"]))
            if not show_secrets:
                f.secret = None
            f.analysis = scores.get(row["id"])
            found.append(f)
    finally:
        store.close()
    found = _by_blast_radius(found, where)
    ruleset = get_engine().ruleset
    stats = ScanStats(unit="blob")
    stats.warnings = [f"rule {f.rule_id} is not in the current rules" for f in found if f.rule_id not in ruleset.by_id]
    return ScanResult([f for f in found if f.rule_id in ruleset.by_id], stats, ruleset)


def _stored_analyses(store: Store, finding_ids: list[int]) -> dict[int, FindingAnalysis]:
    """finding id -> its recorded analysis; the analysis package is loaded only when scores exist."""
    if not store.count("SELECT count(*) FROM scores", []):
        return {}
    from scanner.analysis.store_io import read_scores, stored_analysis

    return {fid: stored_analysis(row) for fid, row in read_scores(store, finding_ids).items()}


def _owned_by(a: FindingAnalysis, who: str) -> bool:
    """`--owner team:x`: linked to team:x or identity x, or owned by a member of team:x (its people and groups),
    as the analysis recorded membership (Link.owner_groups)."""
    return who in (a.owner, a.identity) or who in a.link.owner_groups


def _by_blast_radius(found: list[Finding], where: FindingFilter) -> list[Finding]:
    """Highest recorded blast radius first (unscored last, in datastore order), filtered."""
    if where.min_score is not None or where.min_band or where.owner:
        floor = BAND_NAMES.index(where.min_band or "info")
        found = [f for f in found if f.analysis and f.analysis.score >= (where.min_score or 0)
                 and BAND_NAMES.index(f.analysis.band) >= floor
                 and (not where.owner or _owned_by(f.analysis, where.owner))]
    return sorted(found, key=lambda f: -f.analysis.score if f.analysis else 1)
