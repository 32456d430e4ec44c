from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _peers_corpus() -> Path:
    """The peers' corpus beside the checkout, or beside the main checkout when this one is a git worktree
    (its .git file names <main>/.git/worktrees/<name>)."""
    beside = REPO.parent / "shared" / "corpus" / "peers"
    git = REPO / ".git"
    if beside.is_dir() or not git.is_file():
        return beside
    gitdir = Path(git.read_text(encoding="utf-8").partition("gitdir:")[2].strip())
    return gitdir.parents[3] / "shared" / "corpus" / "peers" if len(gitdir.parents) > 3 else beside


CORPUS = _peers_corpus()

# A GitHub classic token with a valid CRC32 checksum, made up for these tests.
GITHUB_TOKEN = "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"


def datastore_at_schema(path: Path, version: int, key: bytes):  # -> sqlite3.Connection
    """A datastore as sprawl wrote it at an older schema version: its first `version` migrations, the file's
    marks and the key id. The caller adds its rows and closes the connection."""
    import sqlite3

    from scanner.store.keys import key_id
    from scanner.store.schema import MIGRATIONS

    conn = sqlite3.connect(path, isolation_level=None)
    conn.create_function("sprawl_keyed_fingerprint", 1, lambda v: v)  # what a migration of those may call
    for script in MIGRATIONS[:version]:
        for statement in script.split(";\n"):
            if statement.strip():
                conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("PRAGMA application_id = 0x5350524C")
    conn.execute("INSERT INTO meta VALUES ('key_id', ?)", [key_id(key)])
    return conn


# Root reads any file whatever its mode; dropping these capabilities makes mode 000 mean unreadable.
DROP_DAC = ["setpriv", "--inh-caps=-dac_override,-dac_read_search", "--bounding-set=-dac_override,-dac_read_search"]


def run_sprawl(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env: dict | None = None,
               obey_file_modes: bool = False) -> subprocess.CompletedProcess:
    """Run the real console entry point in a subprocess."""
    prefix = DROP_DAC if obey_file_modes and os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "scanner.cli", *args],
        # PYTHONPATH: the checkout under test, also from another cwd (a git worktree, not the installed copy).
        cwd=cwd, input=stdin, capture_output=True, timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
             **(env or {})},
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small project with one real-looking secret, one allowed one and clean files."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(f'import os\nTOKEN = "{GITHUB_TOKEN}"\n')
    (tmp_path / "src" / "clean.py").write_text('TOKEN = os.environ["GITHUB_TOKEN"]\n')
    (tmp_path / "README.md").write_text("# nothing here\n")
    return tmp_path
