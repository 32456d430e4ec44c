"""sprawl scan, git, staged and install-hook: the scanning commands."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from scanner.cli import EXIT_ERROR, CommonOptions, emit, main, report_options


@main.command()
@click.argument("paths", nargs=-1, required=True)
@report_options
@click.option("--respect-gitignore", is_flag=True, help="Skip files that git ignores.")
@click.option("--history", is_flag=True, help="Scan the full git history of the repository at PATH (as `sprawl git`).")
@click.option("--scan-binaries", is_flag=True,
              help="Scan the printable strings of binary files (ELF, images, databases) instead of skipping them.")
@click.option("--diff", "as_diff", is_flag=True,
              help="Read the input (- or patch files) as a unified diff: scan only its added lines, reported at the "
                   "new file's path and line (automatic for standard input that starts as a diff).")
def scan(paths, common: CommonOptions, respect_gitignore, history, scan_binaries, as_diff):
    """Scan files and folders (or - for standard input) for secrets.

    \b
    Examples:
      sprawl scan .
      sprawl scan src/ config/ --exclude 'tests/**' -f sarif -o sprawl.sarif
      git diff | sprawl scan -         # a diff: only its added lines, at their new line numbers
      git log -p -3 | sprawl scan - --diff
      sprawl scan . --history          # the whole git history, as `sprawl git .`
    Exit codes: 0 no findings, 1 findings, 2 usage or input error, 3 incomplete (some input unreadable).
    """
    from scanner.pipeline.files import scan_paths
    from scanner.pipeline.git import scan_git
    from scanner.pipeline.memory import scan_input
    from scanner.sources.archive import Limits

    options = common.scan_options(respect_gitignore)
    if scan_binaries:
        options.archive_limits = dataclasses.replace(options.archive_limits or Limits(), scan_binaries=True)
    if history:
        if len(paths) != 1 or as_diff:
            raise click.UsageError("--history takes exactly one repository path (and no --diff)")
        result = scan_git(paths[0], options)
    elif paths == ("-",):
        result = _scan_stdin(options, as_diff, scan_input)
    elif as_diff:
        result = _scan_patch_files(paths, options)
    elif "-" in paths:
        raise click.UsageError("'-' (standard input) cannot be mixed with paths")
    else:
        missing = [p for p in paths if not Path(p).exists()]
        if len(missing) == len(paths):
            click.echo(f"sprawl: no such file or folder: {', '.join(missing)}", err=True)
            sys.exit(EXIT_ERROR)
        result = scan_paths(list(paths), options)
    emit(result, common, "git" if history else "scan", " ".join(paths), root=paths[0] if paths != ("-",) else ".")


def _scan_stdin(options, as_diff: bool, scan_input):
    """Standard input: a unified diff (--diff, or recognised from its first lines) by its added lines,
    anything else as one stream read in chunks (tests/test_diff.py)."""
    from scanner.pipeline.diff import scan_diff
    from scanner.sources.archive import Prefixed
    from scanner.sources.diff import SNIFF, iter_lines, looks_like_diff
    from scanner.sources.stream import read_full

    stdin = sys.stdin.buffer
    head = read_full(stdin, SNIFF)
    if as_diff or looks_like_diff(head):
        return scan_diff(iter_lines(Prefixed(head, stdin)), options)
    return scan_input(Prefixed(head, stdin), "<stdin>", options)


def _scan_patch_files(paths, options):
    """--diff with patch files: their added lines, as one diff."""
    import itertools

    from scanner.pipeline.diff import scan_diff
    from scanner.sources.diff import iter_lines

    missing = [p for p in paths if not Path(p).is_file()]
    if missing or "-" in paths:
        raise click.UsageError(f"--diff reads standard input (-) or patch files: not a file: {(missing or ['-'])[0]}")
    handles = [open(p, "rb") for p in paths]  # noqa: SIM115  (closed below)
    try:
        return scan_diff(itertools.chain.from_iterable(iter_lines(fh) for fh in handles), options)
    finally:
        for fh in handles:
            fh.close()


@main.command("git")
@click.argument("repo", default=".")
@report_options
@click.option("--branch", help="Only history reachable from this branch or ref (default: every ref).")
@click.option("--since-commit", help="Only commits after this one (exclusive).")
@click.option("--whole-blobs", is_flag=True,
              help="Scan every blob whole (slower), not each version of a file only where it differs from another.")
def git_command(repo, common: CommonOptions, branch, since_commit, whole_blobs):
    """Scan the full history of a git repository: every blob of every branch, tag and remote.

    Each unique blob is scanned once; each finding names the commit, author and date that
    introduced it, and every other commit and path that holds it. Works on work trees, bare
    and mirror clones. Each version of a file is scanned where it differs from a version already
    scanned, with the findings elsewhere in it carried over: the same findings, a fraction of the work.

    \b
    Examples:
      sprawl git                       # the repository in the current folder
      sprawl git ../service.git --branch main --since-commit v1.2.0 -f json
      sprawl git --whole-blobs         # every blob scanned whole
    """
    from scanner.sources.git import walk_history

    walk = walk_history(repo, branch, since_commit)  # git walks the history while the engine is imported
    from scanner.pipeline.git import scan_git

    options = common.scan_options()
    options.whole_blobs = whole_blobs
    emit(scan_git(repo, options, branch, since_commit, walk=walk), common, "git", repo, root=repo)


@main.command()
@click.argument("files", nargs=-1)
@report_options
def staged(files, common: CommonOptions):
    """The pre-commit check: scan what is staged, report secrets on added lines.

    Reads the index (or the temporary index of `git commit -a`), not the work tree. Given
    FILES (as the pre-commit framework passes them), scans exactly those files.

    \b
    Examples:
      sprawl staged                    # in a hook: .git/hooks/pre-commit
      sprawl install-hook              # writes that hook for you
    Exit codes: 0 nothing found, 1 secrets found (the commit is blocked), 2 error, 3 a staged file unreadable.
    """
    from scanner.pipeline.staged import scan_staged
    from scanner.report.summary import STAGED_HINT

    result = scan_staged(list(files) or None, common.scan_options())
    if result.findings and common.fmt == "text":
        click.echo(STAGED_HINT, err=True)
    emit(result, common, "staged", " ".join(files) or ".", root=files[0] if files else ".")


@main.command("install-hook")
@click.option("--force", is_flag=True, help="Replace an existing pre-commit hook.")
def install_hook(force):
    """Install `sprawl staged` as this repository's git pre-commit hook (without the pre-commit framework).

    \b
    Example:
      sprawl install-hook
    """
    from scanner.cli.hook import install

    click.echo(install(force=force))
