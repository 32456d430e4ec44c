"""Link each finding to the identity that owns it and that identity's human owner (docs/linking.md).

Every piece of evidence names its method, its confidence and what it saw. Evidence for one
target (an identity, or an owner when only a team is known) combines by noisy-OR,
1 - prod(1 - c), capped at 0.99; each method counts once per target, at its strongest. A rival
within 0.10 of the winner marks the link ambiguous; a winner below 0.5 is only "inferred".
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from scanner.analysis.subject import Subject, is_identifier
from scanner.findings.collect import portable_fingerprint
from scanner.inventory.model import (
    Credential,
    Identity,
    Inventory,
    PathOwner,
    codeowners_match,
    norm_path,
    parse_place,
    path_matches,
    same_file,
)
from scanner.model import Link, LinkEvidence, RunnerUp

CONFIDENCE = {
    "fingerprint": 0.99,
    "secret_ref": 0.95,
    "key_id": 0.95,
    "agent_config": 0.90,
    "env_var": 0.70,
    "path_owner": 0.60,  # CODEOWNERS / Backstage path ownership: the team
    "path_identity": 0.30,  # the same, naming an identity
    "repo": 0.40,
    "commit_author": 0.20,
}
STRONG_METHODS = ("fingerprint", "secret_ref", "key_id", "agent_config")
CAP = 0.99
AMBIGUITY_MARGIN = 0.10
INFERRED_BELOW = 0.5
NEIGHBOUR_LINES = 5  # an identifier finding this close to a secret is its pair (AWS key id beside the key)


def methods_of(evidence: Sequence[LinkEvidence]) -> list[str]:
    """The methods evidence was found by, each once, strongest first."""
    return sorted({e.method for e in evidence}, key=lambda m: -CONFIDENCE.get(m, 0))


@dataclass
class HolderCandidate:
    kind: str  # identity | owner
    id: str
    owner: str | None
    evidence: list[LinkEvidence] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        best: dict[str, float] = {}
        for e in self.evidence:
            best[e.method] = max(best.get(e.method, 0.0), e.confidence)
        miss = 1.0
        for c in best.values():
            miss *= 1.0 - c
        return round(min(CAP, 1.0 - miss), 4)

    @property
    def methods(self) -> list[str]:
        return methods_of(self.evidence)

    @property
    def credential(self) -> str | None:
        return next((e.credential for e in sorted(self.evidence, key=lambda e: -e.confidence) if e.credential), None)

    def as_runner_up(self) -> RunnerUp:
        return RunnerUp(self.kind, self.id, self.owner, self.confidence, list(self.evidence))


@dataclass
class LinkDecision(Link):
    """A link as the linker decided it, with its working: the credential's fingerprint and every candidate it
    weighed (the datastore keeps those beside the link). `link()` is the decided part alone (scanner.model.Link),
    what a report shows and the datastore keeps."""

    fingerprint: str = field(default="", kw_only=True)
    candidates: list[HolderCandidate] = field(default_factory=list, kw_only=True)

    @classmethod
    def decided(cls, fingerprint: str, status: str, *, runner: HolderCandidate | None = None,
                candidates: list[HolderCandidate] | None = None, **decided) -> LinkDecision:
        """The decision, with the methods and margin its evidence and runner-up give."""
        d = cls(status, **decided, fingerprint=fingerprint, candidates=candidates or [])
        d.methods = methods_of(d.evidence)
        if runner is not None:
            d.runner_up = runner.as_runner_up()
            # in hundredths: the ambiguity test compares these (within_margin)
            d.margin = (hundredths(d.confidence) - hundredths(runner.confidence)) / 100
        return d

    def link(self) -> Link:
        return Link(self.status, self.identity, self.owner, self.credential, self.confidence, self.ambiguous,
                    self.orphaned, list(self.methods), list(self.evidence), self.runner_up, self.margin,
                    list(self.identifiers), list(self.owner_groups))


def hundredths(confidence: float) -> int:
    return round(confidence * 100)


def within_margin(best: float, runner: float) -> bool:
    """A runner-up within 0.10 of the winner, compared in hundredths: 0.68 vs 0.58 is within
    (tests/test_linking.py::test_ambiguity_margin_is_compared_in_hundredths)."""
    return hundredths(best) - hundredths(runner) <= round(AMBIGUITY_MARGIN * 100)


_WILD = re.compile(r"[*?\[]")
_TOKEN = re.compile(r"[\w.@:+=/-]{8,}")


class _GlobIndex:
    """Globs indexed by a literal path segment they contain: a path can only match a glob holding the
    literal segment `a1` if one of its own components is `a1`, so each lookup tries a handful of globs
    instead of all of them. Each glob is filed under its rarest literal segment (`a1`, not `mcp.json`);
    globs without one (`*.env`) are always tried."""

    def __init__(self):
        self.pending: list[tuple[str, object, list[str]]] = []
        self.by_segment: dict[str, list] | None = None
        self.always: list = []

    def add(self, glob: str, item) -> None:
        literal = [seg for seg in glob.strip("/").split("/") if seg and seg != "." and not _WILD.search(seg)]
        self.pending.append((glob, item, literal))
        self.by_segment = None

    def _build(self) -> dict[str, list]:
        counts: dict[str, int] = defaultdict(int)
        for _g, _i, literal in self.pending:
            for seg in set(literal):
                counts[seg] += 1
        index: dict[str, list] = defaultdict(list)
        self.always = []
        for glob, item, literal in self.pending:
            if literal:
                index[min(literal, key=lambda seg: counts[seg])].append((glob, item))
            else:
                self.always.append((glob, item))
        return index

    def candidates(self, path: str):
        if self.by_segment is None:
            self.by_segment = self._build()
        for part in set(path.replace("\\", "/").split("/")):
            yield from self.by_segment.get(part, ())
        yield from self.always


class Linker:
    """Indexes an inventory once, then links any number of findings against it."""

    def __init__(self, inventory: Inventory, keyed: Callable[[str], str] | None = None):
        """`keyed` maps a portable fingerprint to the keyed form the datastore keeps (keys.keyed_fingerprint under
        its key): given when the findings come from the datastore, so an inventory's portable fingerprints and
        key ids still name them (tests/test_store_fingerprints.py::test_analyze_db_links_by_portable_fingerprint)."""
        self.inv = inventory
        self.keyed = keyed
        self.by_fingerprint: dict[str, Credential] = {}
        self.by_key_id: dict[str, Credential] = {}
        self.by_env: dict[str, list[Credential]] = defaultdict(list)
        for cred in inventory.credentials:
            if cred.fingerprint:
                declared = cred.fingerprint.removeprefix("hmac-sha256:")
                self.by_fingerprint[declared] = cred
                if keyed is not None:
                    self.by_fingerprint[keyed(declared)] = cred
            if cred.key_id:
                self.by_key_id[cred.key_id] = cred
            for var in cred.env_vars:
                self.by_env[var.upper()].append(cred)
        self._key_id_fps: dict[str, dict[str, Credential]] = {}
        self.holders: dict[str, list[Identity]] = defaultdict(list)
        for ident in inventory.identities:
            for cid in ident.credentials:
                self.holders[cid].append(ident)
        self._parents: dict[str, set[str]] | None = None
        self._groups: dict[str, list[str]] = {}
        self.owner_by_contact = {contact.lower(): o.id for o in inventory.owners for contact in o.contacts}
        # Declared secret_ref paths, indexed like globs: each location tries a handful, not every credential
        # (benchmarks/linking_scale.py: 2,000 identities x 5,000 findings).
        self.refs = _GlobIndex()
        for c in inventory.credentials:
            ref = (c.secret_ref or "").removeprefix("file://")
            if ref and "://" not in ref and ":" not in ref.split("/", 1)[0]:
                self.refs.add(ref, c)
        # Committed manifests that hold a credential (a k8s Secret at its secret_ref), by (repository, path).
        self.manifests: dict[tuple[str, str], list[tuple[str, int, int, Credential]]] = defaultdict(list)
        for c in inventory.credentials:
            for place in c.declared_in:
                parsed = parse_place(place)
                if parsed:
                    base = parsed[1].rsplit("/", 1)[-1]
                    self.manifests[(parsed[0], base)].append((parsed[1], parsed[2], parsed[3], c))
        self._ids = {i.id: i for i in inventory.identities}
        self.configs, self.paths = _GlobIndex(), _GlobIndex()
        self.by_repo: dict[str, list[Identity]] = defaultdict(list)
        for ident in inventory.identities:
            for g in ident.configs:
                self.configs.add(g, ident)
            for g in ident.paths:
                self.paths.add(g, ident)
            for repo in ident.repos:
                self.by_repo[repo].append(ident)
        self.codeowners = _GlobIndex()
        for rule in inventory.path_owners:
            self.codeowners.add(rule.pattern, rule)

    def groups_of(self, owner: str) -> list[str]:
        """Every group `owner` belongs to, directly or through nested groups (one walk per owner, cached)."""
        cached = self._groups.get(owner)
        if cached is None:
            if self._parents is None:
                self._parents = defaultdict(set)
                for o in self.inv.owners:
                    self._parents[o.id].update(o.member_of)
                    for m in o.members:
                        self._parents[m].add(o.id)
            seen: set[str] = set()
            todo = list(self._parents.get(owner, ()))
            while todo:
                g = todo.pop()
                if g not in seen and g != owner:
                    seen.add(g)
                    todo.extend(self._parents.get(g, ()))
            cached = self._groups[owner] = sorted(seen)
        return cached

    def path_owner(self, path: str, repo: str | None) -> PathOwner | None:
        """CODEOWNERS semantics (the last matching rule wins), through the index."""
        best = None
        for pattern, rule in self.codeowners.candidates(path):
            if rule.repo and repo and rule.repo != repo:
                continue
            if codeowners_match(pattern, path) and (best is None or rule.order >= best.order):
                best = rule
        return best

    def _key_ids_for_rule(self, rule_id: str) -> dict[str, Credential]:
        """Portable fingerprints each declared key id would have under this rule, so an identifier finding
        (an AWS key id) is matched without its plaintext."""
        table = self._key_id_fps.get(rule_id)
        if table is None:
            table = self._key_id_fps[rule_id] = {portable_fingerprint(rule_id, k): c for k, c in self.by_key_id.items()}
            if self.keyed is not None:
                table.update({self.keyed(fp): c for fp, c in list(table.items())})
        return table

    def link_all(self, subjects: list[Subject], identifiers: Sequence[Subject] = ()) -> dict[str, LinkDecision]:
        """Link every credential; `identifiers` are the identifier findings (scanner.analysis.subject.is_identifier),
        used as key-id evidence for the secret beside them in the same file of the same repository."""
        neighbours = _identifier_index(list(identifiers) or subjects)
        return {s.fingerprint: self.link(s, neighbours) for s in subjects}

    def link(self, s: Subject, neighbours: dict | None = None) -> LinkDecision:
        cands: dict[tuple[str, str], HolderCandidate] = {}

        def add(kind: str, target_id: str, owner: str | None, ev: LinkEvidence) -> None:
            key = (kind, target_id)
            if key not in cands:
                cands[key] = HolderCandidate(kind, target_id, owner)
            cands[key].evidence.append(ev)

        def to_holders(cred: Credential, method: str, conf: float, detail: str) -> None:
            holders = self.holders.get(cred.id) or []
            if not holders:
                add("credential", cred.id, None, LinkEvidence(method, conf, detail, cred.id))
            for ident in holders:
                add("identity", ident.id, ident.owner, LinkEvidence(method, conf, detail, cred.id))

        f = s.finding
        # 1. The keyed or portable fingerprint declared in the inventory.
        for fp in filter(None, (s.credential_key, f.fingerprint)):
            cred = self.by_fingerprint.get(fp)
            if cred:
                to_holders(cred, "fingerprint", CONFIDENCE["fingerprint"], f"inventory credential {cred.id} declares "
                           f"fingerprint {fp[:12]}...")
        # 2. Found at a declared secret_ref that is a path in the repository (or a file:// reference to one).
        seen_refs: set[str] = set()
        for loc in f.locations:
            for ref, cred in self.refs.candidates(loc.path):
                if cred.id not in seen_refs and path_matches(loc.path, ref):
                    seen_refs.add(cred.id)
                    to_holders(cred, "secret_ref", CONFIDENCE["secret_ref"],
                               f"found at {_where(s, loc)}, the declared secret_ref of {cred.id}")
            base = norm_path(loc.path).rsplit("/", 1)[-1]
            for path, first, last, cred in self.manifests.get((s.repo_of(loc) or "", base), ()):
                if cred.id not in seen_refs and first <= loc.line <= last and same_file(loc.path, path):
                    seen_refs.add(cred.id)
                    to_holders(cred, "secret_ref", CONFIDENCE["secret_ref"],
                               f"found at {_where(s, loc)}, in the committed manifest of {cred.secret_ref or cred.id}")
        # 3. A non-secret key id: captured beside the secret, an identifier finding nearby (same repository,
        #    same file, within NEIGHBOUR_LINES), or the finding itself.
        near = list(_near(neighbours or {}, s))
        for kid in s.key_ids():
            cred = self.by_key_id.get(kid)
            if cred:
                to_holders(cred, "key_id", CONFIDENCE["key_id"], f"key id {kid} captured with the secret")
        if self.by_key_id:
            cred = self._key_ids_for_rule(f.rule_id).get(f.fingerprint)
            if cred:
                to_holders(cred, "key_id", CONFIDENCE["key_id"], f"this is key id {cred.key_id} of {cred.id}")
            for other, oloc in near:
                cred = self._key_ids_for_rule(other.finding.rule_id).get(other.fingerprint)
                if cred:
                    to_holders(cred, "key_id", CONFIDENCE["key_id"],
                               f"key id {cred.key_id} of {cred.id} found beside it at {_where(other, oloc)}")
            for loc in f.locations:
                for token in _TOKEN.findall(loc.snippet):
                    cred = self.by_key_id.get(token)
                    if cred and len(token) >= 12:
                        to_holders(cred, "key_id", CONFIDENCE["key_id"], f"key id {token} on the same line")
        # 4. A literal inside an agent's or server's own config: the server whose block holds the line, never its
        #    neighbours in the same file; a config declared without blocks (a hand-kept glob) counts when no
        #    block claims the line. Same repository only.
        for loc in f.locations:
            repo = s.repo_of(loc)
            owners_by_block, whole_file = [], []
            for glob, ident in self.configs.candidates(loc.path):
                if not path_matches(loc.path, glob) or not _same_repo(ident, repo):
                    continue
                blocks = ident.block_lines(loc.path)
                if not blocks:
                    whole_file.append(ident)
                elif any(a <= loc.line <= b for a, b in blocks):
                    owners_by_block.append(ident)
            for ident in {i.id: i for i in (owners_by_block or whole_file)}.values():
                where = "the block of" if owners_by_block else "the config of"
                add("identity", ident.id, ident.owner,
                    LinkEvidence("agent_config", CONFIDENCE["agent_config"], f"literal at {_where(s, loc)}, in {where} "
                             f"{ident.id}"))
        # 5. Assigned to a name that an identity's credential declares as its env var.
        for name in s.assignment_names():
            creds = self.by_env.get(name.upper(), [])
            holders = [(c, i) for c in creds for i in self.holders.get(c.id) or []]
            if not holders:
                continue
            share = len({i.id for _c, i in holders})
            for cred, ident in holders:
                conf = CONFIDENCE["env_var"] / share
                why = [f"assigned to {name}, an env var of {cred.id}"]
                if share > 1:
                    why.append(f"shared by {share} identities")
                if ident.repos and s.repos and not set(ident.repos) & set(s.repos):
                    conf /= 2
                    why.append(f"found in {', '.join(s.repos)}, not in its repos")
                add("identity", ident.id, ident.owner, LinkEvidence("env_var", round(conf, 4), "; ".join(why), cred.id))
        # 6. Path and repository ownership, and the commit author: weak, but better than nothing.
        for loc in f.locations:
            repo = s.repo_of(loc)
            rule = self.path_owner(loc.path, repo)
            if rule and rule.owners:
                add("owner", rule.owners[0], rule.owners[0],
                    LinkEvidence("path_owner", CONFIDENCE["path_owner"], f"{rule.source}: {rule.pattern} owned by "
                             f"{' '.join(rule.owners)}"))
            for glob, ident in self.paths.candidates(loc.path):
                if path_matches(loc.path, glob) and _same_repo(ident, repo):
                    add("identity", ident.id, ident.owner, LinkEvidence("path_identity", CONFIDENCE["path_identity"],
                                                                    f"{loc.path} is under {ident.id}'s paths"))
            for ident in self.by_repo.get(repo, ()) if repo else ():
                add("identity", ident.id, ident.owner,
                    LinkEvidence("repo", CONFIDENCE["repo"], f"{ident.id} lists repository {repo}"))
            author = loc.provenance.email.lower()
            if author and author in self.owner_by_contact:
                oid = self.owner_by_contact[author]
                add("owner", oid, oid, LinkEvidence("commit_author", CONFIDENCE["commit_author"],
                                                f"committed by {author}"))
        link = self._decide(s.fingerprint, list(cands.values()))
        if link.owner:
            link.owner_groups = self.groups_of(link.owner)
        link.identifiers = [f"{o.finding.rule_id} {o.finding.preview} at {_where(o, oloc)}" for o, oloc in near]
        return link

    def _decide(self, fingerprint: str, cands: list[HolderCandidate]) -> LinkDecision:
        idents = [c for c in cands if c.kind == "identity"]
        if not idents and not [c for c in cands if c.kind == "owner"]:
            cred = next((c.id for c in cands if c.kind == "credential"), None)
            ev = [e for c in cands for e in c.evidence]
            return LinkDecision.decided(fingerprint, "unowned", credential=cred, evidence=ev, candidates=cands)
        ranked = sorted((c for c in cands if c.kind != "credential"),
                        key=lambda c: (-c.confidence, c.kind != "identity", c.id))
        best = ranked[0]
        # Owner-level evidence for the owner of the best identity agrees with it: prefer naming the identity.
        if best.kind == "owner":
            agreeing = [c for c in ranked if c.kind == "identity" and c.owner == best.id]
            if agreeing:
                best = agreeing[0]
        rivals = [c for c in ranked if c is not best and not _agree(best, c)]
        runner = rivals[0] if rivals else None
        conf = best.confidence
        if best.kind == "identity":
            support = [c for c in ranked if c.kind == "owner" and c.id == best.owner]
            ident = self._ids.get(best.id)
            status = "linked" if conf >= INFERRED_BELOW else "inferred"
            return LinkDecision.decided(
                fingerprint, status, identity=best.id, owner=best.owner, credential=best.credential, confidence=conf,
                ambiguous=bool(runner and within_margin(conf, runner.confidence)),
                orphaned=bool(ident and self.inv.orphaned(ident)),
                evidence=best.evidence + [e for c in support for e in c.evidence], runner=runner, candidates=ranked)
        status = "team-only" if conf >= INFERRED_BELOW else "inferred"
        return LinkDecision.decided(fingerprint, status, owner=best.id, confidence=conf,
                                    ambiguous=bool(runner and within_margin(conf, runner.confidence)),
                                    evidence=list(best.evidence), runner=runner, candidates=ranked)


def _agree(a: HolderCandidate, b: HolderCandidate) -> bool:
    """An identity and the owner it belongs to are not rivals."""
    if a.kind == b.kind:
        return a.id == b.id
    ident, owner = (a, b) if a.kind == "identity" else (b, a)
    return ident.owner == owner.id


def _same_repo(ident: Identity, repo: str | None) -> bool:
    """Path matching is repository-relative: an identity that names its repositories matches only there."""
    homes = ident.home_repos
    return not homes or not repo or repo in homes


def _where(s: Subject, loc) -> str:
    repo = s.repo_of(loc)
    return f"{repo + ':' if repo else ''}{loc.path}:{loc.line}"


def _identifier_index(subjects: list[Subject]) -> dict[tuple[str, str], list[tuple[int, Subject, object]]]:
    """Identifier findings by (repository, path): a key id pairs only with a secret in the same file of the
    same repository (tests/test_linking.py::test_a_key_id_in_another_repository_is_not_a_pair)."""
    index: dict[tuple[str, str], list] = defaultdict(list)
    for s in subjects:
        if is_identifier(s.finding):
            for loc in s.finding.locations:
                index[(s.repo_of(loc) or "", loc.path)].append((loc.line, s, loc))
    return index


def _near(index: dict, s: Subject):
    seen = set()
    for loc in s.finding.locations:
        for line, other, oloc in index.get((s.repo_of(loc) or "", loc.path), ()):
            if other is not s and abs(line - loc.line) <= NEIGHBOUR_LINES and id(other) not in seen:
                seen.add(id(other))
                yield other, oloc


def orphaned_identities(inv: Inventory) -> list[Identity]:
    return [i for i in inv.identities if inv.orphaned(i)]

