"""`mast roadmap check|publish|status`: the Frontier Safety Roadmap (docs/roadmap.md)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from mast.cli.app import app, out, state, writes

roadmap_app = typer.Typer(help="The roadmap: check and publish roadmap.yaml, show its goals and grades.",
                          no_args_is_help=True)
app.add_typer(roadmap_app, name="roadmap")

GRADE_STYLE = {"on_track": "green", "at_risk": "yellow", "met": "bold green", "missed": "bold red",
               "dropped": "magenta", None: "dim"}


def _summary(roadmap: Any) -> str:
    areas = sorted({g.area for g in roadmap.goals})
    return (f"ok: {roadmap.id} {roadmap.version} — {len(roadmap.goals)} goal{'s' if len(roadmap.goals) != 1 else ''}"
            + (f" ({', '.join(areas)})" if areas else ""))


@roadmap_app.command("check")
def check_command(file: Path = typer.Argument(..., help="A roadmap file (YAML or JSON).", show_default=False)) -> None:
    """Validate a roadmap file; problems are printed as FILE:LINE:COL: message (exit 2)."""
    from mast.reports.roadmap import load_roadmap

    out.print(_summary(load_roadmap(file)), markup=False, highlight=False, soft_wrap=True)


@roadmap_app.command("publish")
@writes
def publish_command(
    file: Path = typer.Argument(..., help="The roadmap file to publish.", show_default=False),
    at: Optional[str] = typer.Option(None, "--at", metavar="TIME",
                                     help="Publication time (ISO 8601 with a zone) to backfill history; default now."),
) -> None:
    """Publish a roadmap version to the log (a `roadmap_version` record)."""
    from mast.cli.records import parse_time
    from mast.reports.roadmap import publish_roadmap, roadmap_from_document
    from mast.sourcemap import load_file
    from mast.vocabulary import UTC
    from mast.workspace import Workspace

    when = parse_time(at, "--at") if at is not None else datetime.now(UTC).replace(microsecond=0)
    doc = load_file(file)
    roadmap = roadmap_from_document(doc)
    ws = Workspace.open(state.workspace)
    try:
        entry = publish_roadmap(ws, roadmap, when, doc)
    finally:
        ws.close()
    out.print(f"published roadmap {roadmap.id} {roadmap.version} at index {entry.index} "
              f"(sha256 {entry.record.sha256})", markup=False, highlight=False, soft_wrap=True)


def section_json(section: Any) -> dict[str, Any]:
    """A `RoadmapSection` as JSON data (times as ISO 8601, absent optionals omitted)."""
    from mast.vocabulary import iso

    def clean(value: Any) -> Any:
        if isinstance(value, datetime):
            return iso(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    data = clean(asdict(section))
    data["versions"] = [{"id": i, "version": v} for i, v in section.versions]
    for key in ("missed", "dropped"):
        data[key] = [g.id for g in getattr(section, key)]
    return data


@roadmap_app.command("status")
def status_command(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="As of this time (default: now)."),
    since: Optional[str] = typer.Option(None, "--since", help="List changes after this time (default: all)."),
    audience: str = typer.Option("internal", "--audience", help="public, reviewer or internal."),
    as_json: bool = typer.Option(False, "--json", help="Print the roadmap section as JSON."),
) -> None:
    """Every goal with its latest grade; missed targets, dropped and silently removed goals."""
    from mast.cli.status import parse_moment
    from mast.errors import InvalidInput
    from mast.reports.roadmap import roadmap_section
    from mast.vocabulary import UTC, iso, minute
    from mast.workspace import Workspace

    if audience not in ("public", "reviewer", "internal"):
        raise InvalidInput(f"--audience {audience!r}: expected public, reviewer or internal")
    moment = parse_moment(as_of) if as_of else datetime.now(UTC).replace(microsecond=0)
    start = parse_moment(since, "--since") if since else None
    ws = Workspace.open(state.workspace)
    try:
        section = roadmap_section(ws, moment, start, audience=audience)
    finally:
        ws.close()
    if as_json:
        typer.echo(json.dumps(section_json(section), indent=2, ensure_ascii=False))
        return
    versions = ", ".join(f"{i} {v}" for i, v in section.versions) or "no roadmap in force"
    table = Table(title=f"{versions} — as of {iso(section.as_of)}", title_justify="left", title_style="bold",
                  pad_edge=False)
    for column in ("goal", "area", "target", "grade", "note"):
        table.add_column(column, overflow="fold", no_wrap=column in ("goal", "target"))
    for g in section.goals:
        grade = Text(g.grade or "—", style=GRADE_STYLE.get(g.grade, ""))
        if g.undisclosed_removal:
            grade = Text("removed", style="bold red")
        elif not g.listed:
            grade.append(" (removed)", style="dim")
        if g.missed and g.grade != "missed":
            grade.append(" target passed", style="red")
        table.add_row(g.id, g.area, iso(g.target)[:10], grade, g.note or g.title)
    out.print(table)
    if section.findings:
        out.print()
    for f in section.findings:
        head = Text(f"{f['kind']:<9}", style="cyan")
        head.append(f" {f['commitment']}", style="bold")
        head.append(f" · since {minute(f['since'])}", style="dim")
        out.print(head)
        out.print(Text("          " + f["message"]))
    if section.changes:
        out.print()
        out.print(Text("changes" + (f" since {iso(section.since)}" if section.since else ""), style="bold"))
    for c in section.changes:
        line = Text(f"  {iso(c.at)[:10]} ", style="dim")
        line.append(c.kind, style="red" if not c.disclosed else "")
        line.append(f"  {c.text}")
        out.print(line)
    if section.withheld:
        out.print(Text(f"{section.withheld} item(s) withheld for the {audience} audience", style="dim"))
