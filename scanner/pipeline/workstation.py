"""`sprawl workstation`: the AI clients' configs and transcripts on one machine, scanned and attributed.

discover (scanner.sources.workstation) -> read each file -> engine (the process's engine, in workers for
transcripts) -> each match moved to its raw place and tied, in its Provenance, to its client, scope, MCP
server and field (configs) or session and role (transcripts) -> references dropped -> matches gathered
by credential (ScanRun) into ordinary Findings -> config risks added as low findings of their own rules ->
a ScanResult every report format and the datastore read, plus the machine's servers for the inventory,
and redaction in place.

Invariants (tests/test_workstation.py): every planted secret is found with its client and server, no
reference is reported; after `redact_in_place` no secret remains, every JSON line and config still
parses, the backup holds the original with mode 0600, and a file changed since it was read is left alone.
A chat database is redacted record by record in one SQLite transaction, and refused when its records changed
or a running client holds it locked (tests/test_workstation_store_redact.py).
"""
from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import sqlite3
import stat
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scanner.engine import previews
from scanner.findings.collect import portable_fingerprint
from scanner.inventory.importers._common import slug
from scanner.inventory.model import Credential, Identity, Inventory, Owner, Tool
from scanner.model import (
    Finding,
    Location,
    Match,
    Provenance,
    ScanResult,
    Skip,
    confidence_rank,
)
from scanner.pipeline.engines import get_engine
from scanner.pipeline.options import EngineSpec, ScanOptions
from scanner.pipeline.run import ScanRun
from scanner.pipeline.workers import pool_context
from scanner.rules.model import Rule, RuleSet
from scanner.sources.workstation.config import (
    CONFIG_ERRORS,
    ParsedConfig,
    ServerBlock,
    parse_config,
    parse_document,
)
from scanner.sources.workstation.layout import ClientFile, Discovery, Machine, discover
from scanner.sources.workstation.nodes import LineIndex
from scanner.sources.workstation.risks import (
    FILE_MODE,
    PLAIN_HTTP,
    UNPINNED,
    Risk,
    executes_code,
    file_mode_risk,
    package_of,
    server_risks,
    system_of,
)
from scanner.sources.workstation.stores import (
    Record,
    StoreChanged,
    StoreError,
    fold,
    read_records,
    rewrite_records,
)
from scanner.sources.workstation.transcript import (
    ESCAPED_STRING,
    DecodedView,
    RoleFinder,
    blanked_view,
    chunks,
    decoded_view,
    line_span,
)
from scanner.sources.workstation.versions import client_versions

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE = 0, 1, 2, 3
CONFIG_KINDS = ("mcp", "settings", "credentials", "env")
TRANSCRIPT_KINDS = ("transcript", "tool-output", "store")  # scanned in workers when there is much of them
PARALLEL_BYTES = 8 << 20  # below this much transcript text a worker pool costs more than it saves
OWNER_KINDS = {"user": "user", "team": "team", "group": "group"}
RISK_KIND = "config-risk"


def _risk_rule(rule_id: str, name: str, remediation: str, reference: str) -> Rule:
    """A config risk's rule: never matched by the engine (no pattern), named so every report can describe it."""
    return Rule(rule_id, name, "mcp", RISK_KIND, pattern="", keywords=(), privilege="test", lifetime="static",
                confidence="low", remediation=remediation, references=(reference,))


RISK_RULES = {r.id: r for r in (
    _risk_rule(UNPINNED, "MCP server launched from an unpinned package",
               "Pin the package to an exact version (name@1.2.3, name==1.2.3).",
               "https://modelcontextprotocol.io/docs/tools/debugging"),
    _risk_rule(PLAIN_HTTP, "Remote MCP server over plain http", "Reach the server over https.",
               "https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices"),
    _risk_rule(FILE_MODE, "Credentials file readable by others", "chmod 600 the file.",
               "https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices"),
)}


# ---- the report ---------------------------------------------------------------------------------

@dataclass
class WorkstationOptions:
    home: Path | None = None
    platform: str | None = None  # linux | macos | windows; None: this machine's
    system_root: Path | None = None  # where managed (system-wide) files live; None: / or C:\\
    env: dict[str, str] | None = None  # CODEX_HOME, CLAUDE_CONFIG_DIR...; None: this process's
    clients: tuple[str, ...] = ()  # none: every client
    projects: tuple[Path, ...] = ()
    owner: str | None = None  # user:NAME; None: the OS user
    host: str | None = None
    min_confidence: str = "medium"
    jobs: int = 0  # worker processes for transcripts (0: every core; 1: none)
    show_secrets: bool = False


