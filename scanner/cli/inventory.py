"""sprawl inventory (validate, show, import), analyze, explain and governance: whose is it, how bad is it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scanner.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, main  # noqa: F401
from scanner.model import CONFIDENCES

ANALYSIS_FORMATS = ["text", "json", "html"]


@main.group()
def inventory() -> None:
    """The agent inventory: who owns each agent, service account and credential."""


@inventory.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def inventory_validate(file):
    """Check an inventory file; every problem is named by file, line, entry and field.

    \b
    Example:
      sprawl inventory validate inventory.yaml
    Exit codes: 0 valid, 2 problems found.
    """
    from scanner.inventory.loader import load_inventory

    inv = load_inventory(file)
    click.echo(f"{file}: valid: {len(inv.owners)} owner(s), {len(inv.identities)} identit(ies), "
               f"{len(inv.credentials)} credential(s), {len(inv.path_owners)} path rule(s)")


@inventory.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path), default="inventory.yaml")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json", "yaml"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here, not stdout.")
def inventory_show(file, fmt, output):
    """Print an inventory: identities with owner, environment, lifecycle, tools and credentials.

    \b
    Examples:
      sprawl inventory show inventory.yaml
      sprawl inventory show inventory.yaml -f json | jq '.identities[].id'
    """
    from scanner.inventory.loader import dump_inventory, load_inventory, to_document

    inv = load_inventory(file)
    if fmt == "json":
        _emit_text(json.dumps(to_document(inv), indent=2) + "\n", output)
    elif fmt == "yaml":
        _emit_text(dump_inventory(inv), output)
    else:
        _emit_text(_inventory_text(inv), output)


def _inventory_text(inv) -> str:
    orphans = {i.id for i in inv.identities if i.orphaned}
    lines = [f"{len(inv.identities)} identities, {len(inv.owners)} owners, {len(inv.credentials)} credentials"]
    for ident in inv.identities:
        flag = "  ORPHANED" if ident.id in orphans else ""
        lines.append(f"{ident.id}  [{ident.kind}, {ident.environment}, {ident.lifecycle}]  owner: "
                     f"{ident.owner or '-'}{flag}")
        if ident.purpose:
            lines.append(f"    purpose: {ident.purpose}")
        if ident.tools:
            lines.append(f"    tools: {', '.join(t.name for t in ident.tools)}")
        for cid in ident.credentials:
            cred = inv.credential(cid)
            bits = [b for b in (cred.provider, cred.ttl and f"ttl {cred.ttl}", cred.secret_ref,
                                cred.env_vars and "env " + ",".join(cred.env_vars)) if b] if cred else []
            lines.append(f"    credential {cid}" + (f": {'; '.join(bits)}" if bits else ""))
    lines += [f"note: {note}" for note in inv.notes]
    return "\n".join(lines) + "\n"


@inventory.command("import")
@click.argument("sources", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the merged inventory here.")
@click.option("--base", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Start from this hand-written inventory; its values win over imported ones.")
def inventory_import(sources, output, base):
    """Fill an inventory from Backstage catalogs, CODEOWNERS, MCP configs, Kubernetes manifests,
    CrewAI agents.yaml and A2A agent cards (files, or folders searched for them).

    Every fact records its source; where two sources disagree the first keeps its value and the
    conflict is printed. Literal secrets in MCP configs are noted, never copied.

    \b
    Examples:
      sprawl inventory import catalog-info.yaml .github/CODEOWNERS .vscode/mcp.json -o inventory.yaml
      sprawl inventory import ~/src/org --base inventory.yaml -o inventory.yaml
    """
    from scanner.inventory.importers import import_sources
    from scanner.inventory.loader import dump_inventory, load_inventory

    inv, conflicts = import_sources(list(sources), base=load_inventory(base) if base else None)
    output.write_text(dump_inventory(inv), encoding="utf-8")
    for note in inv.notes:
        click.echo(f"note: {note}", err=True)
    for c in conflicts:
        click.echo(str(c), err=True)
    click.echo(f"wrote {output}: {len(inv.identities)} identities, {len(inv.owners)} owners, "
               f"{len(inv.credentials)} credentials, {len(conflicts)} conflict(s)")


def _analysis(paths, inventory_file, db, min_confidence, public_repo, *, write=False):
    """Analyze what the datastore holds (writing links and scores when asked), or scan PATHS and analyze that."""
    from scanner import api

    if db is None and not paths:
        raise click.UsageError("give PATHS to scan, or --db")
    if db is not None and paths:
        raise click.UsageError("give either PATHS or --db, not both")
    return api.analyze(list(paths) or None, db=db, inventory=_inventory(inventory_file), min_confidence=min_confidence,
                       public_repos=frozenset(public_repo), write=write)


def _inventory(path):
    if path is None:
        return None
    from scanner.inventory.loader import load_inventory

    return load_inventory(path)


_common = [
    click.option("--inventory", "inventory_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="The inventory to link findings against."),
    click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
                 help="Analyze the findings this datastore holds (instead of scanning PATHS)."),
    click.option("--min-confidence", type=click.Choice(CONFIDENCES), default="medium", show_default=True),
    click.option("--public-repo", multiple=True, metavar="NAME", help="A repository that is public (repeatable)."),
]


def _with_common(func):
    for opt in reversed(_common):
        func = opt(func)
    return func


@main.command()
@click.argument("paths", nargs=-1)
@_with_common
@click.option("-f", "--format", "fmt", type=click.Choice(ANALYSIS_FORMATS), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
def analyze(paths, inventory_file, db, min_confidence, public_repo, fmt, output):
    """Link every finding to its owner and score its blast radius, highest first.

    With --db, the findings the datastore holds are analyzed and the links, scores and the
    inventory used are written back to it (one transaction); otherwise PATHS are scanned.

    \b
    Examples:
      sprawl analyze --db org.db --inventory inventory.yaml
      sprawl analyze --inventory inventory.yaml . -f html -o sprawl.html
    Exit codes: 0 no findings, 1 findings, 2 usage or input error.
    """
    result, analysis = _analysis(paths, inventory_file, db, min_confidence, public_repo, write=True)
    from scanner.report import render

    report = render(result, fmt)
    if output:
        output.write_text(report, encoding="utf-8")
        click.echo(f"wrote {output}: {len(result.findings)} finding(s)", err=True)
    else:
        click.echo(report, nl=False)
    sys.exit(EXIT_FINDINGS if result.findings else EXIT_CLEAN)


@main.command()
@click.argument("fingerprint")
@click.argument("paths", nargs=-1)
@_with_common
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here, not stdout.")
def explain(fingerprint, paths, inventory_file, db, min_confidence, public_repo, fmt, output):
    """Show how a finding's owner was found and how its blast radius adds up, factor by factor.

    FINGERPRINT is the credential key or the stored fingerprint (a unique prefix will do), or the portable
    fingerprint a scan report shows, whole.
    With --db alone, prints what the last `sprawl analyze --db` recorded; with --inventory too,
    re-derives it from the inventory given (and writes nothing).

    \b
    Examples:
      sprawl explain 3f9c1a2b --db org.db
      sprawl explain 3f9c1a2b --inventory inventory.yaml .
    """
    from scanner import api

    if db is None and not paths:
        raise click.UsageError("give PATHS to scan, or --db")
    explanation = api.explain(fingerprint, list(paths) or None, db=db, inventory=_inventory(inventory_file),
                              min_confidence=min_confidence, public_repos=frozenset(public_repo))
    _emit_text(json.dumps(explanation.to_dict(), indent=2) + "\n" if fmt == "json" else explanation.text(), output)


@main.command()
@click.argument("paths", nargs=-1)
@_with_common
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--view", "views", multiple=True,
              type=click.Choice(["outside-approved", "shared", "orphaned", "static-with-workload-identity",
                                 "unreviewed"]), help="Only these views (repeatable; default: all).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write it here, not stdout.")
@click.option("--fail-on", "fail_on", metavar="VIEWS",
              help="Exit 1 when any of these views has rows: orphaned,shared,static-with-workload-identity,"
                   "outside-approved,unreviewed[:DAYS] (comma-separated).")
def governance(paths, inventory_file, db, min_confidence, public_repo, fmt, views, output, fail_on):
    """Governance views: credentials outside approved locations, shared credentials, orphaned
    identities still exposed, static credentials of workload-identity users, overdue reviews.

    \b
    Examples:
      sprawl governance --inventory inventory.yaml --db org.db
      sprawl governance --inventory inventory.yaml .
      sprawl governance --inventory inventory.yaml . --view orphaned -f json
      sprawl governance --inventory inventory.yaml --db sprawl.db --fail-on orphaned,shared,unreviewed:180
    Exit codes: 0 no named view has rows (or no --fail-on), 1 a named view has rows, 2 usage or input error.
    """
    from scanner.analysis.governance import Policy, all_views, render_text

    if inventory_file is None:
        raise click.UsageError("governance views need --inventory")
    try:
        policy = Policy.parse(fail_on)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fail-on") from None
    result, analysis = _analysis(paths or (() if db else (".",)), inventory_file, db, min_confidence, public_repo)
    out = all_views(analysis, policy)
    if views:
        out = {k: v for k, v in out.items() if k in views or k in policy.fail_on}
    failed = policy.failed(out)
    if fmt == "json":
        text = json.dumps({"schema": "secret-sprawl/governance", "version": 2, "views": out,
                           "policy": {"fail_on": list(policy.fail_on), "review_days": policy.review_days,
                                      "failed": failed}}, indent=2) + "\n"
    else:
        text = render_text(out, policy)
    _emit_text(text, output)
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


def _emit_text(text: str, output: Path | None) -> None:
    """A report to stdout, or written whole to a file (scanner.cli.write_atomically)."""
    if output is None:
        click.echo(text, nl=False)
    else:
        from scanner.cli import write_atomically

        write_atomically(output, text)
