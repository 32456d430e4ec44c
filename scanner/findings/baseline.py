"""Baselines: adopt the scanner in a repository that already has findings, without hiding new ones.

A baseline is a reviewed list of known findings, keyed by the portable fingerprint (rule id
+ SHA-256 of the secret), with no line numbers, no timestamps and no plaintext, so it merges
cleanly and works on every machine. File format (JSON, sorted, stable)::

    {"schema": "secret-sprawl/baseline", "version": 1,
     "entries": [{"fingerprint": "…", "rule_id": "github-pat-classic", "paths": ["config.py"],
                  "reason": "revoked 2026-03", "owner": "team:platform", "expires": "2027-01-01"}]}

Entries imported from other scanners carry what those scanners keep instead:
`secret_sha1` (detect-secrets' hashed_secret), `secret_sha256` (a betterleaks value
fingerprint) or `path` + `line` (a gitleaks/betterleaks finding fingerprint).
An entry whose `expires` date has passed no longer hides its finding.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scanner.errors import SprawlError
from scanner.model import Finding

BASELINE_FILE = ".sprawl-baseline.json"  # what `sprawl baseline create` writes, and the hook reads at the root

SCHEMA = "secret-sprawl/baseline"


class BaselineError(SprawlError):
    pass


@dataclass
class BaselineEntry:
    fingerprint: str | None = None
    rule_id: str | None = None
    paths: list[str] = field(default_factory=list)
    reason: str = ""
    owner: str = ""
    expires: str | None = None  # YYYY-MM-DD
    secret_sha1: str | None = None
    secret_sha256: str | None = None
    line: int | None = None
    imported_from: str | None = None

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires != "" and dt.date.fromisoformat(self.expires) < today

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", [])}

    def sort_key(self) -> tuple:
        return (self.fingerprint or "", self.secret_sha1 or "", self.secret_sha256 or "", self.paths, self.line or 0)


@dataclass
class Baseline:
    entries: list[BaselineEntry] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BaselineError(f"{path}: not a readable baseline ({exc})") from None
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
            raise BaselineError(f"{path}: not a secret-sprawl baseline (schema should be {SCHEMA!r})")
        entries = []
        for i, raw in enumerate(doc.get("entries", [])):
            try:
                entry = BaselineEntry(**raw)
                if entry.expires:
                    dt.date.fromisoformat(entry.expires)
            except (TypeError, ValueError) as exc:
                raise BaselineError(f"{path}: entries[{i}]: {exc}") from None
            entries.append(entry)
        return cls(entries)

    def save(self, path: Path) -> None:
        doc = {"schema": SCHEMA, "version": 1,
               "entries": [e.to_json() for e in sorted(self.entries, key=BaselineEntry.sort_key)]}
        Path(path).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    def matcher(self, today: dt.date | None = None) -> BaselineMatcher:
        return BaselineMatcher(self, today or dt.date.today())

    @classmethod
    def from_findings(cls, findings: list[Finding], previous: Baseline | None = None) -> Baseline:
        """One entry per finding; reviewed metadata (reason, owner, expiry) carries over by fingerprint."""
        kept = {e.fingerprint: e for e in (previous.entries if previous else []) if e.fingerprint}
        entries = []
        for f in findings:
            old = kept.get(f.fingerprint)
            paths = sorted({loc.path for loc in f.locations})
            entries.append(BaselineEntry(f.fingerprint, f.rule_id, paths, old.reason if old else "",
                                 old.owner if old else "", old.expires if old else None))
        # Imported entries cannot be matched to a fingerprint; keep them as they are.
        entries.extend(e for e in (previous.entries if previous else []) if not e.fingerprint)
        return cls(entries)


class BaselineMatcher:
    """Answers: does the baseline hide this finding (given its secret, in memory only)?"""

    def __init__(self, baseline: Baseline, today: dt.date):
        self.active = [e for e in baseline.entries if not e.expired(today)]
        self.expired = [e for e in baseline.entries if e.expired(today)]
        self.by_fingerprint = {e.fingerprint for e in self.active if e.fingerprint}
        self.by_sha1 = {e.secret_sha1 for e in self.active if e.secret_sha1}
        self.by_sha256 = {e.secret_sha256 for e in self.active if e.secret_sha256}
        self.by_place = {(e.paths[0], e.line) for e in self.active if e.line and e.paths}
        self._expired_fps = {e.fingerprint: e for e in self.expired if e.fingerprint}

    def hides(self, finding: Finding, secret: str) -> bool:
        if finding.fingerprint in self.by_fingerprint:
            return True
        if self.by_sha1 and hashlib.sha1(secret.encode()).hexdigest() in self.by_sha1:
            return True
        if self.by_sha256 and hashlib.sha256(secret.encode()).hexdigest() in self.by_sha256:
            return True
        return bool(self.by_place) and any((loc.path, loc.line) in self.by_place for loc in finding.locations)

    def expired_entry(self, finding: Finding) -> BaselineEntry | None:
        return self._expired_fps.get(finding.fingerprint)


# --- importers -------------------------------------------------------------------------------

_GITLEAKS_LINE = re.compile(r"^(?:[0-9a-f]{7,40}:)?(?P<path>.+):(?P<rule>[A-Za-z0-9_.-]+):(?P<line>\d+)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def import_file(path: Path) -> list[BaselineEntry]:
    """Entries from a detect-secrets .secrets.baseline, a .gitleaksignore or a .betterleaksignore."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read ({exc})") from None
    if text.lstrip().startswith("{"):
        return _import_detect_secrets(path, text)
    return _import_ignore_lines(path, text)


def _import_detect_secrets(path: Path, text: str) -> list[BaselineEntry]:
    try:
        results = json.loads(text)["results"]
    except (ValueError, KeyError, TypeError):
        raise BaselineError(f"{path}: not a detect-secrets baseline (no 'results')") from None
    entries = []
    for filename, secrets in results.items():
        for s in secrets:
            if s.get("hashed_secret"):
                reason = "detect-secrets: " + ("verified" if s.get("is_verified") else s.get("type", "audited"))
                entries.append(BaselineEntry(paths=[filename], secret_sha1=s["hashed_secret"], reason=reason,
                                     imported_from="detect-secrets"))
    return entries


def _import_ignore_lines(path: Path, text: str) -> list[BaselineEntry]:
    source = "betterleaks" if "betterleaks" in Path(path).name else "gitleaks"
    entries = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if _HEX64.match(line):
            entries.append(BaselineEntry(secret_sha256=line, imported_from=source))
            continue
        m = _GITLEAKS_LINE.match(line)
        if not m:
            raise BaselineError(f"{path}:{n}: not a {source} fingerprint: {line[:80]!r}")
        entries.append(BaselineEntry(paths=[m.group("path")], line=int(m.group("line")),
                             reason=f"{source} rule {m.group('rule')}", imported_from=source))
    return entries
