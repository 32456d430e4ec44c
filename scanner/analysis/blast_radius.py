"""Blast radius, 0-100 (docs/blast-radius.md): how bad is this credential, with reasons a reviewer can check.

    score = min(100, round_half_up(M x (Impact + Exposure + Governance)))

computed in fixed point: points in tenths, M in hundredths, so 0.35 x 90 = 31.5 rounds to 32
(tests/test_blast_radius.py::test_e3_revoked_admin_key_in_public_history_rounds_half_up).
A credential held by several identities is scored at its worst holder: the highest environment,
the widest toolset and the union of their reach (tests/test_blast_radius.py::test_e2_...).
Gates, in order: an admin credential in a public place has a floor of 90 when verified active and of
80 when not validated; a test or publishable key is capped at 30.

Every factor reports points, maximum, reason, evidence and framework tags (OWASP NHI Top 10 2025,
OWASP Top 10 for Agentic Applications). The link's confidence is shown beside the score, never
multiplied in. Where the model names a factor but not its steps, these are the steps:

  F2 reach (8)       2 points per distinct scope or tool system the credential reaches (a `*` scope: 8);
                     nothing known: 4.
  F4 toolset (7)     the owning identity's tool count; a shell or code-execution tool: 7; no identity: 0.
  F6 sprawl (10)     min(10, 3 log2(locations) + 2 (repos - 1)), one decimal.
  F8 age (8)         days since first seen: <1: 0, <7: 1, <30: 2, <90: 4, <180: 5, <365: 6, <730: 7, else 8;
                     unknown: 0.
  F10 lifetime (7)   TTL <=1h: 0, <=1d: 1, <=7d: 2, <=30d: 3, <=90d: 4, longer: 5; static: rotated within
                     90 days 4, within a year 5, rotation unknown 6, unrotated (or in the open) for a year 7.
  F11 reuse (5)      identities or environments holding it: 1: 0, 2: 3, 3 or more: 5.
"""
from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime

from scanner.analysis.linking import INFERRED_BELOW, LinkDecision
from scanner.analysis.subject import Subject
from scanner.inventory.model import INACTIVE_LIFECYCLES, Credential, Identity, Inventory
from scanner.model import LOG_MEDIA, BlastRadius, Factor, Holder, band

PRIVILEGE_POINTS = {"admin": 22, "write": 16, "read": 10, "metered": 5, "test": 2}
ENVIRONMENT_POINTS = {"prod": 8, "unknown": 5, "staging": 3, "dev": 2, "local": 1}
WHERE_POINTS = {"public": 12, "log": 9, "ci-or-agent-config": 8, "private-source": 6, "ignored-local": 3}
LIVENESS_M = {"active": 1.0, "unknown": 0.85, "indeterminate": 0.85, "revoked": 0.35, "expired": 0.2}
LIVENESS_M_HUNDREDTHS = {k: round(v * 100) for k, v in LIVENESS_M.items()}
ADMIN_PUBLIC_FLOOR = 90  # verified active
ADMIN_PUBLIC_FLOOR_UNVALIDATED = 80  # not validated, or validation could not tell: critical until shown dead
TEST_CAP = 30

_TAGS = {
    "privilege": ["NHI5", "ASI03"], "reach": ["NHI5", "ASI03"], "environment": ["NHI8"], "toolset": ["ASI02"],
    "where_found": ["NHI2"], "sprawl": ["NHI2"], "persistence": ["NHI2"], "age": ["NHI2"],
    "ownership": ["NHI1"], "lifetime": ["NHI7"], "reuse": ["NHI9"],
}
_CI_OR_AGENT = re.compile(r"(^|/)(\.github/workflows/|\.gitlab-ci\.ya?ml$|\.circleci/|Jenkinsfile$|azure-pipelines\.ya?ml$|"
                          r"bitbucket-pipelines\.yml$|\.buildkite/|claude_desktop_config\.json$|\.?mcp\.json$|"
                          r"agents\.ya?ml$|tasks\.ya?ml$|agent(-card)?\.json$|\.cursor/|\.vscode/mcp\.json$|"
                          r"\.claude/|AGENTS\.md$|CLAUDE\.md$)")
