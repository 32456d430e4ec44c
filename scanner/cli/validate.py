"""sprawl revoke: revoke a stored credential through its provider's API (a dry run unless --confirm)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.cli import main
from scanner.store.paths import DEFAULT_DB


@main.command()
@click.argument("fingerprint")
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
              show_default=True, help="The datastore holding the finding.")
@click.option("--confirm", is_flag=True, help="Send the revocation (without it: print what would be sent).")
@click.option("--secret-stdin", is_flag=True,
              help="Read the secret on standard input (when the datastore was written without --store-secrets).")
@click.option("--endpoint", "endpoints", multiple=True, metavar="PROVIDER=URL",
              help="Send PROVIDER's requests to this base URL (GitHub Enterprise, GitLab self-managed); repeatable.")
@click.option("--allow-internal-endpoints", is_flag=True,
              help="Let requests reach loopback, private and link-local addresses (refused by default).")
def revoke(fingerprint: str, db_path: Path, confirm: bool, secret_stdin: bool, endpoints: tuple[str, ...],
           allow_internal_endpoints: bool) -> None:
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
    from scanner.validate.api import ValidationOptions

    secret = sys.stdin.read().removesuffix("\n") if secret_stdin else None
    options = ValidationOptions(endpoints=endpoints, allow_internal=allow_internal_endpoints)
    try:
        options.policy()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--endpoint") from None
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
