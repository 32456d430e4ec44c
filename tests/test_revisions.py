"""A file's next version, scanned where it changed, gives what scanning it whole gives."""
from __future__ import annotations

import argparse
import base64
import json
import subprocess
from pathlib import Path

from conftest import run_sprawl
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.engine import Engine
from scanner.engine.revisions import RecentVersions, Version, scan_revision
from scanner.pipeline.git import scan_git
from scanner.pipeline.options import ScanOptions
from scanner.rules import load_rules

ENGINE = Engine(load_rules())
PATH = "service/argparse.py"
# Real code, large enough that an edit leaves most of it unchanged.
CODE = Path(argparse.__file__).read_bytes()
_PEM_BODY = "\n".join(["MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun"] * 6)
SECRET_LINES = [
    b'DATABASE_PASSWORD = "Tq8#vLm2xR9pWz4k"\n',
    b'STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ8Rm2Zx5"\n',
    b'STRIPE_KEY = \\\n    "sk_live_9hV2nQ8rT4wY6zB3eH7jL1mP5sX0cK2d"\n',  # the secret on the line after its name
    b'client = make_client(api_token="Rk4vN8pQ2sT6wY0zB3eH7jL1")\n',
    b'aws_access_key_id = "AKIAQYLPMN5HFIQR7XYZ"\n',
    b'config_blob = "' + base64.b64encode(b'api_key = "Zx8Qw3Er5Ty7Ui9Op1As"') + b'"\n',
    b'# legacy_password = "Jf6Tq2Wn8Lp4Xz0R"\n',
    b'KEY = """-----BEGIN RSA PRIVATE KEY-----\n' + _PEM_BODY.encode() + b'\n-----END RSA PRIVATE KEY-----"""\n',
    b'x = 1  # a line that holds nothing\n',
]


# Lines a history adds: not the private key block, whose keyword makes every later version scan whole.
HISTORY_LINES = [line for line in SECRET_LINES if b"PRIVATE KEY" not in line]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _insert(data: bytes, at: float, lines: list[bytes]) -> bytes:
    rows = _lines(data)
    i = int(at * len(rows))
    return b"".join(rows[:i] + lines + rows[i:])


def _delete(data: bytes, at: float, count: int) -> bytes:
    rows = _lines(data)
    i = int(at * len(rows))
    return b"".join(rows[:i] + rows[i + count:])