_LOG_PATH = re.compile(r"(\.log$|/logs?/|transcript|prompts?/|\.jsonl$|conversation)", re.I)
_ENV_PATH = ((re.compile(r"(^|[/._-])(prod|production|prd)([/._-]|$)", re.I), "prod"),
             (re.compile(r"(^|[/._-])(staging|stage|stg)([/._-]|$)", re.I), "staging"),
             (re.compile(r"(^|[/._-])(dev|development)([/._-]|$)", re.I), "dev"),
             (re.compile(r"(^|/)\.env\.local$|(^|[/._-])local([/._-]|$)", re.I), "local"))
_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?\Z")
_ADMIN_SCOPE = re.compile(r"(^\*$|admin|owner|root|full|:\*$|\ball\b)", re.I)
_WRITE_SCOPE = re.compile(r"(write|deploy|push|create|delete|manage|publish|send|modify|update)", re.I)
_READ_SCOPE = re.compile(r"(read|view|list|get|pull)", re.I)


def round_half_up(x: float) -> int:
    """Half up on the decimal value: 31.5 -> 32, 73.95 -> 74 (through tenths, so float error cannot drop it)."""
    tenths = round(x * 10)
    return (tenths + 5) // 10


def tenths(points: float) -> int:
    return round(points * 10)


def fixed_point_score(m: float, raw: float) -> int:
    """round_half_up(M x raw) with M in hundredths and raw in tenths: exact integer arithmetic."""
    product = round(m * 100) * tenths(raw)  # thousandths
    return (product + 500) // 1000


def duration_seconds(text: str | None) -> int | None:
    if not text or text == "static":
        return None
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        return None
    y, mo, w, d, h, mi, s = (int(g or 0) for g in m.groups())
    return ((((y * 365 + mo * 30 + w * 7 + d) * 24 + h) * 60 + mi) * 60) + s


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value


