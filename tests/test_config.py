"""The configuration file, --extra-rules and the terminal conventions (issue 24), through the real command."""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.conftest import GITHUB_TOKEN, REPO, run_sprawl

STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dcQq9ZxW2p"
SLACK = "xoxb-2847561923-4857392018475-QwErTyUiOpAsDfGhJkLzXcVb"
ACME_RULE = """provider: acme
rules:
  - id: acme-deploy-token
    name: Acme deploy token
    kind: token
    keywords: [acmedt_]
    pattern: '\\b(?P<secret>acmedt_[A-Za-z0-9]{32})\\b'
    privilege: write
    lifetime: static
    remediation: Revoke it in the Acme console.
    examples: ['ACME=acmedt_Q2xvdWRuaW5lSXNOb3RBU2VjcmV0Rm9y']
    negative_examples: ['acmedt_short']
"""
ACME = "acmedt_9fK2mQ7xLp4ZrT8vN3bW6cY1hJ5dG0sE"


def _ids(res) -> set[str]:
    return {f["rule_id"] for f in json.loads(res.stdout)["findings"]}


def test_extra_rules_add_to_the_built_ins(tmp_path):
    (tmp_path / "acme.yaml").write_text(ACME_RULE)
    src = tmp_path / "src"
    src.mkdir()
    (src / "settings.env").write_text(f"ACME_TOKEN={ACME}\nSTRIPE_KEY={STRIPE}\nSLACK_TOKEN={SLACK}\n")
    extended = run_sprawl("scan", str(src), "--extra-rules", str(tmp_path / "acme.yaml"), "-f", "json")
    assert extended.returncode == 1, extended.stderr
    assert {"acme-deploy-token", "stripe-live-secret-key", "slack-bot-token"} <= _ids(extended)
    replaced = run_sprawl("scan", str(src), "--rules", str(tmp_path / "acme.yaml"), "-f", "json")
    assert _ids(replaced) == {"acme-deploy-token"}  # --rules keeps its meaning: instead of the built-ins


def test_a_config_file_excludes_and_config_show_says_where_from(tmp_path):
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    (tmp_path / "app.py").write_text("x = 1\n")
    assert run_sprawl("scan", str(tmp_path)).returncode == 1
    (tmp_path / ".sprawl.toml").write_text('exclude = ["vendor/**"]\nmin_confidence = "high"\n')
    res = run_sprawl("scan", str(tmp_path))
    assert res.returncode == 0, res.stdout
    shown = run_sprawl("config", "show", str(tmp_path)).stdout.decode()
    assert f"exclude = vendor/**  ({tmp_path / '.sprawl.toml'})" in shown
    assert "min_confidence = high" in shown and "engine = auto  (default)" in shown
    # A flag wins over the file.
    assert run_sprawl("scan", str(tmp_path), "--min-confidence", "low").returncode == 0
    bad = tmp_path / "other"
    bad.mkdir()
    (bad / ".sprawl.toml").write_text("excludes = ['x']\n")
    res = run_sprawl("scan", str(bad))
    assert res.returncode == 2 and b"unknown key 'excludes'" in res.stderr and b"Traceback" not in res.stderr


def test_pyproject_tool_sprawl_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.sprawl]\nexclude = ["gen/**"]\n')
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "out.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    assert run_sprawl("scan", str(tmp_path)).returncode == 0


def _on_a_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """What the command prints to a real terminal (a pseudo-terminal)."""
    out_fd, in_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "scanner.cli", *args], stdout=in_fd, stderr=in_fd,
                            env={**os.environ, "PYTHONPATH": str(REPO), **env})
    os.close(in_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(out_fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(out_fd)
    return b"".join(chunks)


def test_no_color_on_a_terminal_means_no_escape_sequence(tmp_path):
    (tmp_path / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    coloured = _on_a_terminal(["scan", str(tmp_path)], {"TERM": "xterm"})
    assert b"\x1b[" in coloured  # the terminal gets colour by default...
    plain = _on_a_terminal(["scan", str(tmp_path)], {"NO_COLOR": "1", "TERM": "xterm"})
    assert b"\x1b" not in plain and b"github-pat-classic" in plain  # ...and none with NO_COLOR
    assert b"\x1b" not in _on_a_terminal(["scan", str(tmp_path), "--color", "never"], {"TERM": "xterm"})


def test_quiet_prints_nothing_on_a_clean_run(tmp_path):
    (tmp_path / "app.py").write_text("x = 1\n")
    res = run_sprawl("scan", str(tmp_path), "--quiet")
    assert res.returncode == 0 and res.stdout == b"" and res.stderr == b""
    (tmp_path / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    res = run_sprawl("scan", str(tmp_path), "--quiet")
    assert res.returncode == 1 and b"github-pat-classic" in res.stdout


def test_the_plain_hook_is_quiet_on_a_clean_commit(tmp_path):
    from tests.gitutil import git, init_repo

    repo = init_repo(tmp_path / "r")
    assert run_sprawl("install-hook", cwd=repo).returncode == 0
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", "README.md")
    res = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", "docs"], capture_output=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 0 and res.stdout == b"" and res.stderr == b"", res.stderr
    assert Path(repo / ".git" / "hooks" / "pre-commit").read_text().rstrip().endswith("staged --quiet")


def test_explain_and_governance_write_to_a_file(tmp_path):
    (tmp_path / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    inventory = REPO / "fixtures" / "inventory" / "inventory.yaml"
    doc = json.loads(run_sprawl("scan", str(tmp_path), "--inventory", str(inventory), "-f", "json").stdout)
    fp = doc["findings"][0]["fingerprint"]
    out = tmp_path / "explain.json"
    res = run_sprawl("explain", fp, str(tmp_path), "--inventory", str(inventory), "-f", "json", "-o", str(out))
    assert res.returncode == 0 and res.stdout == b"" and json.loads(out.read_text())["fingerprint"] == fp
    gov = tmp_path / "governance.json"
    res = run_sprawl("governance", str(tmp_path), "--inventory", str(inventory), "-f", "json", "-o", str(gov))
    assert res.returncode == 0 and json.loads(gov.read_text())["schema"] == "secret-sprawl/governance"
