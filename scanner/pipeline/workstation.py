"""`sprawl workstation`: the AI clients' configs and transcripts on one machine, scanned and attributed.

discover (scanner.sources.workstation) -> read each file -> engine (through `engine_hits`, the one call
into the scan library) -> each hit tied to its client, scope, MCP server and field (configs) or
session, line and role (transcripts) -> references dropped -> config risks added -> a report that
also yields inventory entries and can redact the files in place.

Invariants (tests/test_workstation.py): every planted secret is found with its client and server, no
reference is reported; after `redact_in_place` no secret remains, every JSON line and config still
parses, the backup holds the original with mode 0600, and a file changed since it was read is left alone.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import multiprocessing
import os
import socket
import stat
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scanner.engine import previews
from scanner.inventory.importers._common import slug
from scanner.inventory.model import Credential, Identity, Inventory, Owner, Tool
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
    executes_code,
    file_mode_risk,
    package_of,
    server_risks,
    system_of,
)
from scanner.sources.workstation.transcript import (
    ESCAPED_STRING,
    DecodedView,
    RoleFinder,
    chunks,
    decoded_view,
)
from scanner.sources.workstation.versions import client_versions

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNREADABLE = 0, 1, 2, 3
CONFIG_KINDS = ("mcp", "settings", "credentials", "env")
TRANSCRIPT_KINDS = ("transcript", "tool-output")
PARALLEL_BYTES = 8 << 20  # below this much transcript text a worker pool costs more than it saves
OWNER_KINDS = {"user": "user", "team": "team", "group": "group"}


# ---- the one call into the scan library (re-pointed when the pipeline is restructured) ----------

@dataclass(slots=True)
class EngineHit:
    rule_id: str
    preview: str
    fingerprint: str
    confidence: str
    line: int  # 1-based, in the bytes scanned
    column: int  # 1-based, in bytes
    secret: str  # memory only: for masking and locating; never reported


def engine_hits(data: bytes, path: str, min_confidence: str) -> list[EngineHit]:
    """Every occurrence of a secret in data, as the engine reports it for a file named path."""
    from scanner.pipeline.memory import scan_bytes
    from scanner.pipeline.options import ScanOptions

    result = scan_bytes(data, path, ScanOptions(min_confidence=min_confidence), source="workstation")
    return [EngineHit(f.rule_id, f.preview, f.fingerprint, f.confidence, loc.line, loc.column,
                      result.secrets.get(f.fingerprint, ""))
            for f in result.findings for loc in f.locations]


# ---- the report ---------------------------------------------------------------------------------

@dataclass
class WorkstationOptions:
    home: Path | None = None
    platform: str | None = None  # linux | macos | windows; None: this machine's
    system_root: Path | None = None  # where managed (system-wide) files live; None: / or C:\
    env: dict[str, str] | None = None  # CODEX_HOME, CLAUDE_CONFIG_DIR...; None: this process's
    clients: tuple[str, ...] = ()  # none: every client
    projects: tuple[Path, ...] = ()
    owner: str | None = None  # user:NAME; None: the OS user
    host: str | None = None
    min_confidence: str = "medium"
    jobs: int = 0  # worker processes for transcripts (0: every core; 1: none)


@dataclass
class WorkstationFinding:
    """A secret (kind "secret") or a config risk (kind "config-risk") in one client file."""

    kind: str
    rule_id: str
    client: str
    scope: str  # user | project | managed
    path: str
    line: int
    column: int
    server: str | None = None
    field: str = ""  # env, args, headers, url, command, other (configs); content (transcripts)
    key: str = ""  # the variable, header or setting name
    project: str | None = None
    session: str | None = None  # transcripts: the session file's id
    role: str | None = None  # transcripts: user, assistant, tool_result, system, unknown
    preview: str = ""
    fingerprint: str = ""
    confidence: str = ""
    severity: str = "high"
    message: str = ""
    client_executes_code: bool = False  # a server of the same client runs code: it can reach this secret


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
    sha256: str
    secrets: set[str] = field(default_factory=set, repr=False)


@dataclass
class RedactOutcome:
    path: str
    status: str  # redacted | changed | failed
    backup: str = ""
    masked: int = 0
    reason: str = ""


@dataclass
class FileOutcome:
    """What scanning one file produced (in this process or a worker)."""

    scanned: ScannedFile | None = None
    findings: list[WorkstationFinding] = field(default_factory=list)
    servers: list[ServerEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    references: int = 0


@dataclass
class WorkstationReport:
    host: str
    user: str
    owner: str
    platform: str
    home: str
    versions: dict[str, str] = field(default_factory=dict)
    files: int = 0
    findings: list[WorkstationFinding] = field(default_factory=list)
    servers: list[ServerEntry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    references: int = 0  # values that name a secret elsewhere (not findings)
    scanned: dict[str, ScannedFile] = field(default_factory=dict, repr=False)

    def add(self, out: FileOutcome) -> None:
        if out.scanned is not None:
            self.files += 1
            self.scanned[str(out.scanned.file.path)] = out.scanned
        self.findings += out.findings
        self.servers += out.servers
        self.problems += out.problems
        self.references += out.references

    @property
    def exit_code(self) -> int:
        """3 when something could not be read (the result is incomplete), else 1 with findings, else 0."""
        if self.problems:
            return EXIT_UNREADABLE
        return EXIT_FINDINGS if self.findings else EXIT_CLEAN

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return {"host": self.host, "user": self.user, "owner": self.owner, "platform": self.platform,
                "home": self.home, "clients": self._clients(), "files": self.files,
                "findings": [asdict(f) for f in self.findings], "servers": [asdict(s) for s in self.servers],
                "problems": [asdict(p) for p in self.problems], "references_skipped": self.references,
                "exit_code": self.exit_code}

    def _clients(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for scanned in self.scanned.values():
            entry = out.setdefault(scanned.file.client, {"version": self.versions.get(scanned.file.client),
                                                          "files": 0, "servers": 0, "findings": 0})
            entry["files"] += 1
        for s in self.servers:
            out.setdefault(s.client, {"version": self.versions.get(s.client), "files": 0, "servers": 0,
                                      "findings": 0})["servers"] += 1
        for f in self.findings:
            out.setdefault(f.client, {"version": self.versions.get(f.client), "files": 0, "servers": 0,
                                      "findings": 0})["findings"] += 1
        return dict(sorted(out.items()))


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
    """Discover and scan every client file; transcripts in worker processes when there is enough of them."""
    env = options.env
    if env is None and options.home is not None and Path(options.home).resolve() != Path.home().resolve():
        env = {}  # this process's CODEX_HOME or CLAUDE_CONFIG_DIR say nothing about another user's home
    machine = Machine.current(options.home, options.platform, options.system_root, env)
    found = discover(machine, options.clients, options.projects)
    owner = parse_owner(options.owner)
    report = WorkstationReport(options.host or socket.gethostname(), owner.partition(":")[2], owner,
                               machine.platform, str(machine.home), client_versions(found))
    for outcome in _outcomes(found.files, machine, options):
        report.add(outcome)
    _mark_code_reach(report)
    return report


def _outcomes(files: list[ClientFile], machine: Machine, options: WorkstationOptions) -> Iterator[FileOutcome]:
    transcripts = [f for f in files if f.kind in TRANSCRIPT_KINDS]
    for file in files:
        if file.kind not in TRANSCRIPT_KINDS:
            yield scan_file(file, machine, options.min_confidence)
    jobs = options.jobs or os.cpu_count() or 1
    if jobs == 1 or len(transcripts) < 2 or _size(transcripts) < PARALLEL_BYTES:
        for file in transcripts:
            yield scan_file(file, machine, options.min_confidence)
        return
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(transcripts)), mp_context=ctx) as pool:
        yield from pool.map(scan_file, transcripts, [machine] * len(transcripts),
                            [options.min_confidence] * len(transcripts))


def _size(files: list[ClientFile]) -> int:
    total = 0
    for f in files:
        try:
            total += f.path.stat().st_size
        except OSError:
            pass
    return total


def scan_file(file: ClientFile, machine: Machine, min_confidence: str) -> FileOutcome:
    """One client file: read once, scanned, every hit attributed; an unreadable file is a Problem."""
    out = FileOutcome()
    try:
        data = file.path.read_bytes()
        mode = file.path.stat().st_mode
    except OSError as exc:
        out.problems.append(Problem(str(file.path), file.client, f"unreadable: {exc.strerror or exc}"))
        return out
    out.scanned = ScannedFile(file, hashlib.sha256(data).hexdigest())
    shown = display_path(file.path, machine.home)
    if file.kind in TRANSCRIPT_KINDS:
        _scan_transcript(file, data, shown, min_confidence, out)
    else:
        _scan_config(file, data, shown, min_confidence, out)
    if file.kind in ("credentials", "env") or out.scanned.secrets:
        _check_mode(file, mode, machine, out)
    return out


def _scan_config(file: ClientFile, data: bytes, shown: str, min_confidence: str, out: FileOutcome) -> None:
    assert out.scanned is not None
    scanned = out.scanned
    parsed: ParsedConfig | None
    try:
        parsed = parse_config(data, file)
    except CONFIG_ERRORS as exc:
        out.problems.append(Problem(str(file.path), file.client, f"not valid {file.fmt}: {exc}"))
        parsed = None
    lines = LineIndex(data)
    for hit in engine_hits(data, shown, min_confidence):
        start = lines.offset(hit.line, hit.column)
        end = start + len(hit.secret.encode())
        if parsed is not None and parsed.is_reference(start, end):
            out.references += 1
            continue
        where = parsed.attribute(start) if parsed is not None else None
        scanned.secrets.add(hit.secret)
        out.findings.append(WorkstationFinding(
            "secret", hit.rule_id, file.client, _scope(file, where.project if where else None), str(file.path),
            hit.line, hit.column,
            server=where.server if where else None, field=where.field if where else "other",
            key=where.key if where else "", project=(where.project if where else None) or file.project,
            preview=hit.preview, fingerprint=hit.fingerprint, confidence=hit.confidence,
            severity="high" if hit.confidence == "high" else "medium"))
    if parsed is None:
        return
    for server in parsed.servers:
        _add_server(file, server, lines, out)


def _scope(file: ClientFile, project: str | None) -> str:
    """A server a user-level file declares for one project (Claude Code's projects.<path>) is project scope."""
    return "project" if project and not file.project else file.scope


def _add_server(file: ClientFile, server: ServerBlock, lines: LineIndex, out: FileOutcome) -> None:
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
        out.findings.append(WorkstationFinding(
            "config-risk", risk.rule_id, file.client, scope, str(file.path), line, column, server=server.name,
            field=risk.field, key=risk.key, project=server.project or file.project, severity="low",
            confidence="high", message=risk.message))


def _check_mode(file: ClientFile, mode: int, machine: Machine, out: FileOutcome) -> None:
    if machine.platform == "windows" or os.name != "posix":
        return  # Windows files carry ACLs, not modes
    risk = file_mode_risk(mode)
    if risk:
        out.findings.append(WorkstationFinding(
            "config-risk", risk.rule_id, file.client, file.scope, str(file.path), 1, 1, field=risk.field,
            key=risk.key, project=file.project, severity="low", confidence="high", message=risk.message))


def _scan_transcript(file: ClientFile, data: bytes, shown: str, min_confidence: str, out: FileOutcome) -> None:
    assert out.scanned is not None
    scanned = out.scanned
    roles = RoleFinder(data, file.fmt)
    lines = LineIndex(data)
    session = _session(file)
    seen: set[tuple[str, int, int]] = set()
    for base, chunk in chunks(data):
        view = decoded_view(chunk, base) if file.fmt != "text" else None
        blob = view.blob if view else chunk
        blob_lines = LineIndex(blob)
        for hit in engine_hits(blob, shown, min_confidence):
            at = blob_lines.offset(hit.line, hit.column)
            offset = _raw_offset(data, view, base, at, hit.secret)
            line, column = lines.position(offset)
            if (hit.fingerprint, line, column) in seen:
                continue
            seen.add((hit.fingerprint, line, column))
            scanned.secrets.add(hit.secret)
            out.findings.append(WorkstationFinding(
                "secret", hit.rule_id, file.client, file.scope, str(file.path), line, column, field="content",
                project=file.project, session=session, role=roles.role_at(offset), preview=hit.preview,
                fingerprint=hit.fingerprint, confidence=hit.confidence,
                severity="high" if hit.confidence == "high" else "medium"))


def _session(file: ClientFile) -> str:
    """The session id: a transcript's stem; a side file's session folder (<session>/tool-results/x, <session>/subagents/x)."""
    parent = file.path.parent
    if parent.name in ("tool-results", "subagents"):
        return parent.parent.name if file.kind == "tool-output" else f"{parent.parent.name}/{file.path.stem}"
    return file.path.stem


def _raw_offset(data: bytes, view: DecodedView | None, base: int, blob_offset: int, secret: str) -> int:
    """Where in the raw file the hit is: exact, or inside the escaped string token that held it."""
    if view is None:
        return base + blob_offset
    offset, decoded = view.raw_offset(blob_offset)
    if decoded:
        token_end = data.find(b"\n", offset)
        exact = data.find(secret.encode(), offset, len(data) if token_end < 0 else token_end)
        return exact if exact >= 0 else offset
    return offset


def _mark_code_reach(report: WorkstationReport) -> None:
    """A client with a code-running server exposes every credential that client holds (DESIGN.md section 8)."""
    running = {s.client for s in report.servers if s.executes_code}
    for f in report.findings:
        f.client_executes_code = f.kind == "secret" and f.client in running


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
    for f in report.findings:
        if f.kind != "secret" or not f.server:
            continue
        iid = f"mcp_server:{f.client}/{f.scope}/{slug(f.server)}"
        if iid in identities:
            _credential(identities[iid], credentials, f.key or f.rule_id, source, Credential(
                "", provider=f.rule_id.split("-", 1)[0], type=f.rule_id, fingerprint=f.fingerprint, ttl="static",
                env_vars=[f.key] if f.field == "env" and f.key else []))
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
    with os.fdopen(fd, "wb") as fh:
        fh.write(original)
        fh.flush()
        os.fsync(fh.fileno())
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