@dataclass
class ServerEntry:
    """One MCP server declaration, without its values (they may be secrets)."""

    client: str
    scope: str
    name: str
    path: str
    line: int
    transport: str
    command: str = ""
    package: str = ""
    url: str = ""  # scheme, host and path only
    project: str | None = None
    env_vars: list[str] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)  # setting -> env:X / input:x (never a value)
    executes_code: bool = False
    system: str = ""


@dataclass
class Problem:
    path: str
    client: str
    reason: str


@dataclass
class ScannedFile:
    """What was read, to refuse redacting a file that changed since, and which secrets it holds."""

    file: ClientFile
    sha256: str  # of the bytes read, for a file that holds secrets (the only files redacted); else ""
    secrets: set[str] = field(default_factory=set, repr=False)


@dataclass
class RedactOutcome:
    path: str
    status: str  # redacted | changed | failed
    backup: str = ""
    masked: int = 0
    reason: str = ""


@dataclass(slots=True)
class Attributed:
    """One engine match, moved to its place in the raw file, with the client, server or session it belongs to."""

    match: Match
    provenance: Provenance
    path: str  # the file, or for a store record `store!table/key`


@dataclass
class ClientFileOutcome:
    """What scanning one file produced (in this process or a worker)."""

    scanned: ScannedFile | None = None
    size: int = 0
    hits: list[Attributed] = field(default_factory=list)
    risks: list[tuple[Risk, Provenance, int, int]] = field(default_factory=list)  # risk, where, line, column
    servers: list[ServerEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    references: int = 0
    allowed_inline: int = 0
    below_confidence: int = 0


@dataclass
class WorkstationReport:
    """The machine (host, user, clients, MCP servers) and `result`, an ordinary ScanResult whose findings'
    locations carry the client, scope, server and field, or session and role, in their Provenance: every
    report format and the datastore serve it as they serve any scan (tests/test_workstation_reports.py)."""

    host: str
    user: str
    owner: str
    platform: str
    home: str
    result: ScanResult
    versions: dict[str, str] = field(default_factory=dict)
    servers: list[ServerEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    references: int = 0  # values that name a secret elsewhere (not findings)
    scanned: dict[str, ScannedFile] = field(default_factory=dict, repr=False)

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings

    @property
    def exit_code(self) -> int:
        """As every scan's (DESIGN section 9): 1 with findings, else 3 when something could not be read, else 0."""
        if self.findings:
            return EXIT_FINDINGS
        return EXIT_UNREADABLE if self.problems else EXIT_CLEAN

    def machine(self) -> dict:
        """What a fleet collects besides the findings: host, user, client versions, servers, problems."""
        from dataclasses import asdict

        return {"host": self.host, "user": self.user, "owner": self.owner, "platform": self.platform,
                "home": self.home, "clients": self._clients(), "files": len(self.scanned),
                "servers": [asdict(s) for s in self.servers], "problems": [asdict(p) for p in self.problems],
                "references_skipped": self.references, "exit_code": self.exit_code}

    def _clients(self) -> dict[str, dict]:
        out: dict[str, dict] = {}

        def entry(client: str) -> dict:
            return out.setdefault(client, {"version": self.versions.get(client), "files": 0, "servers": 0,
                                           "findings": 0})

        for scanned in self.scanned.values():
            entry(scanned.file.client)["files"] += 1
        for s in self.servers:
            entry(s.client)["servers"] += 1
        for f in self.findings:
            for client in dict.fromkeys(loc.provenance.client for loc in f.locations):
                entry(client)["findings"] += 1
        return dict(sorted(out.items()))


def placed(report: WorkstationReport) -> Iterator[tuple[Finding, Location]]:
    """Every (finding, location) pair: one per place a secret or risk was seen."""
    for f in report.findings:
        for loc in f.locations:
            yield f, loc


# ---- the scan -----------------------------------------------------------------------------------

def parse_owner(owner: str | None) -> str:
    """`user:NAME` (or team:/group:); the OS user when not given. ValueError for anything else."""
    if not owner:
        return f"user:{slug(getpass.getuser())}"
    kind, sep, name = owner.partition(":")
    if not sep or kind not in OWNER_KINDS or not name.strip():
        raise ValueError(f"owner {owner!r} is not user:NAME (or team:NAME)")
    return f"{kind}:{slug(name)}"


def display_path(path: Path, home: Path) -> str:
    """~/... under the home (what the engine sees, so a fake home in a test folder is no test file)."""
    try:
        return "~/" + path.relative_to(home).as_posix()
    except ValueError:
        return str(path)


def scan_workstation(options: WorkstationOptions) -> WorkstationReport:
    """Discover and scan every client file; transcripts in worker processes when there is enough of them.
    Matches are gathered by credential as any scan's are (ScanRun), config risks added as low findings."""
    env = options.env
    if env is None and options.home is not None and Path(options.home).resolve() != Path.home().resolve():
        env = {}  # this process's CODEX_HOME or CLAUDE_CONFIG_DIR say nothing about another user's home
    machine = Machine.current(options.home, options.platform, options.system_root, env)
    found = discover(machine, options.clients, options.projects)
    owner = parse_owner(options.owner)
    run = ScanRun(ScanOptions(min_confidence=options.min_confidence, show_secrets=options.show_secrets))
    run.stats.unit = "file"
    risks: list[Finding] = []
    report = WorkstationReport(options.host or socket.gethostname(), owner.partition(":")[2], owner,
                               machine.platform, str(machine.home), ScanResult([], run.stats, run.engine.ruleset),
                               client_versions(found))
    for outcome in _outcomes(found.files, machine, options):
        _gather(report, run, risks, outcome)
    report.result = _finish(run, risks)
    _mark_code_reach(report)
    return report


def _gather(report: WorkstationReport, run: ScanRun, risks: list[Finding], out: ClientFileOutcome) -> None:
    if out.scanned is not None:
        report.scanned[str(out.scanned.file.path)] = out.scanned
        run.stats.files += 1
        run.stats.bytes += out.size
    for hit in out.hits:
        run.collect([hit.match], hit.path, "workstation", hit.provenance)
    for risk, where, line, column in out.risks:
        risks.append(_risk_finding(risk, str(out.scanned.file.path) if out.scanned else "", where, line, column))
    for p in out.problems:
        run.stats.skipped.append(Skip(p.path, p.reason, incomplete=True))
    report.servers += out.servers
    report.problems += out.problems
    report.references += out.references
    run.stats.allowed_inline += out.allowed_inline
    run.stats.below_confidence += out.below_confidence


def _finish(run: ScanRun, risks: list[Finding]) -> ScanResult:
    """The secrets as any scan's findings, then the config risks (rules of their own, so SARIF can name them)."""
    result = run.finish()
    result.findings += risks
    if risks:
        result.ruleset = result.ruleset.extended(RuleSet([RISK_RULES[r] for r in sorted({f.rule_id for f in risks})]))
    return result


def _risk_finding(risk: Risk, path: str, where: Provenance, line: int, column: int) -> Finding:
    """A config risk as a Finding: kind config-risk, confidence low (its severity), keyed by file, server and
    setting (no secret in it)."""
    rule = RISK_RULES[risk.rule_id]
    fingerprint = portable_fingerprint(rule.id, "\x00".join((path, where.server, risk.field, risk.key)))
    return Finding(rule.id, rule.name, rule.provider, rule.kind, fingerprint, risk.key, "low", 0.0, rule.privilege,
                   rule.lifetime, rule.remediation, [risk.message],
                   [Location(path, line, column, "workstation", where)])


def _outcomes(files: list[ClientFile], machine: Machine, options: WorkstationOptions) -> Iterator[ClientFileOutcome]:
    transcripts = [f for f in files if f.kind in TRANSCRIPT_KINDS]
    for file in files:
        if file.kind not in TRANSCRIPT_KINDS:
            yield scan_client_file(file, machine, options.min_confidence)
    jobs = options.jobs or os.cpu_count() or 1
    if jobs == 1 or len(transcripts) < 2 or _size(transcripts) < PARALLEL_BYTES:
        for file in transcripts:
            yield scan_client_file(file, machine, options.min_confidence)
        return
    ctx = pool_context()
    # Largest first, one file a task: the workers stay busy to the end (a task of many files, cut from a
    # list in size order, left one worker with the largest files while the other idled).
    largest_first = sorted(transcripts, key=_file_size, reverse=True)
    with ProcessPoolExecutor(max_workers=min(jobs, len(transcripts)), mp_context=ctx) as pool:
        yield from pool.map(scan_client_file, largest_first, [machine] * len(transcripts),
                            [options.min_confidence] * len(transcripts))


def _file_size(f: ClientFile) -> int:
    try:
        return f.path.stat().st_size
    except OSError:
        return 0


def _size(files: list[ClientFile]) -> int:
    return sum(_file_size(f) for f in files)


def scan_client_file(file: ClientFile, machine: Machine, min_confidence: str) -> ClientFileOutcome:
    """One client file: read once, scanned, every hit attributed; an unreadable file is a Problem."""
    if file.kind == "store":
        return _scan_store(file, machine, min_confidence)
    out = ClientFileOutcome()
    try:
        data = file.path.read_bytes()
        mode = file.path.stat().st_mode
    except OSError as exc:
        out.problems.append(Problem(str(file.path), file.client, f"unreadable: {exc.strerror or exc}"))
        return out
    out.scanned = ScannedFile(file, "")
    out.size = len(data)
    shown = display_path(file.path, machine.home)
    gate = _Gate(min_confidence, out)
    if file.kind in TRANSCRIPT_KINDS:
        _scan_transcript(file, data, shown, gate, out)
    else:
        _scan_config(file, data, shown, gate, out)
    if out.scanned.secrets:  # only a file with secrets is ever redacted, and refused if it changed since
        out.scanned.sha256 = hashlib.sha256(data).hexdigest()
    if file.kind in ("credentials", "env") or out.scanned.secrets:
        _check_mode(file, mode, machine, out)
    return out


class _Gate:
    """The engine's matches for one blob, less what an inline marker allows or what is below the floor (counted)."""

    def __init__(self, min_confidence: str, out: ClientFileOutcome):
        self.floor, self.out = confidence_rank(min_confidence), out
        self.engine = get_engine(EngineSpec())

    def matches(self, data: bytes, shown: str) -> list[Match]:
        kept = []
        for m in self.engine.scan(data, shown):
            if m.allowed_by:
                self.out.allowed_inline += 1
            elif confidence_rank(m.confidence) < self.floor:
                self.out.below_confidence += 1
            else:
                kept.append(m)
        return kept


def _where(file: ClientFile, **kw: str | None) -> Provenance:
    """A provenance naming the client file's client, scope and project, and whatever else is known."""
    media = "transcript" if file.kind in TRANSCRIPT_KINDS else ""
    values = {"client": file.client, "scope": file.scope, "project": file.project or "", "media": media}
    values.update({k: v or "" for k, v in kw.items()})
    return Provenance(**values)  # type: ignore[arg-type]


def _scan_config(file: ClientFile, data: bytes, shown: str, gate: _Gate, out: ClientFileOutcome) -> None:
    assert out.scanned is not None
    scanned = out.scanned
    parsed: ParsedConfig | None
    try:
        parsed = parse_config(data, file)
    except CONFIG_ERRORS as exc:
        out.problems.append(Problem(str(file.path), file.client, f"not valid {file.fmt}: {exc}"))
        parsed = None
    lines = LineIndex(data)
    for m in gate.matches(data, shown):
        if parsed is not None and parsed.is_reference(m.start, m.end):
            out.references += 1
            continue
        where = parsed.attribute(m.start) if parsed is not None else None
        project = (where.project if where else None) or file.project
        scanned.secrets.add(m.secret)
        m.line, m.column = lines.position(m.start)
        out.hits.append(Attributed(m, _where(
            file, scope=_scope(file, where.project if where else None), project=project,
            server=where.server if where else None, field=where.field if where else "other",
            setting=where.key if where else ""), str(file.path)))
    if parsed is None:
        return
    for server in parsed.servers:
        _add_server(file, server, lines, out)


def _scope(file: ClientFile, project: str | None) -> str:
    """A server a user-level file declares for one project (Claude Code's projects.<path>) is project scope."""
    return "project" if project and not file.project else file.scope


def _add_server(file: ClientFile, server: ServerBlock, lines: LineIndex, out: ClientFileOutcome) -> None:
    line, column = lines.position(server.start)
    url = ""
    if server.url:
        from urllib.parse import urlsplit

        parts = urlsplit(server.url)
        url = f"{parts.scheme}://{parts.hostname or ''}{parts.path}"
    command = (server.command or "").replace("\\", "/").rsplit("/", 1)[-1]
    scope = _scope(file, server.project)
    out.servers.append(ServerEntry(
        file.client, scope, server.name, str(file.path), line, server.transport, command,
        package_of(server) or "", url, server.project or file.project,
        sorted(set(server.env) | set(server.env_refs)), server.references(), executes_code(server),
        system_of(server)))
    for risk in server_risks(server):
        where = _where(file, scope=scope, project=server.project or file.project, server=server.name,
                       field=risk.field, setting=risk.key)
        out.risks.append((risk, where, line, column))


def _check_mode(file: ClientFile, mode: int, machine: Machine, out: ClientFileOutcome) -> None:
    if machine.platform == "windows" or os.name != "posix":
        return  # Windows files carry ACLs, not modes
    risk = file_mode_risk(mode)
    if risk:
        out.risks.append((risk, _where(file, field=risk.field, setting=risk.key), 1, 1))


def _scan_transcript(file: ClientFile, data: bytes, shown: str, gate: _Gate, out: ClientFileOutcome) -> None:
    _scan_chat(file, data, file.fmt, (shown, str(file.path)), _session(file), gate, out)


def _scan_store(file: ClientFile, machine: Machine, min_confidence: str) -> ClientFileOutcome:
    """A SQLite transcript store: each JSON record scanned as a transcript, named `store!table/key`. The
    digest of the records read (stores.digest) stands for the file's hash: --redact refuses a store whose
    records changed since."""
    out = ClientFileOutcome()
    try:
        size, mode = file.path.stat().st_size, file.path.stat().st_mode
        out.scanned = ScannedFile(file, "")
        out.size = size
        shown = display_path(file.path, machine.home)
        gate = _Gate(min_confidence, out)
        read = hashlib.sha256()
        for record in read_records(file.path, file.fmt):
            fold(read, record)
            member = f"!{record.member}"
            _scan_chat(file, record.data, "json", (shown + member, str(file.path) + member), record.session, gate,
                       out)
    except (OSError, StoreError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        out.problems.append(Problem(str(file.path), file.client, f"unreadable {file.fmt} store: {reason}"))
        return out
    if out.scanned.secrets:
        out.scanned.sha256 = read.hexdigest()
        _check_mode(file, mode, machine, out)
    return out


def _scan_chat(file: ClientFile, data: bytes, fmt: str, names: tuple[str, str], session: str, gate: _Gate,
               out: ClientFileOutcome) -> None:
    """One transcript's bytes (a file, or a store's record): escapes blanked in place (blanked_view: offsets
    are the file's), each hit named by session and role. A line where that cannot show a secret as the file
    holds it (an odd escape, or a match spanning a blanked escape) is decoded token by token instead
    (decoded_view) and its hits moved back to the raw line. names: (what the engine sees, what reports show)."""
    assert out.scanned is not None
    shown, path = names
    hits = _ChatHits(file, data, fmt, path, session, out)
    for base, chunk in chunks(data):
        if fmt == "text":
            for m in gate.matches(chunk, shown):
                hits.add(m, base + m.start)
            continue
        blanked = blanked_view(chunk)
        view, slow = blanked.blob, set(blanked.odd_lines)
        for m in gate.matches(view, shown):
            if view[m.start:m.end] != chunk[m.start:m.end]:
                slow.add(line_span(chunk, m.start))  # the match took in an escape: read that line decoded
            else:
                hits.add(m, base + m.start)
        for lo, hi in sorted(slow):
            decoded = decoded_view(chunk[lo:hi], base + lo)
            for m in gate.matches(decoded.blob, shown):
                hits.add(m, _raw_offset(data, decoded, m.start, m.secret))


class _ChatHits:
    """The hits of one transcript, each kept once (a line read both ways finds a secret twice), with its
    raw line, column and span, session and role."""

    def __init__(self, file: ClientFile, data: bytes, fmt: str, path: str, session: str, out: ClientFileOutcome):
        self.file, self.data, self.path, self.session, self.out = file, data, path, session, out
        self.roles = RoleFinder(data, fmt)
        self._lines: LineIndex | None = None  # built at the first hit: most transcripts hold none
        self.seen: set[tuple[str, str, int]] = set()

    def add(self, m: Match, offset: int) -> None:
        if (m.rule_id, m.secret, offset) in self.seen:
            return
        self.seen.add((m.rule_id, m.secret, offset))
        assert self.out.scanned is not None
        self.out.scanned.secrets.add(m.secret)
        if self._lines is None:
            self._lines = LineIndex(self.data)
        m.line, m.column = self._lines.position(offset)
        m.start, m.end = offset, offset + len(m.secret.encode())
        self.out.hits.append(Attributed(m, _where(self.file, field="content", session=self.session,
                                                  role=self.roles.role_at(offset)), self.path))


def _session(file: ClientFile) -> str:
    """The session id: a transcript's stem; a side file's session folder (<session>/tool-results/x, <session>/subagents/x)."""
    parent = file.path.parent
    if parent.name in ("tool-results", "subagents"):
        return parent.parent.name if file.kind == "tool-output" else f"{parent.parent.name}/{file.path.stem}"
    return file.path.stem


def _raw_offset(data: bytes, view: DecodedView, blob_offset: int, secret: str) -> int:
    """Where in the raw file a hit in a decoded view is: exact, or inside the escaped string token that held it."""
    offset, decoded = view.raw_offset(blob_offset)
    if decoded:
        token_end = data.find(b"\n", offset)
        exact = data.find(secret.encode(), offset, len(data) if token_end < 0 else token_end)
        return exact if exact >= 0 else offset
    return offset


CODE_REACH = "a server of the same client runs code: it can read this secret"


def _mark_code_reach(report: WorkstationReport) -> None:
    """A client with a code-running server exposes every credential that client holds (DESIGN.md section 8)."""
    running = {s.client for s in report.servers if s.executes_code}
    for f in report.findings:
        if f.kind != RISK_KIND and any(loc.provenance.client in running for loc in f.locations):
            f.reasons.append(CODE_REACH)


# ---- inventory ----------------------------------------------------------------------------------

def to_inventory(report: WorkstationReport) -> Inventory:
    """The workstation user owns each client (an agent) and each of its MCP servers (one identity per client,
    scope and server); literal secrets found in a server's block become its credentials (fingerprint only)."""
    source = f"workstation:{report.host}"
    kind = report.owner.partition(":")[0]
    inv = Inventory(owners=[Owner(report.owner, type=kind, name=report.user, source=source)])
    identities: dict[str, Identity] = {}
    credentials: dict[str, Credential] = {}
    for s in report.servers:
        iid = f"mcp_server:{s.client}/{s.scope}/{slug(s.name)}"
        ident = identities.get(iid)
        if ident is None:
            tools = [Tool(name=slug(s.name), system=s.system, via="mcp")]
            if s.executes_code:
                tools.append(Tool(name="shell", system=s.system, via="mcp"))
            ident = identities[iid] = Identity(
                iid, "mcp_server", owner=report.owner, environment="local",
                purpose=f"MCP server ({s.transport}) {s.package or s.command or s.url} of {s.client} on {report.host}",
                tools=tools, source=source)
        if s.path not in ident.configs:
            ident.configs.append(s.path)
        agent_id = f"agent:{s.client}@{slug(report.host)}"
        agent = identities.setdefault(agent_id, Identity(agent_id, "agent", owner=report.owner, environment="local",
                                                         purpose=f"{s.client} on {report.host}", source=source))
        if not any(t.name == slug(s.name) for t in agent.tools):
            agent.tools.append(Tool(name=slug(s.name), system=s.system, via="mcp"))
        if s.executes_code and not any(t.executes_code for t in agent.tools):
            agent.tools.append(Tool(name="shell", system=s.system, via="mcp"))  # the client runs code: whole toolset
    for f, loc in placed(report):
        p = loc.provenance
        if f.kind == RISK_KIND or not p.server:
            continue
        iid = f"mcp_server:{p.client}/{p.scope}/{slug(p.server)}"
        if iid in identities:
            _credential(identities[iid], credentials, p.setting or f.rule_id, source, Credential(
                "", provider=f.provider, type=f.rule_id, fingerprint=f.fingerprint, ttl="static",
                env_vars=[p.setting] if p.field == "env" and p.setting else []))
    for s in report.servers:
        ident = identities[f"mcp_server:{s.client}/{s.scope}/{slug(s.name)}"]
        for setting, ref in s.references.items():
            names = [setting] + ([ref[4:]] if ref.startswith("env:") and ref[4:] != setting else [])
            _credential(ident, credentials, setting, source, Credential("", secret_ref=ref, env_vars=names))
    inv.identities = list(identities.values())
    inv.credentials = list(credentials.values())
    return inv


def _credential(ident: Identity, credentials: dict[str, Credential], setting: str, source: str,
                cred: Credential) -> None:
    """One credential per server and setting: the first fact (a found secret before a reference) wins."""
    cred.id = f"cred:{ident.id.split(':', 1)[1]}/{slug(setting)}"
    cred.source = source
    if cred.id not in credentials:
        credentials[cred.id] = cred
        ident.credentials.append(cred.id)


# ---- redaction ----------------------------------------------------------------------------------

class RedactionError(Exception):
    pass


def redact_in_place(report: WorkstationReport, backup_dir: Path | None = None,
                    only: Iterable[str] | None = None) -> list[RedactOutcome]:
    """Mask every secret found in each file, after a 0600 backup (next to it, or under backup_dir).

    Fails closed per file: a file whose bytes changed since the scan, or whose masked form would leave a
    secret, break a JSON line or stop the config parsing, is not touched."""
    wanted = set(only) if only is not None else None
    outcomes = []
    for path, scanned in report.scanned.items():
        if not scanned.secrets or (wanted is not None and path not in wanted):
            continue
        outcomes.append(_redact_file(Path(path), scanned, Path(report.home), backup_dir))
    return outcomes


def _redact_file(path: Path, scanned: ScannedFile, home: Path, backup_dir: Path | None) -> RedactOutcome:
    if scanned.file.kind == "store":
        return _redact_store(path, scanned, home, backup_dir)
    try:
        original = path.read_bytes()
        if hashlib.sha256(original).hexdigest() != scanned.sha256:
            return RedactOutcome(str(path), "changed", reason="changed since it was read; scan it again")
        masked, count = mask_secrets(original, scanned.secrets, json_like=scanned.file.fmt != "dotenv")
        _check_masked(original, masked, scanned)
        backup = _backup(path, original, home, backup_dir)
        _replace(path, masked, scanned.sha256)
    except RedactionError as exc:
        return RedactOutcome(str(path), "failed", reason=str(exc))
    except OSError as exc:
        return RedactOutcome(str(path), "failed", reason=exc.strerror or str(exc))
    return RedactOutcome(str(path), "redacted", str(backup), count)


def _redact_store(path: Path, scanned: ScannedFile, home: Path, backup_dir: Path | None) -> RedactOutcome:
    """Each record of a chat database holding a secret masked inside its JSON (decompressed, then compressed
    again), after a 0600 backup of the database, in one transaction (stores.rewrite_records); refused, and the
    database untouched, when its records changed since the scan, a running client holds it locked, or a
    masked record would keep a secret or stop parsing (tests/test_workstation_store_redact.py)."""
    masked = 0

    def change(record: Record) -> bytes | None:
        nonlocal masked
        new, count = mask_secrets(record.data, scanned.secrets)
        if not count:
            return None
        _check_record(record, new, scanned.secrets)
        masked += count
        return new

    made: list[Path] = []

    def backup(conn: sqlite3.Connection) -> Path:
        made.append(_reserve_backup(path, home, backup_dir))
        with closing(sqlite3.connect(made[0])) as copy:
            conn.backup(copy)
        os.chmod(made[0], 0o600)
        return made[0]

    try:
        rewritten, saved = rewrite_records(path, scanned.file.fmt, scanned.sha256, change, backup)
    except (StoreError, RedactionError, OSError, sqlite3.Error) as exc:
        for target in made:  # the database is as it was: no second copy of its secrets is left behind
            target.unlink(missing_ok=True)
        if isinstance(exc, StoreChanged):
            return RedactOutcome(str(path), "changed", reason=str(exc))
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return RedactOutcome(str(path), "failed", reason=reason)
    if not rewritten:
        return RedactOutcome(str(path), "failed", reason="no secret found in it any more; scan it again")
    return RedactOutcome(str(path), "redacted", str(saved), masked)


def _check_record(record: Record, masked: bytes, secrets: set[str]) -> None:
    """A masked record keeps no secret (raw or decoded) and, if it was JSON, still parses."""
    view = decoded_view(masked).blob
    if any(s.encode() in masked or s.encode() in view for s in secrets):
        raise RedactionError(f"a secret would remain in {record.member} after masking")
    if _json_line(record.data) and not _json_line(masked):
        raise RedactionError(f"masking would break the JSON of {record.member}")


def mask_secrets(data: bytes, secrets: Iterable[str], json_like: bool = True) -> tuple[bytes, int]:
    """Each secret replaced by its same-length mask, as written raw, JSON-escaped, or inside an escaped string."""
    count = 0
    ordered = sorted(set(secrets), key=len, reverse=True)
    for secret in ordered:
        raw, mask = secret.encode(), previews.mask(secret.encode())
        forms = {raw: mask}
        if json_like:
            forms[json.dumps(secret)[1:-1].encode()] = json.dumps(mask.decode())[1:-1].encode()
            forms[raw.replace(b"/", b"\\/")] = mask.replace(b"/", b"\\/")
        for form, replacement in forms.items():
            count += data.count(form)
            data = data.replace(form, replacement)
    if json_like:
        data, more = _mask_escaped_tokens(data, ordered)
        count += more
    return data, count


def _mask_escaped_tokens(data: bytes, secrets: list[str]) -> tuple[bytes, int]:
    """Re-encode the escaped JSON strings whose decoded text still holds a secret (escapes inside it)."""
    parts, pos, count = [], 0, 0
    for m in ESCAPED_STRING.finditer(data):
        try:
            text = json.loads(m.group().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            continue
        hits = [s for s in secrets if s in text]
        if not hits:
            continue
        for s in hits:
            count += text.count(s)
            text = text.replace(s, previews.mask(s.encode()).decode())
        parts += [data[pos:m.start()], json.dumps(text, ensure_ascii=False).encode()]
        pos = m.end()
    if not parts:
        return data, 0
    parts.append(data[pos:])
    return b"".join(parts), count


def _check_masked(original: bytes, masked: bytes, scanned: ScannedFile) -> None:
    """No secret left (raw or decoded), and the file still reads as it did (each JSON line, the whole config)."""
    fmt = scanned.file.fmt
    view = decoded_view(masked).blob if fmt != "dotenv" else masked
    for secret in scanned.secrets:
        if secret.encode() in masked or secret.encode() in view:
            raise RedactionError("a secret would remain after masking")
    if fmt == "jsonl":
        before, after = original.split(b"\n"), masked.split(b"\n")
        if len(before) != len(after):
            raise RedactionError("masking would change the number of lines")
        for n, (old, new) in enumerate(zip(before, after), 1):
            if old != new and _json_line(old) and not _json_line(new):
                raise RedactionError(f"masking would break JSON line {n}")
    elif fmt in ("json", "jsonc", "toml", "yaml") and _parses(original, fmt) and not _parses(masked, fmt):
        raise RedactionError(f"masking would stop the {fmt} file parsing")


def _json_line(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def _parses(data: bytes, fmt: str) -> bool:
    try:
        if fmt == "yaml":
            yaml.safe_load(data)
        elif fmt == "toml":
            tomllib.loads(data.decode("utf-8"))
        else:
            parse_document(data, fmt)
    except (*CONFIG_ERRORS, tomllib.TOMLDecodeError):
        return False
    return True


def _backup(path: Path, original: bytes, home: Path, backup_dir: Path | None) -> Path:
    target = _reserve_backup(path, home, backup_dir)
    with open(target, "wb") as fh:
        fh.write(original)
        fh.flush()
        os.fsync(fh.fileno())
    return target


def _reserve_backup(path: Path, home: Path, backup_dir: Path | None) -> Path:
    """A new, empty file 0600 for the backup of `path`: next to it, or under backup_dir mirroring the home;
    a name already taken gets a number (never overwritten)."""
    if backup_dir is None:
        target = path.with_name(path.name + ".sprawl-backup")
    else:
        try:
            relative = path.relative_to(home)
        except ValueError:
            relative = Path(*path.parts[1:])
        target = backup_dir / relative
        os.makedirs(target.parent, mode=0o700, exist_ok=True)
    candidate, n = target, 1
    while True:
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            n += 1
            candidate = target.with_name(f"{target.name}.{n}")
    os.close(fd)
    os.chmod(candidate, 0o600)
    return candidate


def _replace(path: Path, data: bytes, expected_sha256: str) -> None:
    """Atomic rewrite keeping the file's mode; refuses if the file changed while we worked."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".sprawl-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected_sha256:
            raise RedactionError("changed while it was being redacted")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def discovery_of(options: WorkstationOptions) -> Discovery:
    """What `scan_workstation` would read, without reading it."""
    machine = Machine.current(options.home, options.platform, options.system_root, options.env)
    return discover(machine, options.clients, options.projects)
