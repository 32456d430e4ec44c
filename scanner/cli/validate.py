"""sprawl validate and sprawl revoke: ask stored credentials' providers whether they are live, and revoke one
through its provider's API (a dry run unless --confirm)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.cli import db_option_default, main, validation_flags, validation_options, write_atomically
from scanner.store.paths import DEFAULT_DB_HELP

_DURATION = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _seconds(text: str | None) -> float | None:
    """--max-age: 3600, 90m, 12h or 7d."""
    if text is None:
        return None
    number, unit = (text[:-1], text[-1]) if text[-1:] in _DURATION else (text, "s")
    try:
        value = float(number)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an age such as 3600, 90m, 12h or 7d", param_hint="--max-age") from None
    return value * _DURATION[unit]


@main.command()
@click.argument("fingerprints", nargs=-1)
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=db_option_default, help=f"The datastore holding the findings (default: {DEFAULT_DB_HELP}).")
@click.option("--max-age", metavar="AGE", help="Reuse an answer younger than this (3600, 90m, 12h, 7d); else ask again.")
@validation_flags
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
def validate(fingerprints: tuple[str, ...], db_path: Path, max_age: str | None, endpoints: tuple[str, ...],
             allow_internal_endpoints: bool, validation_rps: float, validation_budget: int, fmt: str,
             output: Path | None) -> None:
    """Ask the providers of stored credentials whether each is live, who it is and what it can reach.

    FINGERPRINTS name findings (as reports print them); none: every open finding. Only credentials whose
    secret the datastore holds (recorded with --store-secrets) can be asked; answers are recorded with
    their time and reused while younger than --max-age.

    \b
    Examples:
      sprawl validate --db org.db --max-age 12h
      sprawl validate 3f9a1c07e5d2b8a4 --db org.db -f json
    Exit codes: 0 none is live, 1 a credential is live, 2 usage or input error.
    """
    import json

    from scanner import api
    from scanner.report.text import validation_line

    options = validation_options(endpoints, allow_internal_endpoints, validation_rps, validation_budget)
    answers = api.validate_stored(db_path, list(fingerprints), options, max_age_seconds=_seconds(max_age))
    if fmt == "json":
        text = json.dumps({"schema": "secret-sprawl/validations", "version": 1, "validations": [
            {"fingerprint": a.fingerprint, "rule_id": a.rule_id, "preview": a.preview, "reused": a.reused,
             "validation": a.result.to_dict()} for a in answers]}, indent=2) + "\n"
    else:
        text = "".join(f"{a.fingerprint}  {a.rule_id}  {a.preview}: {validation_line(a.result)}"
                       f"{'  (recorded earlier)' if a.reused else ''}\n" for a in answers)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
    if fmt != "json":
        click.echo(f"sprawl: {len(answers)} credential(s) validated", err=True)
    sys.exit(1 if any(str(a.result.status) == "active" for a in answers) else 0)


@main.command()
@click.argument("fingerprint")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              callback=db_option_default, help=f"The datastore holding the finding (default: {DEFAULT_DB_HELP}).")
@click.option("--confirm", is_flag=True, help="Send the revocation (without it: print what would be sent).")
@click.option("--secret-stdin", is_flag=True,
              help="Read the secret on standard input (when the datastore was written without --store-secrets).")
@validation_flags
def revoke(fingerprint: str, db_path: Path, confirm: bool, secret_stdin: bool, endpoints: tuple[str, ...],
           allow_internal_endpoints: bool, validation_rps: float, validation_budget: int) -> None:
    """Revoke a credential through its provider's API (GitHub, GitLab, Slack, npm, OpenAI admin keys),
    then validate it again and mark the finding revoked when the provider says it is.

    Without --confirm nothing is sent: the requests that would be are printed. The secret is sent only
    to its own provider. FINGERPRINT is the finding's fingerprint as reports print it.

    \b
    Examples:
      sprawl revoke 3f9a1c07e5d2b8a4 --db org.db                # what would be sent
      sprawl revoke 3f9a1c07e5d2b8a4 --db org.db --confirm
      printf %s "$TOKEN" | sprawl revoke 3f9a1c07e5d2b8a4 --db org.db --secret-stdin --confirm
    Exit codes: 0 revoked (or the dry run printed), 1 the provider did not revoke it, 2 usage or input error.
    """
    from scanner import api

    secret = sys.stdin.read().removesuffix("\n") if secret_stdin else None
    options = validation_options(endpoints, allow_internal_endpoints, validation_rps, validation_budget)
    done = api.revoke_stored(db_path, fingerprint, options, confirm=confirm, secret=secret)
    outcome = done.outcome
    for request in outcome.plan:
        click.echo(f"{'sent' if confirm else 'would send'}: {request.method} {request.url}")
    click.echo(f"{outcome.provider}: {outcome.reason}")
    if outcome.after is not None:
        click.echo(f"validated again: {outcome.after.status} ({outcome.after.reason})")
    if done.marked_revoked:
        click.echo(f"marked revoked in {db_path}")
    sys.exit(0 if not confirm or done.marked_revoked else 1)
