"""`mast status`: what the framework requires of every model now, and whether it is met."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

import typer
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from mast.cli.app import app, out, state
from mast.engine import Assessment, assess
from mast.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from mast.workspace import Workspace
from mast.vocabulary import UTC, ZonedTime, iso, minute

STATUS_STYLE = {"untested": "dim", "ruled_out": "green", "not_ruled_out": "yellow", "crossed": "bold red"}
KIND_STYLE = {"violation": "bold red", "overdue": "red", "due": "yellow", "escape": "magenta", "warning": "cyan"}

_zoned = TypeAdapter(ZonedTime)


def parse_moment(text: str, option: str = "--as-of") -> datetime:
    """A zoned ISO 8601 time, or a date meaning 00:00 UTC that day. Naive times are refused."""
    try:
        return _zoned.validate_python(text)
    except ValidationError:
        pass
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(Problem(option, None, None,
                                   f"expected a time with a zone (2025-06-01T00:00:00Z) or a date, got {text!r}")) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def assess_workspace(ws: Workspace, as_of: datetime, *, history: bool = False) -> Assessment:
    """Read the workspace's published versions and records, and assess them."""
    frameworks = ws.frameworks()
    if not frameworks:
        raise InvalidInput(Problem(str(ws.root), None, None,
                                   "no framework published yet: run `mast framework publish FILE --approve ROLE=NAME`"))
    return assess(frameworks, ws.store.records(), as_of, history=history)


STATUS_LABEL = {"untested": "·", "ruled_out": "out", "not_ruled_out": "NRO", "crossed": "CROSSED"}


def _status_text(status: str, basis: str | None) -> Text:
    label = STATUS_LABEL.get(status, status)
    if basis == "inherited":
        label += "↑"
    elif basis == "determination":
        label += "✓"
    return Text(label, style=STATUS_STYLE.get(status, ""))


def render_assessment(assessment: Assessment, console: Console, *, title: str | None = None) -> None:
    """The assessment as people read it: a models × thresholds matrix, the standards that
    bind and are unmet, then one block per finding. Fits an 80-column terminal."""
    fw = assessment.framework
    heading = title or f"{fw.id} {fw.version} — as of {iso(assessment.as_of)}"
    thresholds = [t.id for t in assessment.models[0].thresholds] if assessment.models else []
    table = Table(title=heading, title_justify="left", title_style="bold", expand=False, pad_edge=False)
    table.add_column("model", style="bold", no_wrap=True)
    table.add_column("stage", no_wrap=True)
    for tid in thresholds:
        table.add_column(tid, no_wrap=True, justify="center", min_width=len(tid))
    for m in assessment.models:
        cells: list[Text | str] = [m.id, m.stage or "—"]
        cells += [_status_text(t.status, t.basis) for t in m.thresholds]
        table.add_row(*cells)
    console.print(table)
    console.print(Text("out ruled out · NRO not ruled out · CROSSED crossed · · untested · "
                       "✓ by determination · ↑ inherited", style="dim"))
    lineage = [f"{m.parent} → {m.id}" for m in assessment.models if m.parent]
    if lineage:
        console.print(Text("lineage: " + ", ".join(lineage), style="dim"))

    for m in assessment.models:
        for st in m.standards:
            if st.status != "unmet" and not st.exempted:
                continue
            line = Text(f"  {m.id}: ", style="bold")
            line.append(f"{st.id} ", style="")
            line.append(st.status, style="green" if st.status == "met" else "bold red")
            line.append(f" (before {st.required_before})", style="dim")
            if st.missing:
                line.append(f" missing {', '.join(st.missing)}", style="red")
            if st.exempted:
                line.append(f" exempt {', '.join(st.exempted)}", style="magenta")
            console.print(line)

    if assessment.findings:
        console.print()
    for f in assessment.findings:
        resolved = f.until is not None
        head = Text()
        head.append(f"{f.kind:<9}", style="dim" if resolved else KIND_STYLE[f.kind])
        head.append(f" {f.commitment}", style="bold")
        if f.model:
            head.append(f" · {f.model}")
        head.append(f" · since {minute(f.since)}", style="dim")
        if resolved:
            head.append(f" until {minute(f.until)}", style="dim")
        elif f.due:
            head.append(f" · due {minute(f.due)}", style="yellow")
        console.print(head)
        console.print(Padding(Text(f.message, style="dim" if resolved else ""), (0, 0, 0, 10)))
    summary = Text("\nsummary: ")
    for kind, count in assessment.summary.items():
        summary.append(f"{kind} {count}", style=KIND_STYLE[kind] if count else "dim")
        summary.append("  ")
    console.print(summary)


@app.command("status")
def status(
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Assess as of this time (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="Print the assessment as JSON (DESIGN §5)."),
    history: bool = typer.Option(False, "--history", help="Add resolved findings, each with `until`."),
) -> None:
    """What the framework requires of every model, and whether it is met."""
    from mast.workspace import Workspace  # the store is loaded only by commands that need it

    moment = parse_moment(as_of) if as_of else datetime.now(UTC).replace(microsecond=0)
    ws = Workspace.open(state.workspace)
    try:
        assessment = assess_workspace(ws, moment, history=history)
    finally:
        ws.close()
    if as_json:
        typer.echo(json.dumps(assessment.to_json_data(), indent=2))
    else:
        render_assessment(assessment, out)