class Scorer:
    def __init__(self, inventory: Inventory | None = None, today: date | None = None):
        self.inv = inventory or Inventory()
        self.today = today or datetime.now(UTC).date()
        self.identities = {i.id: i for i in self.inv.identities}
        self.credentials = {c.id: c for c in self.inv.credentials}
        self.holders: dict[str, list[Identity]] = {}
        for ident in self.inv.identities:
            for cid in ident.credentials:
                self.holders.setdefault(cid, []).append(ident)

    def holders_of(self, link: LinkDecision, cred: Credential | None, ident: Identity | None) -> list[Identity]:
        """Every distinct identity holding this credential: those the inventory says hold it and those a link
        resolved above 0.5 (identity resolution ran before, so an alias is never a second holder)."""
        held: dict[str, Identity] = {i.id: i for i in self.holders.get(cred.id, ())} if cred else {}
        if ident is not None:
            held.setdefault(ident.id, ident)
        for c in link.candidates:
            if c.kind == "identity" and c.confidence > INFERRED_BELOW and c.id not in held:
                other = self.identities.get(c.id)
                if other is not None:
                    held[other.id] = other
        return [held[k] for k in sorted(held)]

    def score(self, s: Subject, link: LinkDecision | None = None) -> BlastRadius:
        link = link or LinkDecision.decided(s.fingerprint, "unowned")
        ident = self.identities.get(link.identity) if link.identity else None
        cred = self.credentials.get(link.credential) if link.credential else None
        holders = self.holders_of(link, cred, ident)
        f = s.finding
        privilege, pfactor = self._privilege(s, cred, holders)
        where, wfactor = self._where(s)
        factors = [pfactor, self._reach(cred, holders), self._environment(s, holders), self._toolset(holders),
                   wfactor, self._sprawl(s), self._persistence(s), self._age(s),
                   self._ownership(link, ident), self._lifetime(s, cred), self._reuse(holders)]
        liveness = s.liveness
        if liveness in ("unknown", "indeterminate") and cred and cred.expires_at and cred.expires_at < self.today:
            liveness = "expired"
        expires = s.facts.get("expires")
        if liveness in ("unknown", "indeterminate") and expires is not None and expires.date() < self.today:
            liveness = "expired"  # the token's own exp claim is in the past
        m = LIVENESS_M[liveness]
        raw_tenths = sum(tenths(x.points) for x in factors)
        raw = raw_tenths / 10
        total = min(100, fixed_point_score(m, raw))
        gates = []
        if privilege == "admin" and where == "public":
            floor = (ADMIN_PUBLIC_FLOOR if liveness == "active" else
                     ADMIN_PUBLIC_FLOOR_UNVALIDATED if liveness in ("unknown", "indeterminate") else None)
            if floor is not None and total < floor:
                state = "a verified active" if liveness == "active" else "an unvalidated"
                gates.append(f"floor {floor}: {state} admin credential in a public place")
                total = floor
        if (privilege == "test" or f.publishable) and total > TEST_CAP:
            gates.append(f"cap {TEST_CAP}: a test or publishable key")
            total = TEST_CAP
        _record_facts(factors, cred, holders, ident, self.inv)
        return BlastRadius(total, band(total), raw, m, liveness, factors, gates, link.confidence,
                           self._holder_kinds(link, cred, holders))

    def _holder_kinds(self, link: LinkDecision, cred: Credential | None, holders: list[Identity]) -> list[Holder]:
        """Declared holders (the inventory says they hold the credential) apart from inferred ones (a link)."""
        declared = {i.id for i in self.holders.get(cred.id, ())} if cred else set()
        conf = {c.id: c for c in link.candidates if c.kind == "identity"}
        out = []
        for i in holders:
            if i.id in declared:
                out.append(Holder(i.id, "declared", f"holds {cred.id if cred else '?'} ({_src(i, 'credentials')})"))
            else:
                c = conf.get(i.id)
                out.append(Holder(i.id, "inferred", f"link {c.confidence:.2f} by {', '.join(c.methods)}" if c else "the link"))
        return out

    # ---- impact -------------------------------------------------------------------------------
    def _privilege(self, s: Subject, cred: Credential | None, holders: list[Identity]) -> tuple[str, Factor]:
        approved = [sc for i in holders for sc in i.approved_scopes]
        if s.privilege in PRIVILEGE_POINTS:
            level, reason, ev = s.privilege, "from validation", []
        elif cred and cred.scopes:
            level = _scope_privilege(cred.scopes)
            reason, ev = f"from the inventory scopes of {cred.id}", cred.scopes
        elif approved:
            level = _scope_privilege(approved)
            reason, ev = f"from the approved scopes of {', '.join(i.id for i in holders if i.approved_scopes)}", approved
        else:
            level = s.finding.privilege if s.finding.privilege in PRIVILEGE_POINTS else "write"
            reason, ev = f"the prior of rule {s.finding.rule_id}", []
        return level, Factor("F1", "impact", "privilege", PRIVILEGE_POINTS[level], 22, f"{level}: {reason}", list(ev),
                             _TAGS["privilege"])

    def _reach(self, cred: Credential | None, holders: list[Identity]) -> Factor:
        """The union of what every holder reaches: the credential's scopes (else the holders' approved
        scopes) and the systems of every holder's tools."""
        scopes = list(cred.scopes if cred else [])
        if not scopes:
            scopes = sorted({sc for i in holders for sc in i.approved_scopes})
        systems = sorted({t.system or t.name for i in holders for t in i.tools})
        if any(sc.strip() == "*" or sc.endswith(":*") for sc in scopes):
            return Factor("F2", "impact", "reach", 8, 8, "a wildcard scope reaches everything", scopes, _TAGS["reach"])
        if not scopes and not systems:
            return Factor("F2", "impact", "reach", 4, 8, "unknown: no inventory scopes or tools", [], _TAGS["reach"])
        n = len(set(scopes)) + len(systems)
        return Factor("F2", "impact", "reach", min(8, 2 * n), 8, f"{n} scope(s) and system(s) reachable",
                      scopes + systems, _TAGS["reach"])

    def _environment(self, s: Subject, holders: list[Identity]) -> Factor:
        known = [i for i in holders if i.environment != "unknown"]
        if known:
            worst = max(known, key=lambda i: (ENVIRONMENT_POINTS[i.environment], i.id))
            env = worst.environment
            why = f"the environment of {worst.id}" + (" (the worst holder)" if len(holders) > 1 else "")
            ev = sorted(f"{i.id}={i.environment}" for i in holders)
        else:
            env, why, ev = "unknown", "no environment known", []
            for loc in s.finding.locations:
                hit = next((e for rx, e in _ENV_PATH if rx.search(loc.path)), None)
                if hit:
                    env, why = hit, f"the path {loc.path}"
                    break
        return Factor("F3", "impact", "environment", ENVIRONMENT_POINTS[env], 8, f"{env}: {why}", ev,
                      _TAGS["environment"])

    def _toolset(self, holders: list[Identity]) -> Factor:
        if not holders:
            return Factor("F4", "impact", "toolset", 0, 7, "no owning agent known", [], _TAGS["toolset"])

        def points(i: Identity) -> int:
            return 7 if any(t.executes_code for t in i.tools) else min(7, len(i.tools))

        ident = max(holders, key=lambda i: (points(i), i.id))
        names = [t.name for t in ident.tools]
        execs = [t.name for t in ident.tools if t.executes_code]
        whose = ident.id + (" (the widest toolset of its holders)" if len(holders) > 1 else "")
        if execs:
            return Factor("F4", "impact", "toolset", 7, 7, f"{whose} can run code ({', '.join(execs)})", names,
                          _TAGS["toolset"] + ["ASI05"])
        return Factor("F4", "impact", "toolset", min(7, len(names)), 7, f"{whose} has {len(names)} tool(s)", names,
                      _TAGS["toolset"])

    # ---- exposure -----------------------------------------------------------------------------
    def _where(self, s: Subject) -> tuple[str, Factor]:
        best, best_loc = None, None
        for loc in s.finding.locations:
            kind = _where_kind(s, loc)
            if best is None or WHERE_POINTS[kind] > WHERE_POINTS[best]:
                best, best_loc = kind, loc
        best = best or "private-source"
        ev = [f"{best_loc.path}:{best_loc.line}"] if best_loc else []
        return best, Factor("F5", "exposure", "where_found", WHERE_POINTS[best], 12, best, ev, _TAGS["where_found"])

    def _sprawl(self, s: Subject) -> Factor:
        """The reason carries the arithmetic; the evidence lists every location with its repository."""
        n = max(1, len(s.finding.locations))
        repos = max(1, len(s.repos))
        exact = 3 * math.log2(n) + 2 * (repos - 1)
        pts = round(min(10.0, exact), 1)
        sum_text = f"3 x log2({n}) + 2 x ({repos} - 1) = {exact:.1f}" + (", capped at 10" if exact > 10 else "")
        where = []
        for loc in s.finding.locations[:MAX_LOCATIONS_SHOWN]:
            repo = s.repo_of(loc)
            state = " (history only)" if loc.source == "git" and loc.provenance.at_head is False else ""
            where.append(f"{repo + ':' if repo else ''}{loc.path}:{loc.line}{state}")
        if len(s.finding.locations) > MAX_LOCATIONS_SHOWN:
            where.append(f"... and {len(s.finding.locations) - MAX_LOCATIONS_SHOWN} more")
        return Factor("F6", "exposure", "sprawl", pts, 10,
                      f"{n} location(s) in {repos} repositor{'y' if repos == 1 else 'ies'}: {sum_text}",
                      where, _TAGS["sprawl"])

    def _persistence(self, s: Subject) -> Factor:
        for loc in s.finding.locations:
            if loc.source != "git" or loc.provenance.at_head:
                return Factor("F7", "exposure", "persistence", 5, 5, "present now (work tree or HEAD of the default branch)",
                              [loc.path], _TAGS["persistence"])
        return Factor("F7", "exposure", "persistence", 3, 5, "only in history or another branch", [], _TAGS["persistence"])

    def _age(self, s: Subject) -> Factor:
        first = s.first_seen_at()
        if first is None:
            return Factor("F8", "exposure", "age", 0, 8, "first seen in this scan", [], _TAGS["age"])
        days = (self.today - first.date()).days
        pts = next(p for limit, p in ((1, 0), (7, 1), (30, 2), (90, 4), (180, 5), (365, 6), (730, 7), (10**9, 8))
                   if days < limit)
        return Factor("F8", "exposure", "age", pts, 8, f"first seen {days} day(s) ago", [first.date().isoformat()],
                      _TAGS["age"])

    # ---- governance ---------------------------------------------------------------------------
    def _ownership(self, link: LinkDecision, ident: Identity | None) -> Factor:
        if ident and self.inv.orphaned(ident):
            why = ("its owner is unknown" if ident.owner is None else f"it is {ident.lifecycle}"
                   if ident.lifecycle in INACTIVE_LIFECYCLES else f"its owner {ident.owner} is inactive")
            pts, reason = 8, f"orphaned: {ident.id} is linked but {why}"
        elif link.status == "unowned":
            pts, reason = 6, "unknown: no inventory link"
        elif link.status == "team-only":
            pts, reason = 4, f"team only: {link.owner}, no identity"
        elif ident and ident.sources.get("owner", "").startswith("inherited:"):
            pts, reason = 3, (f"inferred: {ident.id}'s owner {ident.owner} is inherited from the file declaring it "
                              f"({ident.sources['owner'].removeprefix('inherited:')})")
        elif link.status == "inferred" or link.ambiguous or link.confidence < INFERRED_BELOW:
            pts, reason = 3, f"inferred: {link.identity or link.owner} at {link.confidence:.2f}" + (
                " (ambiguous)" if link.ambiguous else "")
        else:
            pts, reason = 0, f"linked and active: {link.identity} owned by {link.owner}"
        return Factor("F9", "governance", "ownership", pts, 8, reason, link.methods, _TAGS["ownership"])

    def _lifetime(self, s: Subject, cred: Credential | None) -> Factor:
        ttl = (cred.ttl if cred and cred.ttl else None) or s.finding.lifetime or "static"
        src = f"inventory ttl of {cred.id}" if cred and cred.ttl else f"rule {s.finding.rule_id}"
        seconds = duration_seconds(ttl)
        if s.facts.get("ttl_seconds"):
            seconds, src = s.facts["ttl_seconds"], "the token's exp - iat"
            ttl = f"PT{seconds}S"
        if seconds is not None:
            pts = next(p for limit, p in ((3600, 0), (86400, 1), (7 * 86400, 2), (30 * 86400, 3), (90 * 86400, 4))
                       if seconds <= limit) if seconds <= 90 * 86400 else 5
            return Factor("F10", "governance", "lifetime", pts, 7, f"expires after {ttl} ({src})", [],
                          _TAGS["lifetime"])
        rotated = _as_date(cred.last_rotated or cred.created_at) if cred else None
        first = s.first_seen_at()
        open_days = (self.today - first.date()).days if first else 0
        if rotated is not None:
            days = (self.today - rotated).days
            pts = 4 if days <= 90 else 5 if days <= 365 else 7
            # created_at is not a rotation: a credential never rotated is as old as it is
            why = (f"static, last rotated {days} day(s) ago" if cred and cred.last_rotated else
                   f"static, never rotated: created {days} day(s) ago")
        elif open_days >= 365:
            pts, why = 7, f"static and in the open for {open_days} days"
        else:
            pts, why = 6, "static, rotation unknown"
        return Factor("F10", "governance", "lifetime", pts, 7, f"{why} ({src})", [], _TAGS["lifetime"])

    def _reuse(self, holders: list[Identity]) -> Factor:
        envs = sorted({i.environment for i in holders if i.environment != "unknown"})
        n = max(len(holders), len(envs))
        pts = 0 if n <= 1 else 3 if n == 2 else 5
        tags = _TAGS["reuse"] + (["NHI8"] if len(envs) > 1 else [])
        return Factor("F11", "governance", "reuse", pts, 5,
                      f"held by {len(holders)} identit{'y' if len(holders) == 1 else 'ies'} in {len(envs) or 'no known'} "
                      f"environment(s)", [i.id for i in holders] + envs, tags)


