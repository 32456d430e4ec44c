"""Where the datastore lives when no path is given (the one definition; docs/datastore.md): never a file
that `git add -A` would pick up (tests/test_db_paths.py).

Inside a git repository: `sprawl/sprawl.db` in its git dir (the common git dir of a linked work tree, so
every work tree of one repository shares one datastore); elsewhere the user data directory.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from scanner.sources.gitcmd import GitError, git

# `--db` given alone (scan, git, staged): the default place, resolved against the scanned repository.
DEFAULT_DB = ":default:"
DEFAULT_DB_HELP = "the repository's .git/sprawl/sprawl.db, else the user data directory"
DB_NAME = "sprawl.db"


def git_dir(start: Path) -> Path | None:
    """The git dir of the repository holding `start` (resolving a `.git` file of a linked work tree or a
    submodule, then its `commondir`), or of the bare repository `start` is in; None outside git. Reads
    files only: no git process."""
    here = start.resolve()
    for folder in (here, *here.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return _common(dot)
        if dot.is_file():
            found = _gitdir_file(dot)
            if found is not None:
                return _common(found)
        if (folder / "HEAD").is_file() and (folder / "objects").is_dir() and (folder / "refs").is_dir():
            return _common(folder)
    return None


def _gitdir_file(dot: Path) -> Path | None:
    try:
        text = dot.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    target = Path(text.removeprefix("gitdir:").strip())
    target = target if target.is_absolute() else (dot.parent / target)
    return target.resolve() if target.is_dir() else None


def _common(gitdir: Path) -> Path:
    """A linked work tree's git dir names the repository's own in `commondir`."""
    try:
        common = Path((gitdir / "commondir").read_text(encoding="utf-8").strip())
    except OSError:
        return gitdir
    common = common if common.is_absolute() else gitdir / common
    return common.resolve() if common.is_dir() else gitdir


def user_data_dir() -> Path:
    """$XDG_DATA_HOME/secret-sprawl, else the platform's: ~/.local/share, ~/Library/Application Support,
    %LOCALAPPDATA%."""
    if os.environ.get("XDG_DATA_HOME"):
        return Path(os.environ["XDG_DATA_HOME"]) / "secret-sprawl"
    home = Path(os.path.expanduser("~"))
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "secret-sprawl"
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local") / "secret-sprawl"
    return home / ".local" / "share" / "secret-sprawl"


def default_db(start: str | Path = ".") -> Path:
    """The datastore to use when none is named: in the git dir of the repository holding `start`, else in
    the user data directory."""
    found = git_dir(Path(start))
    return (found / "sprawl" if found is not None else user_data_dir()) / DB_NAME


def resolve_db(given: str | Path, start: str | Path = ".") -> Path:
    """`--db PATH` as given, or the default place for `--db` alone (DEFAULT_DB)."""
    return default_db(start) if str(given) == DEFAULT_DB else Path(given)


def work_tree_warning(db: str | Path) -> str | None:
    """One line when `db` is inside a git work tree (outside its git dir) and git does not ignore it: the
    next `git add -A` would commit the findings. None otherwise (or when git cannot tell)."""
    path = Path(db).resolve()
    existing = next((f for f in path.parents if f.exists()), Path("/"))
    gitdir = git_dir(existing)
    if gitdir is None or path.is_relative_to(gitdir) or _inside_a_git_dir(path):
        return None
    top = next((f for f in (existing, *existing.parents) if (f / ".git").exists()), None)
    if top is None:
        return None  # a bare repository holds no work tree
    try:
        git(str(top), "check-ignore", "-q", "--", str(path), timeout=30)
        return None  # ignored
    except GitError as exc:
        if exc.returncode != 1:  # 1: not ignored; 128: git could not tell
            return None
    return (f"the datastore {db} is inside the git work tree {top} and not ignored: add it to .gitignore, "
            f"or omit the path ({DEFAULT_DB_HELP})")


def _inside_a_git_dir(path: Path) -> bool:
    return any(part == ".git" for part in path.parts)
