"""sprawl rules check and list."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from scanner.cli import main


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
    from scanner.engine.selftest import main as selftest

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
