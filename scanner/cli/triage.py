"""sprawl triage and sprawl redact: incident response on leaked bundles, logs and transcripts."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INCOMPLETE, main, validation_flags, validation_options, write_atomically

TRIAGE_FORMATS = ["text", "json", "markdown", "html", "sarif", "csv"]  # as scanner.report.triage_report renders


@main.command()
@click.argument("bundles", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--inventory", type=click.Path(exists=True, dir_okay=False),
              help="Agent inventory (YAML) to link credentials to owners.")
@click.option("-f", "--format", "fmt", type=click.Choice(TRIAGE_FORMATS), default="text", show_default=True,
              help="Report format (markdown pastes into an incident ticket; sarif and csv: one row per credential).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report here.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True)
@click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
@click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Load rules from these files or folders instead of the built-in rules.")
@click.option("--validate", is_flag=True,
              help="Ask each credential's own provider whether it is live (a live key ranks first; off by default).")
@validation_flags
def triage(bundles, inventory, fmt, output, min_confidence, jobs, rules_paths, validate, endpoints,
           allow_internal_endpoints, validation_rps, validation_budget):
    """Triage leaked bundles: which credentials, whose, how bad, and what to revoke first.

    Each BUNDLE (an archive, a log, a folder) is one incident. Credentials are ranked by blast
    radius, each with its owner to contact, how often and when it was logged, where it appears,
    and the provider's step to revoke or rotate it.

    \b
    Examples:
      sprawl triage support-bundle.tar.gz
      sprawl triage agent-logs/ --inventory inventory.yaml -f markdown -o incident.md
      sprawl triage bundle.zip --validate -f sarif -o incident.sarif
    Exit codes: 0 no credentials, 1 credentials found, 2 usage or input error.
    """
    from scanner.cli.progress import progress_for_terminal
    from scanner.incident.triage import triage as run_triage
    from scanner.pipeline.options import ScanOptions
    from scanner.report.triage_report import render_triage
    from scanner.sources.archive import Limits

    checked = validation_options(endpoints, allow_internal_endpoints, validation_rps, validation_budget)
    # A leaked bundle's binaries (a core dump, a SQLite cache) are read for their printable strings.
    options = ScanOptions(min_confidence=min_confidence, jobs=jobs, rules_paths=list(rules_paths) or None,
                          use_ignore_files=False, progress=progress_for_terminal(),
                          archive_limits=Limits(scan_binaries=True))
    on_scanned = None
    if validate:
        from scanner import api

        on_scanned = lambda result: api.validate_result(result, checked)  # noqa: E731
    incidents = run_triage(list(bundles), inventory, options, on_scanned)
    report = render_triage(incidents, fmt)
    if output:
        write_atomically(Path(output), report)
        click.echo(f"sprawl: triage report written to {output}", err=True)
    else:
        click.echo(report, nl=False)
    sys.exit(EXIT_FINDINGS if any(i.entries for i in incidents) else EXIT_CLEAN)


@main.command()
@click.argument("bundle", type=click.Path(exists=True))
@click.option("-o", "--output", required=True, type=click.Path(), help="Where to write the redacted copy (must not exist).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="low", show_default=True,
              help="Mask findings at or above this confidence.")
@click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Load rules from these files or folders instead of the built-in rules.")
def redact(bundle, output, min_confidence, rules_paths):
    """Write a copy of BUNDLE (same folders, archive members and compression) with every secret masked.

    Masks keep the length of what they hide, so line and column numbers still match the original.

    \b
    Example:
      sprawl redact support-bundle.tar.gz -o support-bundle.clean.tar.gz
    UTF-16 and UTF-32 text is masked in its own encoding and binary files' printable strings in place;
    a file or member that cannot be read, or is over the scan's archive-bomb limits, stops the copy
    (nothing is written). In a folder, what cannot be read is left out and named.

    \b
    Exit codes: 0 copy written (secrets masked or none found), 2 usage or input error (no copy written),
    3 copy written without some input that could not be read (named on standard error).
    """
    from scanner.incident.redact import Redactor
    from scanner.pipeline.engines import get_engine
    from scanner.pipeline.options import EngineSpec
    from scanner.report.escape import display

    engine = get_engine(EngineSpec(tuple(rules_paths)))
    stats = Redactor(engine.scan, min_confidence).path(bundle, output)
    for skip in stats.skipped:
        click.echo(f"sprawl: not copied: {display(skip.path)}: {skip.reason}", err=True)
    click.echo(f"sprawl: {stats.masked} secret(s) masked in {len(set(stats.masked_where))} of {stats.files} file(s); "
               f"copy written to {display(output)}", err=True)
    sys.exit(EXIT_INCOMPLETE if stats.incomplete else EXIT_CLEAN)


__all__ = ["triage", "redact", "EXIT_ERROR"]
