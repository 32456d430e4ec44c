"""Where a local repository lives: its remote URL (without credentials), the commit at HEAD and the branch,
for SARIF's `versionControlProvenance` (tests/test_sarif_provenance.py)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from scanner.model import VersionControl
from scanner.sources.gitcmd import GitError, git

_SCP = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?P<path>(?!//).+)$")  # user@host:org/repo.git


def public_url(url: str) -> str:
    """The URL with no user, password, token, query or fragment: `https://user:pw@host/x.git` gives
    `https://host/x.git`, and the scp form `git@host:org/x.git` gives `ssh://host/org/x.git`. A local path
    gives ""; so does anything that is not a URL."""
    url = url.strip()
    if "://" not in url:
        m = _SCP.match(url)
        if m is None or Path(url).exists():
            return ""
        url = f"ssh://{m['host']}/{m['path']}"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return ""
    if parts.scheme == "file" or not host:
        return ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def local_vcs(path: str | Path) -> VersionControl | None:
    """The provenance of the repository holding `path`, or None outside git or without a remote URL."""
    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    try:
        remote = git(str(folder), "config", "--get", "remote.origin.url").decode(errors="replace")
    except GitError:
        return None
    uri = public_url(remote)
    if not uri:
        return None
    revision = branch = ""
    try:
        revision = git(str(folder), "rev-parse", "--verify", "-q", "HEAD").decode().strip()
        branch = git(str(folder), "symbolic-ref", "-q", "--short", "HEAD").decode().strip()
    except GitError:
        pass  # an empty repository or a detached HEAD: what is known is kept
    return VersionControl(uri, revision, branch)
