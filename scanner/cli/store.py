"""sprawl sweep, findings, status and fingerprint: the datastore commands."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from scanner.cli import EXIT_CLEAN, EXIT_FINDINGS, FORMATS, db_option_default, main, validation_options, write_atomically
from scanner.model import BAND_NAMES, CONFIDENCES
from scanner.store.paths import DEFAULT_DB_HELP

EXIT_INCOMPLETE = 3  # DESIGN section 9: some input could not be read, and nothing new was found in the rest


class ByteSize(click.ParamType):
    """A size in bytes: a whole number, optionally with K, M or G (powers of 1024)."""

    name = "size"
    _UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().upper().removesuffix("IB").removesuffix("B")
        unit = text[-1:] if text[-1:] in self._UNITS else ""
        number = text[:-1] if unit else text
        if not number.isdigit():
            self.fail(f"{value!r} is not a size (a whole number of bytes, or with K, M or G)", param, ctx)
        return int(number) * self._UNITS[unit]


def _db_option(func):
    return click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        callback=db_option_default, help=f"The datastore file (default: {DEFAULT_DB_HELP}).")(func)


def _key_option(func):
    return click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
                        help="Read the fingerprint key from this file (default: $SPRAWL_FINGERPRINT_KEY, "
                             "else a local key generated on first use).")(func)


@main.command()
@click.argument("folders", nargs=-1, type=click.Path(file_okay=False))
@click.option("--repos", "repos_file", type=click.Path(dir_okay=False),
              help="A file listing repositories, one a line (# starts a comment): local paths, or URLs to mirror "
                   "(https, ssh, git, file, user@host:path).")
@click.option("--github-org", multiple=True, metavar="ORG", help="Every repository of this GitHub organisation.")
@click.option("--gitlab-group", multiple=True, metavar="GROUP", help="Every project of this GitLab group and its subgroups.")
@click.option("--bitbucket-workspace", multiple=True, metavar="WS", help="Every repository of this Bitbucket workspace.")
@click.option("--gitea-org", multiple=True, metavar="ORG", help="Every repository of this Gitea organisation.")
@click.option("--endpoint", "endpoints", multiple=True, metavar="HOST=URL",
              help="The API of a self-hosted github, gitlab, bitbucket or gitea (GitHub Enterprise: "
                   "github=https://ghe.example.com/api/v3); repeatable.")
@click.option("--allow-internal-endpoints", is_flag=True,
              help="Let the host APIs and git reach loopback, private and link-local addresses (refused by default).")
@click.option("--mirrors", "mirrors_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep the bare mirrors of hosted repositories here (default: the user cache directory).")
@click.option("--skip-archived", is_flag=True, help="Leave out repositories the host marks archived.")
@click.option("--skip-forks", is_flag=True, help="Leave out forks.")
@click.option("--include", "include_repos", multiple=True, metavar="GLOB",
              help="Sweep only hosted repositories whose name or full name matches (repeatable).")
@click.option("--exclude", "exclude_repos", multiple=True, metavar="GLOB",
              help="Leave out hosted repositories whose name or full name matches (repeatable).")
@click.option("--github-app-id", metavar="ID", help="Authenticate to GitHub as this App (with --github-app-key).")
@click.option("--github-app-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The GitHub App's private key (PEM); read into memory only.")
@click.option("--github-app-installation", type=click.IntRange(1), metavar="ID",
              help="The App installation to use (default: the one on each --github-org; alone: every repository "
                   "the installation reaches).")
@_db_option
@_key_option
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: print the sweep's summary with its coverage on stdout.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="With -f json: write the summary here instead.")
@click.option("-j", "--jobs", type=click.IntRange(0), default=0, help="Worker processes (0: every core).")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress bars or per-repository lines; the summary only when something was found or failed.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="Run the units in local worker processes, or as Ray tasks (needs `secret-sprawl[ray]`).")
@click.option("--ray-address", metavar="ADDRESS",
              help="The Ray cluster to join (auto: this node's; HOST:PORT: its GCS); default: a local Ray with --jobs CPUs.")
@click.option("--slice-bytes", type=ByteSize(), default="64M", show_default=True, metavar="SIZE",
              help="Sweep a repository with more than SIZE of new blobs (K, M, G: binary units) as several units of "
                   "at most SIZE each, shared among the workers (0: no limit by size).")
@click.option("--slice-blobs", type=click.IntRange(0), default=50_000, show_default=True, metavar="N",
              help="Also cut those units at N new blobs each (0: no limit by count).")
@click.option("--rules", "rules_paths", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Load rules from these files or folders instead of the built-in rules.")
@click.option("--max-size", type=click.IntRange(1), default=64 * 1024 * 1024, show_default=True,
              help="Skip blobs larger than this many bytes.")
@click.option("--exclude-path", multiple=True, metavar="GLOB", help="Skip paths matching this glob (repeatable).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True,
              help="New findings at or above this confidence set exit code 1 (all are stored).")
@click.option("--store-secrets", is_flag=True, help="Store full secret values in the datastore (off by default).")
@click.option("--inventory", "inventory_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Then link every finding to its owner in this inventory and score its blast radius, "
                   "writing links and scores as `sprawl analyze --db` does.")
@click.option("--validate", is_flag=True,
              help="Once every repository is swept, ask the provider of each credential found in new blobs "
                   "whether it is live (answers recorded in the datastore; --endpoint PROVIDER=URL applies).")
@click.option("--validation-rps", type=click.FloatRange(min=0.01), default=2.0, show_default=True,
              help="With --validate: requests per second per provider.")
@click.option("--validation-budget", type=click.IntRange(0), default=1000, show_default=True,
              help="With --validate: requests in this run, at most.")
def sweep(folders, repos_file, github_org, gitlab_group, bitbucket_workspace, gitea_org, endpoints,
          allow_internal_endpoints, mirrors_dir, skip_archived, skip_forks, include_repos, exclude_repos,
          github_app_id, github_app_key, github_app_installation, db_path, key_file, fmt, output, jobs, executor,
          ray_address,
          rules_paths, max_size, exclude_path, min_confidence, store_secrets, inventory_file, quiet, slice_blobs,
          slice_bytes,
          validate, validation_rps, validation_budget):
    """Sweep many repositories' full history into the datastore, incrementally.

    Takes the repositories in FOLDERS (work trees, bare and mirror clones, at any depth), those
    listed in --repos, and every repository of the organisations named by --github-org,
    --gitlab-group, --bitbucket-workspace and --gitea-org. Hosted repositories and URLs are kept
    as bare mirrors (--mirrors), cloned once and then fetched; tokens come from GITHUB_TOKEN,
    GITLAB_TOKEN, BITBUCKET_TOKEN (or BITBUCKET_USERNAME with BITBUCKET_APP_PASSWORD), GITEA_TOKEN,
    or a GitHub App, and are never written anywhere. Blobs already scanned under the same rules are
    skipped and a repository whose refs have not moved costs one git call; a sweep killed at any
    point resumes where it stopped when run again. A sweep of the same repositories that is still
    running in another process is not joined: this one stops with an error. Several sweeps of
    different repositories may write one datastore at once. Every run records one coverage row
    per repository (listed and left out, scanned, unchanged, failed with its reason).

    \b
    Examples:
      sprawl sweep /srv/mirrors                         # every repository under the folder
      sprawl sweep --repos repos.txt --db org.db -j 8
      GITHUB_TOKEN=... sprawl sweep --github-org acme --skip-archived --db org.db -f json
      sprawl sweep --gitlab-group acme/platform --endpoint gitlab=https://git.example.com/api/v4
      sprawl sweep /srv/mirrors --inventory inventory.yaml   # then `sprawl findings --min-band high`
      sprawl sweep --github-org acme --executor ray --ray-address auto --db org.db   # on a Ray cluster
    Exit codes: 0 nothing new, 1 new findings, 2 usage or input error (or the datastore cannot be
    written), 3 incomplete: a repository failed (named in the summary) and nothing new was found.
    """
    import json

    from scanner.cli.progress import PhaseBars
    from scanner.pipeline.executors import ExecutorError, make_executor
    from scanner.pipeline.sweep import HostedSweep, SweepOptions, plan_hosted
    from scanner.pipeline.sweep import sweep as run_sweep
    from scanner.sources.hosts import GitHubAppConfig, HostSource, RepoFilter
    from scanner.sources.repos import find_targets
    from scanner.store.keys import load_key

    sources = [*(HostSource("github", o) for o in github_org), *(HostSource("gitlab", g) for g in gitlab_group),
               *(HostSource("bitbucket", w) for w in bitbucket_workspace), *(HostSource("gitea", o) for o in gitea_org)]
    app = None
    if github_app_id or github_app_key:
        if not (github_app_id and github_app_key):
            raise click.UsageError("--github-app-id and --github-app-key go together")
        app = GitHubAppConfig(github_app_id, github_app_key, github_app_installation)
        if not github_org:
            if github_app_installation is None:
                raise click.UsageError("a GitHub App without --github-org needs --github-app-installation")
            sources.append(HostSource("github", "", installation=True))
    try:
        runner = make_executor(executor, jobs, ray_address)
    except ExecutorError as exc:
        raise click.UsageError(str(exc)) from None
    targets = find_targets(repos_file, list(folders), allow_empty=bool(sources))
    inventory = _load_inventory(inventory_file)  # before sweeping: a bad inventory stops nothing half-way
    key = load_key(key_file)
    checking = validation_options(endpoints, allow_internal_endpoints, validation_rps, validation_budget) \
        if validate else None  # a bad --endpoint stops the sweep before it starts
    options = SweepOptions(jobs=jobs, rules_paths=list(rules_paths) or None, max_size=max_size,
                           excludes=tuple(exclude_path), store_secrets=store_secrets, min_confidence=min_confidence,
                           validation=checking, slice_blobs=slice_blobs,
                           slice_bytes=slice_bytes)
    echo = lambda line: click.echo(f"sprawl: {line}", err=True)  # noqa: E731
    # A terminal gets a bar per phase (listing, fetching, scanning); a pipe or log one line per repository;
    # --quiet neither (and the summary only when the exit code is not 0).
    bars = PhaseBars() if sys.stderr.isatty() and not quiet else None
    log = None if bars or quiet else echo
    hosted = mirrors = None
    if sources or targets.urls:
        hosted, mirrors = _plan_hosted(plan_hosted, HostedSweep(
            sources, targets.urls, RepoFilter(skip_archived, skip_forks, tuple(include_repos), tuple(exclude_repos)),
            app), endpoints, allow_internal_endpoints, mirrors_dir, echo, bars)
    try:
        summary = run_sweep(targets.paths, db_path, key, options, progress=bars, log=log, hosted=hosted,
                            mirrors=mirrors, executor=runner)
    finally:
        runner.close()
        if bars:
            bars.finish()
    code = EXIT_FINDINGS if summary.new_findings else EXIT_INCOMPLETE if summary.incomplete else EXIT_CLEAN
    if quiet and code == EXIT_CLEAN:
        echo = lambda line: None  # noqa: E731
    for line in summary.lines():
        echo(line)
    if checking is not None:
        answers = summary.validated
        counts = {s: sum(str(a.status) == s for a in answers) for s in ("active", "revoked", "indeterminate")}
        echo(f"{len(answers)} credential(s) validated: {counts['active']} active, {counts['revoked']} revoked, "
             f"{counts['indeterminate']} could not tell")
    if inventory is not None:
        from scanner.analysis.store_io import analyze_store

        analysis, _stored = analyze_store(db_path, inventory, min_confidence=min_confidence)
        echo(f"{len(analysis.subjects)} credential(s) linked and scored against {inventory_file}")
    echo(f"scan {summary.scan_id} recorded in {db_path}; "
         f"`sprawl findings --db {db_path} --new-since {summary.scan_id - 1}` lists what is new")
    if fmt == "json":
        document = json.dumps(summary.to_dict(), indent=2) + "\n"
        if output is None:
            click.echo(document, nl=False)
        else:
            write_atomically(output, document)
    sys.exit(code)


def _plan_hosted(plan_hosted, request, endpoints, allow_internal, mirrors_dir, echo, progress=None):
    """List the host sources through the guarded client; the mirror cache with the same address rule."""
    from scanner.net.endpoints import EndpointPolicy
    from scanner.net.http import GuardedClient
    from scanner.sources.hosts.guarded import HOST_LIMITS, GuardedHostHttp, git_address_check
    from scanner.sources.mirrors import MirrorCache, default_mirror_root

    try:
        policy = EndpointPolicy.parse(endpoints, allow_internal=allow_internal)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--endpoint") from None
    client = GuardedClient(policy, limits=HOST_LIMITS)
    plan = plan_hosted(request, lambda kind: GuardedHostHttp(client, kind), policy.endpoints,
                       on_wait=lambda w: echo(f"{w.host}: {w.reason}, waiting {w.seconds:.0f}s before {w.url}"),
                       progress=progress)
    for row in plan.failed:
        echo(f"error {row.repo}: {row.reason}")
    mirrors = MirrorCache(mirrors_dir or default_mirror_root(), address_check=git_address_check(allow_internal))
    return plan, mirrors


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
        if fmt == "sarif":
            result.vcs.update(_swept_repositories(db_path))
    write_report(result, fmt, output, private=show_secrets, listing=True)


def _swept_repositories(db_path: Path) -> dict:
    """Repository name -> where it lives, for SARIF: the host's URL (or the local clone's remote), the commit
    at its HEAD and its default branch, as far as known; never credentials (scanner.sources.vcs.public_url)."""
    from scanner.model import VersionControl
    from scanner.sources.vcs import local_vcs, public_url
    from scanner.store import Store

    store = Store(db_path, create=False)
    try:
        rows = list(store.db.query("SELECT name, path, url, default_branch FROM repositories ORDER BY id"))
    finally:
        store.close()
    out: dict[str, VersionControl] = {}
    for row in rows:
        local = local_vcs(row["path"]) if row["path"] and Path(row["path"]).is_dir() else None
        uri = public_url(row["url"] or "") or (local.repository_uri if local else "")
        if uri and row["name"] not in out:
            out[row["name"]] = VersionControl(uri, local.revision_id if local else "",
                                              row["default_branch"] or (local.branch if local else ""))
    return out


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

    FINGERPRINT is the credential key or the fingerprint `sprawl findings --db` shows (or at least 8
    characters of either), or the portable fingerprint a scan report or baseline shows, whole.

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
