"""The `sprawl` command: a thin click layer over the library API.

Each command group lives in its own module here and registers itself on `main`;
COMMAND_MODULES lists them. Modules import the heavy parts (engine, git, datastore)
inside the commands, so `sprawl staged` starts fast.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scanner import __version__
from scanner.engine.backends import BACKENDS
from scanner.model import CONFIDENCES
from scanner.store.paths import DEFAULT_DB, DEFAULT_DB_HELP

if TYPE_CHECKING:
    from scanner.pipeline.options import ScanOptions
    from scanner.validate.api import ValidationOptions

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INCOMPLETE = 0, 1, 2, 3
FORMATS = ["text", "json", "jsonl", "sarif", "csv", "html"]


class SprawlGroup(click.Group):
    """Turns every failure into a one-line error and exit code 2, never a traceback: exit code 1 means
    findings and nothing else (tests/test_scan_cli.py::test_an_unexpected_error_is_one_line_and_exit_2)."""

    def invoke(self, ctx):
        from scanner.errors import SprawlError

        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except SprawlError as exc:
            click.echo(f"sprawl: {exc}", err=True)
            ctx.exit(EXIT_ERROR)
        except OSError as exc:
            click.echo(f"sprawl: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            ctx.exit(EXIT_ERROR)
        except KeyboardInterrupt:
            click.echo("sprawl: interrupted", err=True)
            ctx.exit(130)
        except RecursionError:
            click.echo("sprawl: input nested too deeply to read", err=True)
            ctx.exit(EXIT_ERROR)
        except Exception as exc:  # a bug: still one line, and never exit code 1 (findings)
            first = str(exc).splitlines()[0][:200] if str(exc) else ""
            click.echo(f"sprawl: internal error: {type(exc).__name__}{': ' + first if first else ''}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=SprawlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sprawl")
def main() -> None:
    """Find static secrets wherever they sprawl, and say whose they are and how bad each is."""


@dataclass
class CommonOptions:
    """The options every scanning command shares: what to report, how, where, and what to record."""

    fmt: str
    output: str | None
    min_confidence: str
    show_secrets: bool
    jobs: int
    max_size: int
    exclude: tuple[str, ...]
    no_ignore_file: bool
    baseline: Path | None
    rules_paths: tuple[Path, ...]
    engine: str
    no_context: bool
    record_db: str | None
    store_secrets: bool
    inventory_file: Path | None
    validate: bool
    endpoints: tuple[str, ...]
    allow_internal_endpoints: bool
    validation_rps: float
    validation_budget: int
    extra_rules: tuple[Path, ...]
    public_repos: tuple[str, ...]
    color: str
    quiet: bool
    verbose: bool

    def scan_options(self, respect_gitignore: bool = False) -> ScanOptions:
        from scanner.cli.progress import progress_for_terminal
        from scanner.pipeline.options import ScanOptions
        from scanner.sources.filesystem import WalkOptions

        return ScanOptions(
            min_confidence=self.min_confidence,
            jobs=self.jobs,
            walk=WalkOptions(max_size=self.max_size, excludes=tuple(self.exclude), respect_gitignore=respect_gitignore),
            show_secrets=self.show_secrets,
            rules_paths=list(self.rules_paths) or None,
            extra_rules=list(self.extra_rules) or None,
            use_ignore_files=not self.no_ignore_file,
            baseline=_load_baseline(self.baseline),
            progress=progress_for_terminal(),
            engine=self.engine,
            context=not self.no_context,
        )

    def validation_options(self) -> ValidationOptions:
        return validation_options(self.endpoints, self.allow_internal_endpoints, self.validation_rps,
                                  self.validation_budget)


def validation_options(endpoints: tuple[str, ...], allow_internal: bool, rps: float = 2.0,
                       budget: int = 1000) -> ValidationOptions:
    """The validation settings of the flags `validation_flags` adds; a bad --endpoint is a usage error."""
    from scanner.validate.api import ValidationOptions

    options = ValidationOptions(endpoints=endpoints, allow_internal=allow_internal, rps=rps, budget=budget)
    try:
        options.policy()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--endpoint") from None
    return options


def validation_flags(func):
    """--endpoint, --allow-internal-endpoints, --validation-rps and --validation-budget: where and how fast
    requests to providers may go (validation, revocation)."""
    for option in reversed([
        click.option("--endpoint", "endpoints", multiple=True, metavar="PROVIDER=URL",
                     help="Send PROVIDER's requests to this base URL (GitHub Enterprise, a proxy); repeatable."),
        click.option("--allow-internal-endpoints", is_flag=True,
                     help="Let requests reach loopback, private and link-local addresses (refused by default)."),
        click.option("--validation-rps", type=click.FloatRange(min=0.01), default=2.0, show_default=True,
                     help="Requests per second, per provider."),
        click.option("--validation-budget", type=click.IntRange(0), default=1000, show_default=True,
                     help="Requests this run may send in all."),
    ]):
        func = option(func)
    return func


_COMMON = [field.name for field in fields(CommonOptions)]


def report_options(func):
    """Options every scanning command shares; the command receives them as one CommonOptions, `common`."""

    @click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="Report format.")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
                  help="Write the report here, not stdout.")
    @click.option("--min-confidence", type=click.Choice(CONFIDENCES), default="medium",
                  show_default=True, help="Report findings at or above this confidence.")
    @click.option("--show-secrets", is_flag=True, help="Print full secret values (off by default: previews are redacted).")
    @click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
    @click.option("--max-size", type=click.IntRange(1), default=64 * 1024 * 1024, show_default=True,
                  help="Stream files larger than this many bytes in chunks (skip git blobs larger than this).")
    @click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this glob (repeatable).")
    @click.option("--no-ignore-file", is_flag=True,
                  help="Do not read .sprawlignore (nor, for staged, the repository's .sprawl-baseline.json).")
    @click.option("--baseline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Report only findings that this baseline does not hold.")
    @click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
                  help="Load rules from these files or folders INSTEAD of the built-in rules (see --extra-rules).")
    @click.option("--extra-rules", multiple=True, type=click.Path(exists=True, path_type=Path),
                  help="Add the rules in these files or folders to the built-in ones (repeatable).")
    @click.option("--engine", type=click.Choice(BACKENDS), default="auto", envvar="SPRAWL_ENGINE",
                  show_envvar=True, help="Matcher backend (auto: Hyperscan when it imports).")
    @click.option("--no-context", is_flag=True,
                  help="Skip syntactic context (tree-sitter, line parsers, decoders): faster, noisier.")
    @click.option("--db", "record_db", is_flag=False, flag_value=DEFAULT_DB, default=None, metavar="PATH",
                  callback=_datastore_file, help=f"Record the findings in this datastore (--db alone: {DEFAULT_DB_HELP}).")
    @click.option("--store-secrets", is_flag=True, help="With --db: store full secret values (off by default).")
    @click.option("--inventory", "inventory_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Link findings to owners in this inventory and score their blast radius.")
    @click.option("--validate", is_flag=True,
                  help="Ask each credential's own provider whether it is live and what it can reach (off by default).")
    @validation_flags
    @click.option("--public-repo", "public_repos", multiple=True, metavar="NAME",
                  help="A repository that is public: its findings score as exposed in public (repeatable).")
    @click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                  help="Colour the text report (auto: on a terminal, unless NO_COLOR is set or TERM=dumb).")
    @click.option("-q", "--quiet", is_flag=True, help="Print nothing when nothing is found (hooks, cron jobs).")
    @click.option("-v", "--verbose", is_flag=True, help="List every skipped input, not only the first ones.")
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from scanner.cli.config import apply

        root = next((p for key in ("paths", "repo", "files") for p in (kwargs.get(key) or ()) if p != "-"), ".")
        apply(click.get_current_context(), kwargs, Path(root if isinstance(root, str) else root))
        common = CommonOptions(**{name: kwargs.pop(name) for name in _COMMON})
        return func(*args, common=common, **kwargs)

    return wrapper


def _load_baseline(path: Path | None):
    if path is None:
        return None
    from scanner.findings.baseline import Baseline

    return Baseline.load(path)


def emit(result, common: CommonOptions, kind: str, target: str, root: str = ".") -> None:
    """Record (with --db), analyze (with --inventory), render, write, print the closing summary and exit
    with the findings' exit code. `root` is a path in the scanned repository (SARIF names where it lives).
    The workflows (scanner.api) load only when asked for: a plain pre-commit run needs none of them."""
    if common.fmt == "sarif" and result.repo is not None:
        from scanner.sources.vcs import local_vcs

        if (vcs := local_vcs(root)) is not None:
            result.vcs.setdefault(result.repo, vcs)

    inventory = _load_inventory(common.inventory_file)  # before recording: a bad inventory writes nothing
    if common.validate:
        from scanner import api

        api.validate_result(result, common.validation_options())
    if common.record_db:
        from scanner.store.paths import resolve_db

        db = resolve_db(common.record_db, root)
        if common.record_db != DEFAULT_DB:
            warn_if_in_work_tree(db)
        from scanner import api

        recorded = api.record_scan(db, result, kind, target, inventory=inventory,
                                   store_secrets=common.store_secrets, public_repos=frozenset(common.public_repos))
        scored = " with links and scores" if recorded.analysed else ""
        click.echo(f"sprawl: recorded as scan {recorded.scan_id}{scored} in {db}", err=True)
    if (inventory is not None or common.public_repos) and any(f.analysis is None for f in result.findings):
        from scanner import api

        api.analyze_result(result, inventory, public_repos=frozenset(common.public_repos))
    if common.fmt == "html":
        from scanner import api

        api.score_unscored(result)
    write_report(result, common.fmt, common.output, private=common.show_secrets, color=common.color,
                 quiet=common.quiet, verbose=common.verbose)


def warn_if_in_work_tree(db) -> None:
    """One line on standard error when a named datastore would be picked up by `git add -A`."""
    from scanner.store.paths import work_tree_warning

    if (warning := work_tree_warning(db)) is not None:
        click.echo(f"sprawl: warning: {warning}", err=True)


def _datastore_file(ctx, param, value):
    """`--db` takes an optional value, so `sprawl scan --db .` reads `.` as the datastore: a folder there is
    the path the user meant to scan, said in one line rather than as a missing argument."""
    if value and value != DEFAULT_DB and Path(value).is_dir():
        raise click.BadParameter(f"{value!r} is a folder, not a datastore file: put the paths before --db, or "
                                 "write --db=FILE (--db alone picks the default place)", ctx, param)
    return value


def db_option_default(ctx, param, value):
    """The `--db` of the datastore commands: the path given (with a warning when it lies in a work tree
    and git does not ignore it), else the default place (scanner.store.paths.default_db)."""
    from scanner.store.paths import default_db

    if value is None:
        return default_db()
    warn_if_in_work_tree(value)
    return value


def write_report(result, fmt: str, output: str | None, private: bool = False, color: str = "auto",
                 quiet: bool = False, verbose: bool = False, listing: bool = False) -> None:
    """Render, write, print the closing summary and exit: 1 with findings, else 3 when some input could not
    be read (a run that read less than it was given never looks clean), else 0. --quiet: a clean run
    prints nothing at all. `listing`: a datastore listing, closed with its own counts, not a scan's."""
    from scanner.report import render
    from scanner.report.listing import listing_lines
    from scanner.report.summary import summary_lines

    code = exit_code(result)
    if quiet and code == EXIT_CLEAN:
        sys.exit(code)
    report = render(result, fmt, color=use_color(color, output), max_skips=None if verbose else 20, listing=listing)
    if output:
        write_atomically(Path(output), report, private)
    else:
        click.echo(report, nl=False)
    if (fmt != "text" or output) and not quiet:
        lines = listing_lines(result) if listing else summary_lines(result, max_skips=10**9 if verbose else 20)
        for line in lines:
            click.echo(f"sprawl: {line}", err=True)
    sys.exit(code)