edits = st.lists(
    st.tuples(st.sampled_from(["insert", "delete"]), st.floats(0, 1), st.integers(0, len(SECRET_LINES) - 1),
              st.integers(1, 3)),
    min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(planted=st.lists(st.tuples(st.floats(0, 1), st.integers(0, len(SECRET_LINES) - 1)), max_size=6), changes=edits)
def test_a_revision_scans_as_the_whole_file(planted, changes):
    before = CODE
    for at, k in planted:
        before = _insert(before, at, [SECRET_LINES[k]])
    after = before
    for kind, at, k, count in changes:
        after = _insert(after, at, [SECRET_LINES[k]] * count) if kind == "insert" else _delete(after, at, count)
    whole = ENGINE.scan(after, PATH)
    assert scan_revision(ENGINE, after, PATH, Version(before, ENGINE.scan(before, PATH))).matches == whole


class _Recording(Engine):
    """The real engine, noting how many bytes it is asked to scan each time."""

    def __init__(self):
        super().__init__(ENGINE.ruleset, ENGINE.matcher)
        self.sizes: list[int] = []

    def scan(self, data: bytes, path: str = "", region=None):
        self.sizes.append(region[1] - region[0] if region else len(data))
        return super().scan(data, path, region)


def test_only_the_changed_lines_are_scanned_and_the_rest_carried_over():
    before = _insert(_insert(CODE, 0.1, [SECRET_LINES[1]]), 0.9, [SECRET_LINES[4]])
    after = _insert(before, 0.5, [SECRET_LINES[0]])
    engine = _Recording()
    old = engine.scan(before, PATH)
    engine.sizes.clear()
    new = scan_revision(engine, after, PATH, Version(before, old)).matches
    assert engine.sizes and max(engine.sizes) < len(after) // 5
    assert [m.secret for m in new] == ["sk_live_4eC39HqLyjWDarjtT1zdp7dcQ8Rm2Zx5", "Tq8#vLm2xR9pWz4k",
                                       "AKIAQYLPMN5HFIQR7XYZ"]
    assert new == ENGINE.scan(after, PATH)
    assert new[2].line == old[1].line + 1 and new[2].start == old[1].start + len(SECRET_LINES[0])


def test_a_small_version_is_scanned_whole_without_comparing():
    from scanner.engine.revisions import SMALL

    before = CODE[: SMALL // 2]
    before = before[: before.rfind(b"\n") + 1]
    after = _insert(before, 0.5, [SECRET_LINES[1]])
    assert len(after) < SMALL
    engine = _Recording()
    old = engine.scan(before, PATH)
    engine.sizes.clear()
    version = scan_revision(engine, after, PATH, Version(before, old))
    assert engine.sizes == [len(after)] and version.matches == ENGINE.scan(after, PATH)
    assert version.far_reaching is None  # not looked for: a small version is never compared


def test_a_version_with_a_far_reaching_rule_keyword_is_scanned_whole():
    before = _insert(CODE, 0.2, [SECRET_LINES[7]])
    after = _insert(before, 0.6, [SECRET_LINES[0]])
    engine = _Recording()
    old = engine.scan(before, PATH)
    engine.sizes.clear()
    assert scan_revision(engine, after, PATH, Version(before, old)).matches == ENGINE.scan(after, PATH)
    assert engine.sizes == [len(after)]


def test_far_reaching_text_is_looked_for_where_the_version_differs_when_the_base_holds_none():
    """A base without far-reaching text is searched whole once; its next versions only where they
    differ, at least one keyword's length around the difference (a deletion can join one together)."""
    engine = _Recording()
    base = Version(CODE, engine.scan(CODE, PATH))
    joined = CODE.replace(b"\n", b"\n# --- private k\n# -ey-----\n", 1)  # not yet a keyword
    assert scan_revision(engine, joined, PATH, base).far_reaching is False
    assert base.far_reaching is False  # looked for once, kept with the base
    engine.sizes.clear()
    cut = joined.replace(b"k\n# -ey", b"key", 1)  # the deletion of four bytes joins "private key-----"
    version = scan_revision(engine, cut, PATH, Version(joined, engine.scan(joined, PATH), False))
    assert version.far_reaching is True and engine.sizes[-1] == len(cut)  # scanned whole
    # The next version no longer holds it (the base does): searched whole, and found to hold none.
    assert scan_revision(engine, joined, PATH, version).far_reaching is False


def test_recent_versions_keep_one_version_per_file_within_their_budget():
    recent = RecentVersions(budget=10)
    a1, a2, b1 = Version(b"12345", []), Version(b"1234", []), Version(b"123456", [])
    recent.put("a1", "a.py", a1)
    recent.put("a2", "a.py", a2)  # another version of a.py replaces the one kept
    assert recent.get("a1", "a.py") is None and recent.get("a2", "a.py") is a2
    recent.put("b1", "b.py", b1)
    assert recent.get("a2", "a.py") is a2 and recent.get("b1", "b.py") is b1
    recent.put("c1", "c.py", Version(b"12", []))  # over budget: the least recently scanned goes
    assert recent.get("a2", "a.py") is None and recent.get("b1", "b.py") and recent.get("c1", "c.py")
    recent.put("huge", "d.py", Version(b"x" * 11, []))
    assert recent.get("huge", "d.py") is None


def test_a_version_scanned_as_another_path_is_not_a_base():
    # A blob copied from tests/ to src/ and edited there: scanned as a test file first (findings one
    # confidence lower), so its matches cannot be carried over to the copy.
    recent = RecentVersions()
    recent.put("x", "tests/test_settings.py", Version(b"data", []))
    assert recent.get("x", "src/settings.py") is None and recent.get("x", "tests/test_settings.py")


def _edited_history(tmp_path: Path) -> Path:
    """A real repository: three copies of a large file edited over 140 commits (over 256 blobs, enough
    for the scan to share the work between processes), secrets added and removed, on two branches."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    texts = {f"service/module_{k}.py": CODE for k in range(3)}
    stream = []
    for i in range(140):
        if i == 100:
            stream.append(b"reset refs/heads/feature\nfrom refs/heads/main\n")
        branch = b"main" if i < 100 or i % 2 else b"feature"
        stream.append(b"commit refs/heads/%s\nauthor Dev <dev@example.test> %d +0000\n"
                      b"committer Dev <dev@example.test> %d +0000\ndata 7\nchange\n" % (branch, 1_600_000_000 + i, 1_600_000_000 + i))
        for k, name in enumerate(sorted(texts)):
            if (i + k) % 3 == 0 and i:
                continue
            text = _insert(texts[name], ((i * 37 + k * 11) % 100) / 100, [HISTORY_LINES[(i + k) % len(HISTORY_LINES)]])
            if i % 5 == 4:
                text = _delete(text, ((i * 53) % 100) / 100, 2)
            texts[name] = text
            stream.append(b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(text), text))
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    return repo


def _count_region_scans(monkeypatch) -> list:
    """Count the engine's region scans (the real method runs): proof that versions were scanned by change."""
    regions = []
    real = Engine.scan

    def scan(self, data, path="", region=None):
        if region is not None:
            regions.append(region)
        return real(self, data, path, region)

    monkeypatch.setattr(Engine, "scan", scan)
    return regions


def test_history_scanned_by_change_equals_history_scanned_whole(tmp_path, monkeypatch):
    # Both ways of scanning report the same findings, commits and lines.
    repo = _edited_history(tmp_path)
    regions = _count_region_scans(monkeypatch)

    def findings(whole: bool, jobs: int = 1) -> set:
        result = scan_git(str(repo), ScanOptions(jobs=jobs, whole_blobs=whole, min_confidence="low"))
        assert result.stats.files > 256
        return {(f.rule_id, f.fingerprint, f.confidence, loc.path, loc.line, loc.column, loc.provenance.commit)
                for f in result.findings for loc in f.locations}

    whole = findings(True)
    assert len({row[1] for row in whole}) >= 5 and not regions
    assert findings(False) == whole and len(regions) > 100
    assert findings(False, jobs=2) == whole  # each file's versions go to the process that saw the one before


def test_git_command_whole_blobs_flag_reports_the_same(tmp_path):
    repo = _edited_history(tmp_path)
    reports = []
    for extra in ([], ["--whole-blobs"]):
        out = tmp_path / f"report{len(reports)}.json"
        proc = run_sprawl("git", str(repo), "-f", "json", "-o", str(out), "--min-confidence", "low", "--jobs", "2", *extra)
        assert proc.returncode == 1, proc.stderr
        doc = json.loads(out.read_text())
        reports.append(sorted((f["rule_id"], f["fingerprint"], json.dumps(f["locations"], sort_keys=True))
                              for f in doc["findings"]))
    assert reports[0] and reports[0] == reports[1]


def test_each_path_goes_to_one_worker_and_the_load_is_shared():
    from scanner.pipeline.planning import BATCH_FILES, batches_by_path
    from scanner.pipeline.work import BlobWork

    keys = [BlobWork(f"{i:040x}", f"dir/file_{i % 7}.py") for i in range(5 * BATCH_FILES)]
    batches = list(batches_by_path(iter(keys), 2))
    seen = [key for _, batch in batches for key in batch]
    assert sorted(seen, key=str) == sorted(keys, key=str)
    workers_of = {}
    for worker, batch in batches:
        for key in batch:
            workers_of.setdefault(key.path, set()).add(worker)
    assert all(len(w) == 1 for w in workers_of.values())
    load = [sum(len(b) for w, b in batches if w == k) for k in (0, 1)]
    assert min(load) >= 2 * BATCH_FILES


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40), st.binary(max_size=3000), st.binary(max_size=3000), st.binary(max_size=3000),
       st.integers(0, 4000))
def test_common_prefix_and_suffix_are_the_naive_ones(head, middle_a, middle_b, tail, limit):
    """revisions._common_prefix and _common_suffix (blocks doubling, then halving) against byte-by-byte loops,
    on versions that share a start and an end of any length, past the first block's 256 bytes too."""
    from scanner.engine.revisions import _common_prefix, _common_suffix

    a, b = head * 20 + middle_a + tail, head * 20 + middle_b + tail * 3
    limit = min(limit, len(a), len(b))  # as scan_revision asks: never past the shorter version
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    assert _common_prefix(a, b) == n
    m = 0
    while m < min(len(a), len(b), limit) and a[len(a) - 1 - m] == b[len(b) - 1 - m]:
        m += 1
    assert _common_suffix(a, b, limit) == m
