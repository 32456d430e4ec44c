"""sprawl sweep, findings, status and fingerprint: the datastore commands."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from scanner.cli import EXIT_CLEAN, EXIT_FINDINGS, FORMATS, main
from scanner.model import BAND_NAMES, CONFIDENCES
from scanner.store.paths import DEFAULT_DB

EXIT_INCOMPLETE = 3  # DESIGN section 9: some input could not be read, and nothing new was found in the rest


def _db_option(func):
    return click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
                        show_default=True, help="The datastore file.")(func)


def _key_option(func):
    return click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
                        help="Read the fingerprint key from this file (default: $SPRAWL_FINGERPRINT_KEY, "
                             "else a local key generated on first use).")(func)


@main.command()
@click.argument("folders", nargs=-1, type=click.Path(file_okay=False))
@click.option("--repos", "repos_file", type=click.Path(dir_okay=False),
              help="A file listing repository paths, one a line (# starts a comment).")
@_db_option
@_key_option
@click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
@click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Load rules from these files or folders instead of the built-in rules.")
@click.option("--max-size", type=click.IntRange(1), default=64 * 1024 * 1024, show_default=True,
              help="Skip blobs larger than this many bytes.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip paths matching this glob (repeatable).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True,
              help="New findings at or above this confidence set exit code 1 (all are stored).")
@click.option("--store-secrets", is_flag=True, help="Store full secret values in the datastore (off by default).")
@click.option("--inventory", "inventory_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Then link every finding to its owner in this inventory and score its blast radius, "
                   "writing links and scores as `sprawl analyze --db` does.")
def sweep(folders, repos_file, db_path, key_file, jobs, rules_paths, max_size, exclude, min_confidence,
          store_secrets, inventory_file):
    """Sweep many repositories' full history into the datastore, incrementally.

    Takes the repositories in FOLDERS (work trees, bare and mirror clones, at any depth) and
    those listed in --repos. Blobs already scanned under the same rules are skipped and a
    repository whose refs have not moved costs one git call; a sweep killed at any point
    resumes where it stopped when run again. A sweep of the same repositories that is still
    running in another process is not joined: this one stops with an error. Several sweeps of
    different repositories may write one datastore at once.

    \b
    Examples:
      sprawl sweep /srv/mirrors                         # every repository under the folder
      sprawl sweep --repos repos.txt --db org.db -j 8
      sprawl sweep /srv/mirrors --inventory inventory.yaml   # then `sprawl findings --min-band high`
    Exit codes: 0 nothing new, 1 new findings, 2 usage or input error (or the datastore cannot be
    written), 3 incomplete: a repository failed (named in the summary) and nothing new was found.
    """
    from scanner.pipeline.sweep import SweepOptions, discover
    from scanner.pipeline.sweep import sweep as run_sweep
    from scanner.store.keys import load_key

    paths = discover(repos_file, list(folders))
    inventory = _load_inventory(inventory_file)  # before sweeping: a bad inventory stops nothing half-way
    key = load_key(key_file)
    options = SweepOptions(jobs=jobs, rules_paths=list(rules_paths) or None, max_size=max_size,
                           excludes=tuple(exclude), store_secrets=store_secrets, min_confidence=min_confidence)
    if sys.stderr.isatty():
        with click.progressbar(length=len(paths), label="sweeping", file=sys.stderr) as bar:
            summary = run_sweep(paths, db_path, key, options, progress=bar.update)
    else:
        summary = run_sweep(paths, db_path, key, options, log=lambda line: click.echo(f"sprawl: {line}", err=True))
    for line in summary.lines():
        click.echo(f"sprawl: {line}", err=True)
    if inventory is not None:
        from scanner.analysis.store_io import analyze_store

        analysis, _stored = analyze_store(db_path, inventory, min_confidence=min_confidence)
        click.echo(f"sprawl: {len(analysis.subjects)} credential(s) linked and scored against {inventory_file}",
                   err=True)
    click.echo(f"sprawl: scan {summary.scan_id} recorded in {db_path}; "
               f"`sprawl findings --db {db_path} --new-since {summary.scan_id - 1}` lists what is new", err=True)
    sys.exit(EXIT_FINDINGS if summary.new_findings else EXIT_INCOMPLETE if summary.incomplete else EXIT_CLEAN)


def _load_inventory(path):
    if path is None:
        return None
    from scanner.inventory.loader import load_inventory

    return load_inventory(path)


@main.command()
@_db_option
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the report here.")
@click.option("--rule", help="Only this rule id.")
@click.option("--provider", help="Only this provider.")
@click.option("--repo", help="Only credentials found in this repository (name or git dir).")
@click.option("--status", type=click.Choice(["open", "allowed", "revoked", "resolved"]),
              help="Only this triage status (resolved: gone from every branch head).")
@click.option("--new-since", type=click.IntRange(0), metavar="SCAN_ID", help="Only credentials first found after this scan.")
@click.option("--min-confidence", type=click.Choice(CONFIDENCES), default="medium", show_default=True)
@click.option("--min-score", type=click.IntRange(0, 100), help="Only findings whose recorded blast radius is at least this.")
@click.option("--min-band", type=click.Choice(BAND_NAMES), help="Only findings in this blast-radius band or above.")
@click.option("--owner", help="Only findings linked to this owner or identity (e.g. team:payments, agent:release-bot).")
@click.option("--show-secrets", is_flag=True, help="Print secret values the datastore holds (only with --store-secrets).")
def findings(db_path, fmt, output, rule, provider, repo, status, new_since, min_confidence, min_score, min_band, owner,
             show_secrets):
    """List what the datastore holds: one finding per credential with every place it appears.

    Findings that an analysis scored (`sprawl analyze --db`, or a scan or sweep with --db and
    --inventory) carry their owner, link confidence, blast radius and band, and are listed
    highest blast radius first; the others follow. --min-score, --min-band and --owner keep only
    scored findings.

    \b
    Examples:
      sprawl findings --provider github --status open
      sprawl findings --min-band high                  # what to rotate first, with its owner
      sprawl findings --owner team:payments -f json
      sprawl findings --new-since 41 -f sarif -o new.sarif
      sprawl findings --repo payments-api -f csv
    Exit codes: 0 nothing listed, 1 findings listed, 2 usage or input error.
    """
    from scanner.api import FindingFilter, list_findings
    from scanner.cli import write_report

    where = FindingFilter(rule=rule, provider=provider, repo=repo, status=status, new_since=new_since,
                          min_confidence=min_confidence, min_score=min_score, min_band=min_band, owner=owner)
    with _datastore_errors(db_path):
        result = list_findings(db_path, where, show_secrets)
    write_report(result, fmt, output, private=show_secrets)


@contextmanager
def _datastore_errors(db_path):
    """A SQLite failure while reading (a damaged page past what opening checks) is one line and exit 2."""
    import sqlite3

    from scanner.store import StoreError

    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"{db_path}: cannot read the datastore ({exc})") from None


_STATUSES = ["allowed", "revoked", "open"]


@main.command()
@click.argument("fingerprint")
@click.option("--as", "new_status", type=click.Choice(_STATUSES), required=True, help="The triage decision.")
@click.option("--reason", required=True, help="Why (kept with the decision).")
@_db_option
def mark(fingerprint, new_status, reason, db_path):
    """Record a triage decision for a credential; later sweeps keep it and do not report it as new.

    FINGERPRINT is the credential key (or at least 8 characters of it) or the portable fingerprint
    that reports show.

    \b
    Examples:
      sprawl mark 3f9a1c07 --as revoked --reason "rotated in INC-1234"
      sprawl mark 3f9a1c07 --as allowed --reason "test account, no access"
    """
    _record_decision(fingerprint, new_status, reason, db_path)


@main.command(hidden=True)
@click.argument("fingerprint")
@click.option("--set", "new_status", type=click.Choice(_STATUSES), required=True, help="The triage decision.")
@click.option("--reason", required=True, help="Why (kept with the decision).")
@_db_option
def status(fingerprint, new_status, reason, db_path):
    """The former name of `sprawl mark` (kept for one release)."""
    _record_decision(fingerprint, new_status, reason, db_path)


def _record_decision(fingerprint: str, new_status: str, reason: str, db_path: Path) -> None:
    from scanner.store import Store

    with _datastore_errors(db_path):
        store = Store(db_path, create=False)
        try:
            for row in store.set_status(fingerprint, new_status, reason):
                click.echo(f"{row['credential_key'][:16]} {row['rule_id']} {row['preview']}: {row['status']} "
                           f"({reason})")
        finally:
            store.close()


@main.command()
@_key_option
def fingerprint(key_file):
    """Print the credential key of a secret read on standard input (for the inventory's `fingerprint`).

    The value is HMAC-SHA256 of the normalized secret under the organisation key, the same the
    datastore uses; the secret itself is never printed or stored. One trailing newline is ignored.

    \b
    Example:
      printf %s "$TOKEN" | sprawl fingerprint
    """
    from scanner.errors import SprawlError
    from scanner.store.keys import credential_key, load_key

    data = sys.stdin.buffer.read()
    try:
        secret = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SprawlError("the secret on standard input is not UTF-8 text") from None
    if not secret.strip():
        raise SprawlError("no secret on standard input")
    click.echo(credential_key(secret, load_key(key_file)))