def use_color(choice: str, output: str | None) -> bool:
    """--color always or never; auto: on a terminal, unless NO_COLOR is set (to anything) or TERM=dumb."""
    import os

    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return output is None and sys.stdout.isatty()


def exit_code(result) -> int:
    if result.findings:
        return EXIT_FINDINGS
    if any(skip.incomplete for skip in result.stats.skipped):
        return EXIT_INCOMPLETE
    return EXIT_CLEAN


def write_atomically(path: Path, text: str, private: bool = False) -> None:
    """Write a report whole or not at all (a temporary file beside it, then a rename); mode 0600 when it
    holds plaintext secrets (--show-secrets)."""
    import os
    import stat
    import tempfile

    try:
        special = not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        special = False
    if special:  # /dev/null, a FIFO, a terminal: written in place; a rename would replace the device with a file
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as out:
            out.write(text)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        if not private:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def _load_inventory(path: Path | None):
    """Imported here, not at start-up: a scan without --inventory never loads the inventory or analysis."""
    if path is None:
        return None
    from scanner.inventory.loader import load_inventory

    return load_inventory(path)


COMMAND_MODULES = ("scan_commands", "baseline", "rules", "store", "inventory", "triage", "workstation", "config", "validate")


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"scanner.cli.{name}")


_register()
