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

from scanner.cli import main, write_atomically
from scanner.report import FORMATS
from scanner.sources.workstation.layout import CLIENTS, PLATFORMS
from scanner.store.paths import DEFAULT_DB

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
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format; json adds a `workstation` object (host, user, clients, servers, problems).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("-j", "--jobs", type=click.IntRange(0), default=0,
              help="Worker processes for transcripts (0: every core).")
@click.option("--show-secrets", is_flag=True,
              help="Print full secret values (off by default: previews); the report file is then written 0600.")
@click.option("--db", "record_db", is_flag=False, flag_value=DEFAULT_DB, default=None, metavar="PATH",
              help=f"Record the findings in this datastore (--db alone: {DEFAULT_DB}).")
@click.pass_context
def workstation(ctx: click.Context, home: Path | None, clients: tuple[str, ...], projects: tuple[Path, ...],
                owner: str | None, inventory_out: Path | None, redact: bool, backup_dir: Path | None,
                platform: str | None, system_root: Path | None, min_confidence: str, fmt: str,
                output: Path | None, jobs: int, show_secrets: bool, record_db: str | None) -> None:
    """Find the secrets AI clients keep on this machine: MCP server env, args, headers and urls in their
    configs, credential and .env files, and transcripts where a tool printed one. Names for each the
    client, scope (user, project, managed), MCP server and field, or session, line and role.

    \b
    Examples:
      sprawl workstation
      sprawl workstation --client claude-code --client cursor -f json -o report.json
      sprawl workstation -f sarif -o workstation.sarif --db
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
                                                 min_confidence=min_confidence, jobs=jobs,
                                                 show_secrets=show_secrets))
    outcomes = redact_in_place(report, backup_dir) if redact else []
    if inventory_out is not None:
        from scanner.inventory.loader import dump_inventory
        from scanner.pipeline.workstation import to_inventory

        inventory_out.write_text(dump_inventory(to_inventory(report)), encoding="utf-8")
    if record_db:
        from scanner import api

        recorded = api.record_scan(record_db, report.result, "workstation", f"{report.host}:{report.home}")
        click.echo(f"sprawl: recorded as scan {recorded.scan_id} in {record_db}", err=True)
    text = render_report(report, fmt, outcomes, redact)
    if output is not None:
        write_atomically(output, text, private=show_secrets)
    else:
        click.echo(text, nl=False)
    code = report.exit_code
    if any(o.status != "redacted" for o in outcomes):
        code = EXIT_UNREADABLE
    ctx.exit(code)


def render_report(report: WorkstationReport, fmt: str, outcomes: list[RedactOutcome], redact: bool) -> str:
    """The scan in any report format (as `sprawl scan` renders it); json and text also say what the machine holds."""
    from scanner.report import render

    if fmt == "json":
        from scanner.report.json_report import document

        doc = document(report.result)  # encoded once (an indented dump is Python's slow encoder)
        doc["workstation"] = report.machine()
        if redact:
            doc["workstation"]["redactions"] = [vars(o) for o in outcomes]
        return json.dumps(doc, indent=2) + "\n"
    if fmt == "html":
        from scanner import api

        api.score_unscored(report.result)  # the page ranks every finding by blast radius, as `sprawl scan`'s does
    if fmt != "text":
        return render(report.result, fmt)
    return machine_text(report) + render(report.result, "text") + redaction_text(outcomes, redact)


def machine_text(report: WorkstationReport) -> str:
    lines = [f"workstation {report.host} ({report.platform}), owner {report.owner}: {len(report.scanned)} files, "
             f"{len(report.servers)} MCP servers, {len(report.findings)} findings"]
    lines += [f"  {client} {version}" for client, version in sorted(report.versions.items())]
    lines += [f"unreadable {p.path} ({p.client}): {p.reason}" for p in report.problems]
    if report.references:
        lines.append(f"{report.references} reference(s) to secrets kept elsewhere (not findings)")
    return "\n".join(lines) + "\n\n"


def redaction_text(outcomes: list[RedactOutcome], redact: bool) -> str:
    lines = []
    for o in outcomes:
        detail = f"{o.masked} masked, backup {o.backup}" if o.status == "redacted" else o.reason
        lines.append(f"{o.status} {o.path}: {detail}")
    if redact and not outcomes:
        lines.append("nothing to redact")
    return "".join(line + "\n" for line in lines)