MAX_LOCATIONS_SHOWN = 50


def _src(entry, name: str) -> str:
    return entry.sources.get(name) or entry.source or "inventory"


def _record_facts(factors: list[Factor], cred: Credential | None, holders: list[Identity], ident: Identity | None,
                  inv: Inventory) -> None:
    """Name, on each factor, the inventory facts it used and the source of each (explain prints them)."""
    by = {f.name: f for f in factors}
    if cred is not None and cred.scopes:
        fact = f"scopes {', '.join(cred.scopes)} of {cred.id} ({_src(cred, 'scopes')})"
        by["reach"].facts.append(fact)
        if "inventory scopes" in by["privilege"].reason:
            by["privilege"].facts.append(fact)
    for i in holders:
        if i.environment != "unknown":
            by["environment"].facts.append(f"environment {i.environment} of {i.id} ({_src(i, 'environment')})")
        if i.tools:
            tools = f"tools {', '.join(t.name for t in i.tools)} of {i.id} ({_src(i, 'tools')})"
            by["toolset"].facts.append(tools)
            by["reach"].facts.append(tools)
        if i.approved_scopes and "approved scopes" in by["privilege"].reason:
            by["privilege"].facts.append(f"approved scopes of {i.id} ({_src(i, 'approved_scopes')})")
    if ident is not None:
        by["ownership"].facts.append(f"owner {ident.owner} of {ident.id} ({_src(ident, 'owner')})")
        owner = inv.owner(ident.owner)
        if owner is not None and not owner.active:
            by["ownership"].facts.append(f"{owner.id} inactive ({owner.sources.get('active') or owner.source})")
        if ident.lifecycle != "production":
            by["ownership"].facts.append(f"lifecycle {ident.lifecycle} of {ident.id} ({_src(ident, 'lifecycle')})")
    if cred is not None:
        for name in ("ttl", "last_rotated", "created_at", "expires_at"):
            value = getattr(cred, name)
            if value:
                by["lifetime"].facts.append(f"{name} {value} of {cred.id} ({_src(cred, name)})")


def _scope_privilege(scopes: list[str]) -> str:
    if any(_ADMIN_SCOPE.search(sc) for sc in scopes):
        return "admin"
    if any(_WRITE_SCOPE.search(sc) for sc in scopes):
        return "write"
    if any(_READ_SCOPE.search(sc) for sc in scopes):
        return "read"
    return "write"


def _where_kind(s: Subject, loc) -> str:
    prov = loc.provenance
    repo = s.repo_of(loc)
    if prov.visibility == "public" or (repo and repo in s.public_repos):
        return "public"
    # A log bundle, prompt or transcript: a member of a bundle, or by its content (the media kind the
    # source read off it) or its path (tests/test_blast_radius.py::test_prompt_and_transcript_by_content).
    if loc.source == "archive" or prov.media in LOG_MEDIA or _LOG_PATH.search(loc.path):
        return "log"
    if _CI_OR_AGENT.search(loc.path):
        return "ci-or-agent-config"
    if prov.ignored:
        return "ignored-local"
    return "private-source"
