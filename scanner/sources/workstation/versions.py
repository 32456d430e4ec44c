"""Client versions where a file on disk says them (for fleet reports); never runs a client.

Claude Code writes `version` on its transcript lines, Codex `cli_version` in a rollout's session_meta,
VS Code-hosted extensions (Cline, Roo) carry it in their folder name. Others are left out.
Guarded by tests/test_workstation_layout.py.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from scanner.sources.workstation.layout import Discovery

_EXTENSIONS = {"cline": "saoudrizwan.claude-dev-", "roo": "rooveterinaryinc.roo-cline-"}
_VERSION = re.compile(r"\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.\-]+)?")
HEAD_LINES = 20


def _newest(paths: list[Path]) -> Path | None:
    try:
        return max(paths, key=lambda p: p.stat().st_mtime) if paths else None
    except OSError:
        return None


def _head_version(path: Path | None, *keys: str) -> str | None:
    if path is None:
        return None
    try:
        with path.open("rb") as fh:
            for _ in range(HEAD_LINES):
                line = fh.readline()
                if not line:
                    break
                try:
                    doc = json.loads(line)
                except ValueError:
                    continue
                for node in (doc, doc.get("payload") if isinstance(doc, dict) else None):
                    if isinstance(node, dict):
                        for key in keys:
                            value = node.get(key)
                            if isinstance(value, str) and _VERSION.fullmatch(value):
                                return value
    except OSError:
        return None
    return None


def _version_key(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:4])


def client_versions(discovery: Discovery) -> dict[str, str]:
    """client -> version, for the clients whose files say it."""
    out: dict[str, str] = {}
    transcripts: dict[str, list[Path]] = {}
    for f in discovery.files:
        if f.kind == "transcript" and f.fmt == "jsonl":
            transcripts.setdefault(f.client, []).append(f.path)
    claude = _head_version(_newest(transcripts.get("claude-code", [])), "version")
    if claude:
        out["claude-code"] = claude
    codex = _head_version(_newest(transcripts.get("codex", [])), "cli_version")
    if codex:
        out["codex"] = codex
    home = discovery.machine.home
    for client, prefix in _EXTENSIONS.items():
        found = []
        for folder in (home / ".vscode" / "extensions", home / ".cursor" / "extensions",
                       home / ".windsurf" / "extensions"):
            if folder.is_dir():
                found += [p.name[len(prefix):] for p in folder.iterdir() if p.name.startswith(prefix)]
        found = [v for v in found if _VERSION.match(v)]
        if found:
            out[client] = max(found, key=_version_key)
    return out
