"""`mast framework ...`: commands on framework files (DESIGN §7).

Each command is its own function registered on `framework_app`; they share nothing but the
loader, so commands can be added here without touching one another.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mast.cli.app import err, framework_app, out, state, writes
from mast.errors import InvalidInput
from mast.framework.loader import load_framework
from mast.framework.model import Framework
from mast.vocabulary import minute

if TYPE_CHECKING:
    from rich.table import Table

    from mast.framework.diff import FrameworkDiff
    from mast.workspace import Workspace


def _count(n: int, noun: str, plural: str | None = None) -> str:
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def summary(fw: Framework) -> str:
    """One line saying what was loaded, so the author sees the file was read as intended."""
    parts = [
        _count(len(fw.thresholds), "threshold"),
        _count(len(fw.standards), "standard"),
        _count(len(fw.commitments), "commitment"),
        _count(len(fw.escape_clauses), "escape clause"),
    ]
    return f"ok: {fw.id} {fw.version} — {', '.join(parts)}"


@framework_app.command("check")
def check_command(
    file: Path = typer.Argument(..., help="A framework file (YAML or JSON).", show_default=False),
) -> None:
    """Validate a framework file; problems are printed as FILE:LINE:COL: message (exit 2)."""
    framework = load_framework(file)  # InvalidInput reaches the CLI root, which exits 2
    out.print(summary(framework), markup=False, highlight=False, soft_wrap=True)


# -- publish (records/workspace side) ----------------------------------------------------------


@framework_app.command("publish")
@writes
def publish_command(
    file: Path = typer.Argument(..., help="The framework file to publish (YAML or JSON).", show_default=False),
    approve: list[str] = typer.Option(
        [], "--approve", metavar="ROLE=NAME",
        help="A sign-off, e.g. --approve 'rso=Jane Roe'; repeat for every role the amendment rules require.",
    ),
    at: str | None = typer.Option(
        None, "--at", metavar="TIME", help="Publication time (ISO 8601 with a zone) to backfill history; default now.",
    ),
    emergency: str | None = typer.Option(
        None, "--emergency", metavar="REASON",
        help="Publish without the notice period the previous version's amendment.notice asks for; "
             "the reason is recorded with the version.",
    ),
) -> None:
    """Publish a framework version to the log. Refused (exit 3, nothing written) when it
    removes or weakens an element its changelog does not acknowledge, lacks the sign-offs the
    previous version's amendment rules require, or takes effect before their notice period."""
    from mast.cli.records import parse_approvals, parse_time
    from mast.framework.loader import framework_from_document
    from mast.workspace import Workspace
    from mast.sourcemap import load_file

    approvals = parse_approvals(approve)
    when = parse_time(at, "--at") if at is not None else None
    ws = Workspace.open(state.workspace)
    try:
        doc = load_file(file)
        framework = framework_from_document(doc, file.read_text(encoding="utf-8"))
        published = ws.frameworks()
        entry = ws.publish(framework, doc, approvals, at=when, emergency=emergency)
    finally:
        ws.close()
    _warn_unmatched_acknowledgements(published[-1] if published else None, framework)
    line = f"published {framework.id} {framework.version} at index {entry.index} (sha256 {entry.record.sha256})"
    if entry.record.emergency:
        line += f"; emergency recorded: {entry.record.emergency}"
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _warn_unmatched_acknowledgements(previous: Framework | None, framework: Framework) -> None:
    from mast.framework.diff import diff_frameworks
    from mast.framework.revision import unmatched_acknowledgements

    diff = diff_frameworks(previous, framework) if previous is not None else None
    for ack in unmatched_acknowledgements(diff, framework):
        err.print(f"warning: the changelog acknowledges {ack!r}, but nothing of that id is removed or weakened "
                  f"since {previous.version} (a typo?)", markup=False, highlight=False, soft_wrap=True)


# -- revisions: diff and log -------------------------------------------------------------------

#: how each change kind is coloured; weakenings stand out, text edits recede
CHANGE_STYLE = {"weakened": "bold red", "removed": "bold red", "strengthened": "green", "added": "cyan",
                "changed": "yellow"}


def _resolve_version(arg: str, published: list[Framework] | None, role: str) -> Framework:
    """OLD or NEW of `mast framework diff`: a framework file, else a version published in
    the workspace (`published`; None when there is no workspace). Neither is invalid input
    (exit 2) naming the published versions."""
    path = Path(arg)
    if path.is_file():
        return load_framework(path)
    match = next((f for f in published or [] if f.version == arg), None)
    if match is not None:
        return match
    if published is None:
        where = f"{state.workspace} is not a mast workspace, so there are no published versions to name"
    elif published:
        where = f"published versions: {', '.join(f.version for f in published)}"
    else:
        where = "no framework version is published in this workspace yet"
    raise InvalidInput(f"{role} {arg!r}: neither a framework file nor a published version ({where})")


def _published_versions() -> list[Framework] | None:
    """The workspace's published versions in log order; None when `-w` is not a workspace."""
    from mast.workspace import CONFIG, Workspace

    if not (state.workspace / CONFIG).is_file():
        return None
    workspace = Workspace.open(state.workspace)
    try:
        return workspace.frameworks()
    finally:
        workspace.close()


