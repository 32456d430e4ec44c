"""`sprawl workstation`: scan this machine's AI clients (configs, credential files, transcripts).

Registered on the main group (scanner.cli.COMMAND_MODULES); a thin layer over scanner.pipeline.workstation.
Exit codes for device-management jobs: 0 clean, 1 findings, 2 usage error, 3 something could not be
read (or redacted): the result is incomplete. Guarded by tests/test_workstation_cli.py.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scanner.cli import main
from scanner.sources.workstation.layout import CLIENTS, PLATFORMS

if TYPE_CHECKING:
    from scanner.pipeline.workstation import RedactOutcome, WorkstationReport


@main.command("workstation")
@click.option("--home", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The home folder to read (default: yours).")
@click.option("--client", "clients", multiple=True, type=click.Choice(CLIENTS),
              help="Only this client (repeatable; default: every client).")
@click.option("--project", "projects", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also read this project's configs (.mcp.json, .vscode/mcp.json...); repeatable.")
@click.option("--owner", help="Who owns the clients and their servers: user:NAME (default: the OS user).")
@click.option("--inventory-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the clients and MCP servers as inventory entries (kind: Inventory) here.")
@click.option("--redact", is_flag=True,
              help="Mask every secret found, in place, after a backup (mode 0600) next to each file.")
@click.option("--backup-dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --redact: keep the backups here (mirroring the home) instead of next to each file.")
@click.option("--platform", type=click.Choice(PLATFORMS), help="Read the home with this OS's layout.")
@click.option("--system-root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Where the managed (system-wide) configs live (default: / or C:\\).")
@click.option("--min-confidence", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True)
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.pass_context
def workstation(ctx: click.Context, home: Path | None, clients: tuple[str, ...], projects: tuple[Path, ...],
                owner: str | None, inventory_out: Path | None, redact: bool, backup_dir: Path | None,
                platform: str | None, system_root: Path | None, min_confidence: str, fmt: str,
                output: Path | None) -> None:
    """Find the secrets AI clients keep on this machine: MCP server env, args, headers and urls in their
    configs, credential and .env files, and transcripts where a tool printed one. Names for each the
    client, scope (user, project, managed), MCP server and field, or session, line and role.

    \b
    Examples:
      sprawl workstation
      sprawl workstation --client claude-code --client cursor -f json -o report.json
      sprawl workstation --owner user:alice --inventory-out workstation-inventory.yaml
      sprawl workstation --redact --backup-dir ~/sprawl-backups
    """
    from scanner.pipeline.workstation import (
        EXIT_UNREADABLE,
        WorkstationOptions,
        parse_owner,
        redact_in_place,
        scan_workstation,
    )

    if backup_dir is not None and not redact:
        raise click.UsageError("--backup-dir goes with --redact")
    try:
        parse_owner(owner)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--owner") from None
    report = scan_workstation(WorkstationOptions(home=home, platform=platform, system_root=system_root,
                                                 clients=clients, projects=projects, owner=owner,
                                                 min_confidence=min_confidence))
    outcomes = redact_in_place(report, backup_dir) if redact else []
    if inventory_out is not None:
        from scanner.inventory.loader import dump_inventory
        from scanner.pipeline.workstation import to_inventory

        inventory_out.write_text(dump_inventory(to_inventory(report)), encoding="utf-8")
    if fmt == "json":
        doc = report.to_dict()
        if redact:
            doc["redactions"] = [vars(o) for o in outcomes]
        text = json.dumps(doc, indent=2) + "\n"
    else:
        text = render_text(report, outcomes, redact)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    code = report.exit_code
    if any(o.status != "redacted" for o in outcomes):
        code = EXIT_UNREADABLE
    ctx.exit(code)


def render_text(report: WorkstationReport, outcomes: list[RedactOutcome], redact: bool) -> str:
    head = (f"workstation {report.host} ({report.platform}), owner {report.owner}: {report.files} files, "
            f"{len(report.servers)} MCP servers, {len(report.findings)} findings")
    lines = [head]
    for client, version in sorted(report.versions.items()):
        lines.append(f"  {client} {version}")
    for f in report.findings:
        where = f"{f.path}:{f.line}:{f.column}"
        if f.kind == "secret" and f.session:
            lines.append(f"{f.severity:6} {f.rule_id} {f.preview}  {f.client} session {f.session} line {f.line} "
                         f"({f.role})  {where}")
        elif f.kind == "secret":
            holder = f"server {f.server} {f.field}" if f.server else f"{f.field}"
            lines.append(f"{f.severity:6} {f.rule_id} {f.preview}  {f.client} {f.scope} {holder} {f.key}  {where}")
        else:
            server = f" {f.server}" if f.server else ""
            lines.append(f"{f.severity:6} {f.rule_id}  {f.client} {f.scope}{server}: {f.message}  {where}")
    for p in report.problems:
        lines.append(f"unreadable {p.path} ({p.client}): {p.reason}")
    if report.references:
        lines.append(f"{report.references} reference(s) to secrets kept elsewhere (not findings)")
    for o in outcomes:
        detail = f"{o.masked} masked, backup {o.backup}" if o.status == "redacted" else o.reason
        lines.append(f"{o.status} {o.path}: {detail}")
    if redact and not outcomes:
        lines.append("nothing to redact")
    return "\n".join(lines) + "\n"
