"""The `sprawl` command: a thin click layer over the library API.

Each command group lives in its own module here and registers itself on `main`;
COMMAND_MODULES lists them. Modules import the heavy parts (engine, git, datastore)
inside the commands, so `sprawl staged` starts fast.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from scanner import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
FORMATS = ["text", "json", "jsonl", "sarif", "csv", "html"]


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


def _to_environment(variable: str, fixed: str | None = None):
    """A click callback setting an environment variable (to the option's value, or to `fixed`) when the
    option is given: scanner.scan.get_engine reads it in this process and in its workers."""

    def callback(ctx, param, value):
        if value:
            import os

            os.environ[variable] = fixed or value

    return callback


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
                  help="Stream files larger than this many bytes in chunks (skip git blobs larger than this).")
    @click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this glob (repeatable).")
    @click.option("--no-ignore-file", is_flag=True, help="Do not read .sprawlignore.")
    @click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Report only findings that this baseline does not hold.")
    @click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                  help="Load rules from these files or folders instead of the built-in rules.")
    @click.option("--engine", type=click.Choice(["auto", "portable", "hyperscan"]), default=None, expose_value=False,
                  callback=_to_environment("SPRAWL_ENGINE"),
                  help="Matcher backend (default auto: Hyperscan when installed).")
    @click.option("--no-context", is_flag=True, expose_value=False,
                  callback=_to_environment("SPRAWL_CONTEXT", "off"),
                  help="Skip syntactic context (tree-sitter, line parsers, decoders): faster, noisier.")
    @click.option("--db", "record_db", is_flag=False, flag_value=".sprawl/sprawl.db", default=None, metavar="PATH",
                  help="Record the findings in this datastore (--db alone: .sprawl/sprawl.db).")
    @click.option("--store-secrets", is_flag=True, help="With --db: store full secret values (off by default).")
    @click.option("--inventory", "inventory_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Link findings to owners in this inventory and score their blast radius.")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # Recording happens in _emit, so commands need no datastore parameters of their own.
        meta = click.get_current_context().meta
        meta["sprawl.record_db"] = kwargs.pop("record_db", None)
        meta["sprawl.store_secrets"] = kwargs.pop("store_secrets", False)
        meta["sprawl.inventory"] = kwargs.pop("inventory_file", None)
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
        progress=_progress(),
    )


def _progress():
    from scanner.cli.progress import progress_for_terminal

    return progress_for_terminal()


def _load_baseline(path: Path | None):
    if path is None:
        return None
    from scanner.baseline import Baseline

    return Baseline.load(path)


def _emit(result, fmt: str, output: str | None) -> None:
    """Render, write, print the closing summary and exit with the findings' exit code."""
    from scanner.report import render
    from scanner.report.summary import summary_lines

    ctx = click.get_current_context()
    if ctx.meta.get("sprawl.record_db"):
        _record(ctx, result)  # with --inventory, this analyses the findings too
    # Without an inventory the HTML report scores what carries no analysis itself, keeping recorded scores.
    if ctx.meta.get("sprawl.inventory") and any(f.analysis is None for f in result.findings):
        _analyze(ctx, result)
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


def repo_name(paths) -> str | None:
    """The repository a scan of these paths ran in: the name of the git work tree holding them (or of
    the bare repository they are), as a sweep names it; None outside git."""
    for p in paths:
        cur = Path(p).resolve()
        for folder in (cur, *cur.parents):
            if (folder / ".git").exists():
                return folder.name
            if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
                return folder.name.removesuffix(".git")
    return None


def _scanned_repo(ctx) -> str | None:
    params = ctx.params
    where = [params["repo"]] if params.get("repo") else list(params.get("paths") or ()) or ["."]
    return repo_name([p for p in where if p != "-"])


def _inventory(ctx):
    """Imported here, not at start-up: a scan without --inventory never loads the inventory or analysis."""
    from scanner.inventory.loader import load_inventory

    path = ctx.meta.get("sprawl.inventory")
    return load_inventory(path) if path else None


def _analyze(ctx, result) -> None:
    """Owner, link confidence, score and band on every finding, highest blast radius first."""
    from scanner.analysis.annotate import analyze_result

    analyze_result(result, _inventory(ctx), repo=_scanned_repo(ctx))


def _record(ctx, result) -> None:
    """Record the findings; with --inventory, their links and scores too, in the same transaction and
    through the same writer as `sprawl analyze --db`."""
    from scanner.store.record import record_result

    repo = _scanned_repo(ctx)
    then = None
    if ctx.meta.get("sprawl.inventory"):
        inventory = _inventory(ctx)  # before the transaction: a bad inventory writes nothing

        def then(store, ids, scan_id):
            from scanner.analysis.store_io import analyze_recorded

            analyze_recorded(store, result, ids, scan_id, inventory, repo=repo)

    params = ctx.params
    target = params.get("repo") or " ".join(params.get("paths") or params.get("files") or ()) or "."
    kind = "git" if ctx.info_name == "git" or params.get("history") else ctx.info_name
    # Locations carry the repository's name, as a sweep records them, so a later `sprawl analyze --db`
    # links them by repository just as this scan did.
    scan_id = record_result(ctx.meta["sprawl.record_db"], result, kind, str(target), repo=repo or "",
                            store_secrets=ctx.meta.get("sprawl.store_secrets", False), then=then)
    scored = " with links and scores" if then else ""
    click.echo(f"sprawl: recorded as scan {scan_id}{scored} in {ctx.meta['sprawl.record_db']}", err=True)


COMMAND_MODULES = ("scan_commands", "baseline", "rules", "store", "inventory", "triage")


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"scanner.cli.{name}")


_register()
