"""The pipeline scans the blobs a source reads (scanner.pipeline.blobs): what a member gave before a limit
stopped it is kept, as the archive module promises ("keeping what was found before it")."""
from __future__ import annotations

import zlib

from conftest import GITHUB_TOKEN

from scanner.pipeline.files import scan_paths
from scanner.pipeline.options import ScanOptions


def test_a_secret_before_the_bomb_in_the_same_member_is_kept(tmp_path):
    # A secret on the first line of a gzip whose rest inflates at over 200:1: the ratio limit stops it in
    # its second 8 MB chunk, after the first chunk (with the secret) was scanned. The member's finding was
    # dropped with it before the pipeline took each chunk's matches as it scanned them.
    bomb = tmp_path / "app.log.gz"
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"2026-07-01T00:00:00Z INFO GET /healthz 200\n" * 4096
    with open(bomb, "wb") as fh:
        fh.write(comp.compress(f"2026-07-01T00:00:00Z DEBUG token={GITHUB_TOKEN}\n".encode()))
        for _ in range(64 * 1024 * 1024 // len(block)):
            fh.write(comp.compress(block))
        fh.write(comp.flush())
    result = scan_paths([str(bomb)], ScanOptions(jobs=1, use_ignore_files=False))
    [skip] = result.stats.skipped
    assert skip.incomplete and skip.reason.startswith("archive bomb")
    [finding] = result.findings
    assert finding.rule_id == "github-pat-classic" and finding.first_location.line == 1
    assert finding.first_location.provenance.seen == "2026-07-01T00:00:00Z"
