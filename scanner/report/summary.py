"""The closing lines of every scan: what was covered, what was skipped and why."""
from __future__ import annotations

from collections import Counter

from scanner.model import ScanResult
from scanner.report.escape import display

ALLOW_HINT = (
    "To allow a false positive: add the comment `sprawl:allow` on its line, "
    "or add its fingerprint to .sprawlignore."
)

STAGED_HINT = (
    "sprawl: commit blocked: a secret is staged. Remove it from the file (read it from the environment or a "
    "secret manager instead), `git add` the file again, and revoke the secret if it was ever pushed or shared."
)


def human_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def summary_lines(result: ScanResult, max_skips: int = 20) -> list[str]:
    s = result.stats
    by_conf = Counter(f.confidence for f in result.findings)
    conf = ", ".join(f"{by_conf[c]} {c}" for c in ("high", "medium", "low") if by_conf[c])
    lines = [
        f"{len(result.findings)} finding(s){f' ({conf})' if conf else ''} in {s.files} {s.unit}(s)"
        f"{f' from {s.commits} commit(s)' if s.commits else ''}, {human_bytes(s.bytes)} scanned in {s.elapsed:.2f}s"
    ]
    lines.extend(f"warning: {display(w)}" for w in s.warnings)
    if getattr(s, "archives", 0) or getattr(s, "streamed", 0):
        lines.append(f"opened {s.archives} archive(s); streamed {s.streamed} large file(s) or member(s) in chunks")
    hidden = []
    if s.allowed_inline:
        hidden.append(f"{s.allowed_inline} allowed inline")
    if s.ignored:
        hidden.append(f"{s.ignored} ignored by .sprawlignore")
    if s.baselined:
        hidden.append(f"{s.baselined} in the baseline")
    if s.below_confidence:
        hidden.append(f"{s.below_confidence} below the confidence threshold")
    if hidden:
        lines.append("not shown: " + ", ".join(hidden))
    unread = [skip for skip in s.skipped if skip.incomplete]
    if unread:
        lines.append(f"incomplete: {len(unread)} input(s) could not be read; the scan did not cover them")
    if s.skipped:
        reasons = Counter(skip.reason.split(":")[0].split(" (")[0] for skip in s.skipped)
        lines.append(f"skipped {len(s.skipped)}: " + ", ".join(f"{n} {r}" for r, n in reasons.most_common()))
        for skip in s.skipped[:max_skips]:
            lines.append(f"  skipped {display(skip.path)}: {display(skip.reason)}")
        if len(s.skipped) > max_skips:
            lines.append(f"  ... and {len(s.skipped) - max_skips} more")
    return lines
