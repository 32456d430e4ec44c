"""The `sprawl` command: a thin click layer over the library API in scanner.scan."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from scanner import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ["text", "json", "jsonl", "sarif", "csv"]


class SprawlGroup(click.Group):
    """Turns expected failures into a one-line error and exit code 2, never a traceback."""

    def invoke(self, ctx):
        from scanner.errors import SprawlError

        try:
            return super().invoke(ctx)
        except SprawlError as exc:
            click.echo(f"sprawl: {exc}", err=True)
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


def report_options(func):
    """Options every scanning command shares: what to report, how, and where."""

    @click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="Report format.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="Write the report here, not stdout.")
    @click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="medium",
                  show_default=True, help="Report findings at or above this confidence.")
    @click.option("--show-secrets", is_flag=True, help="Print full secret values (off by default: previews are redacted).")
    @click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
    @click.option("--max-size", type=click.IntRange(1), default=64 * 1024 * 1024, show_default=True,
                  help="Skip files or blobs larger than this many bytes.")
    @click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this glob (repeatable).")
    @click.option("--no-ignore-file", is_flag=True, help="Do not read .sprawlignore.")
    @click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Report only findings that this baseline does not hold.")
    @click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                  help="Load rules from these files or folders instead of the built-in rules.")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def _options(min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, rules_paths,
             respect_gitignore=False, baseline=None):
    from scanner.scan import ScanOptions
    from scanner.sources.filesystem import WalkOptions

    return ScanOptions(
        min_confidence=min_confidence,
        jobs=jobs,
        walk=WalkOptions(max_size=max_size, excludes=tuple(exclude), respect_gitignore=respect_gitignore),
        show_secrets=show_secrets,
        rules_paths=list(rules_paths) or None,
        use_ignore_files=not no_ignore_file,
        baseline=_load_baseline(baseline),
    )


def _load_baseline(path: Path | None):
    if path is None:
        return None
    from scanner.baseline import Baseline

    return Baseline.load(path)


def _emit(result, fmt: str, output: str | None) -> None:
    """Render, write, print the closing summary and exit with the findings' exit code."""
    from scanner.report import render
    from scanner.report.summary import summary_lines

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


@main.command()
@click.argument("paths", nargs=-1, required=True)
@report_options
@click.option("--respect-gitignore", is_flag=True, help="Skip files that git ignores.")
@click.option("--history", is_flag=True, help="Scan the full git history of the repository at PATH (as `sprawl git`).")
def scan(paths, fmt, output, min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, baseline,
         rules_paths, respect_gitignore, history):
    """Scan files and folders (or - for standard input) for secrets.

    \b
    Examples:
      sprawl scan .
      sprawl scan src/ config/ --exclude 'tests/**' -f sarif -o sprawl.sarif
      git diff | sprawl scan -
      sprawl scan . --history          # the whole git history, as `sprawl git .`
    Exit codes: 0 no findings, 1 findings, 2 usage or input error.
    """
    from scanner.scan import scan_bytes, scan_git, scan_paths

    options = _options(min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, rules_paths,
                       respect_gitignore, baseline)
    if history:
        if len(paths) != 1:
            raise click.UsageError("--history takes exactly one repository path")
        result = scan_git(paths[0], options)
    elif paths == ("-",):
        result = scan_bytes(sys.stdin.buffer.read(), "<stdin>", options)
    elif "-" in paths:
        raise click.UsageError("'-' (standard input) cannot be mixed with paths")
    else:
        missing = [p for p in paths if not Path(p).exists()]
        if len(missing) == len(paths):
            click.echo(f"sprawl: no such file or folder: {', '.join(missing)}", err=True)
            sys.exit(EXIT_ERROR)
        result = scan_paths(list(paths), options)
    _emit(result, fmt, output)


@main.command("git")
@click.argument("repo", default=".")
@report_options
@click.option("--branch", help="Only history reachable from this branch or ref (default: every ref).")
@click.option("--since-commit", help="Only commits after this one (exclusive).")
def git_command(repo, fmt, output, min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, baseline,
                rules_paths, branch, since_commit):
    """Scan the full history of a git repository: every blob of every branch, tag and remote.

    Each unique blob is scanned once; each finding names the commit, author and date that
    introduced it, and every other commit and path that holds it. Works on work trees, bare
    and mirror clones.

    \b
    Examples:
      sprawl git                       # the repository in the current folder
      sprawl git ../service.git --branch main --since-commit v1.2.0 -f json
    """
    from scanner.scan import scan_git

    options = _options(min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, rules_paths,
                       baseline=baseline)
    _emit(scan_git(repo, options, branch, since_commit), fmt, output)


@main.command()
@click.argument("files", nargs=-1)
@report_options
def staged(files, fmt, output, min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, baseline,
           rules_paths):
    """The pre-commit check: scan what is staged, report secrets on added lines.

    Reads the index (or the temporary index of `git commit -a`), not the work tree. Given
    FILES (as the pre-commit framework passes them), scans exactly those files.

    \b
    Examples:
      sprawl staged                    # in a hook: .git/hooks/pre-commit
      sprawl install-hook              # writes that hook for you
    Exit codes: 0 nothing found, 1 secrets found (the commit is blocked), 2 error.
    """
    from scanner.report.summary import STAGED_HINT
    from scanner.scan import scan_staged

    options = _options(min_confidence, show_secrets, jobs, max_size, exclude, no_ignore_file, rules_paths,
                       baseline=baseline)
    result = scan_staged(list(files) or None, options)
    if result.findings and fmt == "text":
        click.echo(STAGED_HINT, err=True)
    _emit(result, fmt, output)


@main.command("install-hook")
@click.option("--force", is_flag=True, help="Replace an existing pre-commit hook.")
def install_hook(force):
    """Install `sprawl staged` as this repository's git pre-commit hook (without the pre-commit framework).

    \b
    Example:
      sprawl install-hook
    """
    from scanner.hook import install

    click.echo(install(force=force))


@main.group()
def baseline() -> None:
    """Adopt sprawl in a repository with known findings: create, update and import baselines."""


def _scan_for_baseline(paths, history, min_confidence):
    from scanner.scan import ScanOptions, scan_git, scan_paths

    options = ScanOptions(min_confidence=min_confidence)
    return scan_git(paths[0], options) if history else scan_paths(list(paths), options)


@baseline.command("create")
@click.argument("paths", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=".sprawl-baseline.json",
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
    from scanner.baseline import Baseline

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
    from scanner.baseline import Baseline

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
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=".sprawl-baseline.json",
              show_default=True)
def baseline_import(sources, output):
    """Import another scanner's allow list into a baseline (merging into OUTPUT if it exists).

    Reads a detect-secrets .secrets.baseline (hashed secrets), a .gitleaksignore and a
    .betterleaksignore (finding fingerprints file:rule:line, or value fingerprints).

    \b
    Example:
      sprawl baseline import .secrets.baseline .gitleaksignore -o .sprawl-baseline.json
    """
    from scanner.baseline import Baseline, import_file

    base = Baseline.load(output) if output.exists() else Baseline()
    count = 0
    for source in sources:
        entries = import_file(source)
        base.entries.extend(entries)
        count += len(entries)
    base.save(output)
    click.echo(f"wrote {output}: {count} entr{'y' if count == 1 else 'ies'} imported")


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
