"""sprawl baseline create, update and import."""
from __future__ import annotations

from pathlib import Path

import click

from scanner.cli import main
from scanner.findings.baseline import BASELINE_FILE


@main.group()
def baseline() -> None:
    """Adopt sprawl in a repository with known findings: create, update and import baselines."""


def _scan_for_baseline(paths, history, min_confidence):
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.git import scan_git
    from scanner.pipeline.options import ScanOptions

    options = ScanOptions(min_confidence=min_confidence)
    return scan_git(paths[0], options) if history else scan_paths(list(paths), options)


@baseline.command("create")
@click.argument("paths", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=BASELINE_FILE,
              show_default=True)
@click.option("--history", is_flag=True, help="Baseline the whole git history of the repository at PATH.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="low", show_default=True)
@click.option("--force", is_flag=True, help="Overwrite an existing baseline.")
def baseline_create(paths, output, history, min_confidence, force):
    """Record every current finding as known: later scans with --baseline report only new ones.

    Entries hold the portable fingerprint (a hash of rule and secret), the rule and the
    paths: no line numbers, timestamps or plaintext. Review it, then add a reason, an
    owner and an expiry date (YYYY-MM-DD) to entries as you triage them.

    \b
    Example:
      sprawl baseline create . -o .sprawl-baseline.json
      sprawl scan . --baseline .sprawl-baseline.json
    """
    from scanner.findings.baseline import Baseline

    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; use `sprawl baseline update` or --force")
    result = _scan_for_baseline(paths or (".",), history, min_confidence)
    Baseline.from_findings(result.findings).save(output)
    click.echo(f"wrote {output}: {len(result.findings)} finding(s) baselined")


@baseline.command("update")
@click.argument("baseline_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("paths", nargs=-1)
@click.option("--history", is_flag=True, help="Scan the whole git history of the repository at PATH.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="low", show_default=True)
def baseline_update(baseline_file, paths, history, min_confidence):
    """Bring a baseline in step: add new findings, drop fixed ones, keep each entry's review notes.

    \b
    Example:
      sprawl baseline update .sprawl-baseline.json .
    """
    from scanner.findings.baseline import Baseline

    old = Baseline.load(baseline_file)
    result = _scan_for_baseline(paths or (".",), history, min_confidence)
    new = Baseline.from_findings(result.findings, old)
    before = {e.fingerprint for e in old.entries if e.fingerprint}
    after = {e.fingerprint for e in new.entries if e.fingerprint}
    new.save(baseline_file)
    click.echo(f"updated {baseline_file}: {len(after - before)} added, {len(before - after)} removed, "
               f"{len(after & before)} kept")


@baseline.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=BASELINE_FILE,
              show_default=True)
def baseline_import(sources, output):
    """Import another scanner's allow list into a baseline (merging into OUTPUT if it exists).

    Reads a detect-secrets .secrets.baseline (hashed secrets), a .gitleaksignore and a
    .betterleaksignore (finding fingerprints file:rule:line, or value fingerprints).

    \b
    Example:
      sprawl baseline import .secrets.baseline .gitleaksignore -o .sprawl-baseline.json
    """
    from scanner.findings.baseline import Baseline, import_file

    base = Baseline.load(output) if output.exists() else Baseline()
    count = 0
    for source in sources:
        entries = import_file(source)
        base.entries.extend(entries)
        count += len(entries)
    base.save(output)
    click.echo(f"wrote {output}: {count} entr{'y' if count == 1 else 'ies'} imported")