def _diff_table(diff: "FrameworkDiff", acknowledged: set[str]) -> "Table":
    """One row per change, in the diff's order (weakenings first): the change, coloured by
    kind, and for a weakening whether NEW's changelog acknowledges it; the element; why."""
    from rich.table import Table
    from rich.text import Text

    table = Table(pad_edge=False, show_lines=False)
    table.add_column("change", no_wrap=True)
    table.add_column("element", overflow="fold", max_width=36)
    table.add_column("reason", overflow="fold")
    for c in diff.changes:
        change = Text()
        change.append(c.change, style=CHANGE_STYLE[c.change])
        if c.weakens:
            change.append("\n")
            change.append(*(("acknowledged", "green") if c.acknowledged_by(acknowledged)
                             else ("NOT acknowledged", "bold red")))
        element = Text()
        if c.id != c.element:  # "amendment", "determinations", "framework" are their own address
            element.append(f"{c.element} ", style="dim")
        element.append(c.id, style="bold")
        if c.old_id is not None:
            element.append(f" (was {c.old_id})")
        if c.field:
            element.append(f"\n{c.field}", style="dim")
        table.add_row(change, element, c.reason)
    return table


@framework_app.command("diff")
@writes
def diff_command(
    old: str = typer.Argument(..., help="The earlier version: a framework file or a published version string.",
                              show_default=False),
    new: str = typer.Argument(..., help="The later version: a framework file or a published version string.",
                              show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON."),
    html: Path | None = typer.Option(None, "--html", metavar="FILE",
                                     help="Also write the diff as a standalone HTML page to FILE."),
) -> None:
    """What changed between two versions, each change classified; weakenings first.

    A report: exits 0 whether or not anything changed. A weakening NEW's changelog does not
    acknowledge is marked, since `mast framework publish` would refuse it.
    """
    from mast.framework.diff import diff_frameworks
    from mast.framework.revision import acknowledged_ids

    published = _published_versions() if not (Path(old).is_file() and Path(new).is_file()) else []
    before = _resolve_version(old, published, "OLD")
    after = _resolve_version(new, published, "NEW")
    diff = diff_frameworks(before, after)
    if html is not None:
        from mast.reports.render_diff import render_diff_html

        try:
            html.write_text(render_diff_html(diff), encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(f"--html {html}: cannot write: {exc.strerror or exc}") from None
        err.print(f"wrote {html}", markup=False, highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(diff.to_json(), indent=2, ensure_ascii=False))
        return
    acknowledged = acknowledged_ids(after)
    if diff.changes:
        out.print(_diff_table(diff, acknowledged))
    hidden = [c for c in diff.weakenings if not c.acknowledged_by(acknowledged)]
    if hidden:
        out.print(f"{_count(len(hidden), 'weakening')} not acknowledged in {after.version}'s changelog: "
                  "`mast framework publish` would refuse it", style="bold red", markup=False, highlight=False,
                  soft_wrap=True)
    (old_id, old_version), (new_id, new_version) = diff.old, diff.new
    label = f"{old_id} {old_version} → {new_version}" if old_id == new_id else \
        f"{old_id} {old_version} → {new_id} {new_version}"
    out.print(f"{label}: {diff.summary()}", markup=False, highlight=False, soft_wrap=True)


def _log_rows(workspace: "Workspace") -> list[dict[str, Any]]:
    """Every published version in log order, with the one-line summary of its diff from the
    version published before it."""
    from mast.framework.diff import diff_frameworks
    from mast.vocabulary import iso
    from mast.workspace import framework_of

    rows: list[dict[str, Any]] = []
    previous: Framework | None = None
    for entry in workspace.store.entries(kind="framework"):
        framework, record = framework_of(entry, workspace.store), entry.record
        rows.append({
            "index": entry.index,
            "id": framework.id,
            "version": framework.version,
            "effective": iso(framework.effective),
            "published_at": iso(record.at),
            "approved_by": dict(record.approved_by),
            "emergency": record.emergency,
            "sha256": record.sha256,
            "summary": "first version" if previous is None else diff_frameworks(previous, framework).summary(),
        })
        previous = framework
    return rows


@framework_app.command("log")
def log_command(
    as_json: bool = typer.Option(False, "--json", help="Print the versions as a JSON list."),
) -> None:
    """Every published framework version, in log order: when it took effect and was
    published, who approved it, any emergency, and what changed from the version before."""
    from rich.table import Table
    from rich.text import Text

    from mast.workspace import Workspace

    workspace = Workspace.open(state.workspace)
    try:
        rows = _log_rows(workspace)
    finally:
        workspace.close()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        out.print("no framework version is published yet: run `mast framework publish FILE --approve ROLE=NAME`",
                  markup=False, highlight=False, soft_wrap=True)
        return
    table = Table(title=f"{rows[-1]['id']}: {_count(len(rows), 'published version')}", title_justify="left",
                  title_style="bold", pad_edge=False)
    for column in ("version", "effective", "published", "index", "approved by", "changes"):
        table.add_column(column, overflow="fold", no_wrap=column in ("version", "index"))
    for row in rows:
        changes = Text(row["summary"])
        if row["emergency"]:
            changes.append(f"\nemergency: {row['emergency']}", style="bold magenta")
        table.add_row(row["version"], minute(datetime.fromisoformat(row["effective"])),
                      minute(datetime.fromisoformat(row["published_at"])), str(row["index"]),
                      "\n".join(f"{role}={name}" for role, name in row["approved_by"].items()), changes)
    out.print(table)
    out.print("times in UTC unless marked", style="dim", highlight=False)

