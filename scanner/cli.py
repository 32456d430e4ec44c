"""The `sprawl` command: a thin click layer over the library API in scanner.scan."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class SprawlGroup(click.Group):
    """Turns expected failures into a one-line error and exit code 2, never a traceback."""

    def invoke(self, ctx):
        from scanner.rules.model import RuleError

        try:
            return super().invoke(ctx)
        except RuleError as exc:
            click.echo(f"sprawl: rule error: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except OSError as exc:
            click.echo(f"sprawl: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("sprawl: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=SprawlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sprawl")
def main() -> None:
    """Find static secrets wherever they sprawl, and say whose they are and how bad each is."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "jsonl", "sarif", "csv"]), default="text",
              show_default=True, help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report here, not stdout.")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True,
              help="Report findings at or above this confidence.")
@click.option("--show-secrets", is_flag=True, help="Print full secret values (off by default: previews are redacted).")
@click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
@click.option("--max-size", type=click.IntRange(1), default=64 * 1024 * 1024, show_default=True,
              help="Skip files larger than this many bytes.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this glob (repeatable).")
@click.option("--respect-gitignore", is_flag=True, help="Skip files that git ignores.")
@click.option("--no-ignore-file", is_flag=True, help="Do not read .sprawlignore.")
@click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Load rules from these files or folders instead of the built-in rules.")
def scan(paths, fmt, output, min_confidence, show_secrets, jobs, max_size, exclude, respect_gitignore,
         no_ignore_file, rules_paths):
    """Scan files and folders (or - for standard input) for secrets.

    \b
    Examples:
      sprawl scan .
      sprawl scan src/ config/ --exclude 'tests/**' -f sarif -o sprawl.sarif
      git diff | sprawl scan -
    Exit codes: 0 no findings, 1 findings, 2 usage or input error.
    """
    from scanner.report import render
    from scanner.report.summary import summary_lines
    from scanner.scan import ScanOptions, scan_bytes, scan_paths
    from scanner.sources.filesystem import WalkOptions

    options = ScanOptions(
        min_confidence=min_confidence,
        jobs=jobs,
        walk=WalkOptions(max_size=max_size, excludes=tuple(exclude), respect_gitignore=respect_gitignore),
        show_secrets=show_secrets,
        rules_paths=list(rules_paths) or None,
        use_ignore_files=not no_ignore_file,
    )
    if paths == ("-",):
        result = scan_bytes(sys.stdin.buffer.read(), "<stdin>", options)
    elif "-" in paths:
        raise click.UsageError("'-' (standard input) cannot be mixed with paths")
    else:
        missing = [p for p in paths if not Path(p).exists()]
        if len(missing) == len(paths):
            click.echo(f"sprawl: no such file or folder: {', '.join(missing)}", err=True)
            sys.exit(EXIT_ERROR)
        result = scan_paths(list(paths), options)

    to_terminal = output is None and sys.stdout.isatty()
    report = render(result, fmt, color=to_terminal)
    if output:
        Path(output).write_text(report, encoding="utf-8")
    else:
        click.echo(report, nl=False)
    if fmt != "text" or output:
        for line in summary_lines(result):
            click.echo(f"sprawl: {line}", err=True)
    sys.exit(EXIT_FINDINGS if result.findings else EXIT_CLEAN)


@main.group()
def rules() -> None:
    """Inspect and check the rule set."""


@rules.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
def rules_check(files):
    """Load the rules, compile every pattern and run every rule's examples.

    \b
    Example:
      sprawl rules check
      sprawl rules check rules/stripe.yaml
    """
    from scanner.rules.selftest import main as selftest

    sys.exit(selftest([str(f) for f in files]))


@rules.command("list")
@click.option("--provider", help="Only this provider's rules.")
def rules_list(provider):
    """List rules: id, provider, kind, privilege and name.

    \b
    Example:
      sprawl rules list --provider aws
    """
    from scanner.rules import load_rules

    ruleset = load_rules()
    shown = [r for r in ruleset if provider in (None, r.provider)]
    for r in shown:
        click.echo(f"{r.id:<44}{r.provider:<18}{r.kind:<18}{r.privilege:<9}{r.name}")
    click.echo(f"{len(shown)} rules, {len({r.provider for r in shown})} providers", err=True)


if __name__ == "__main__":
    main()
