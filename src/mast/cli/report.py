"""`mast report risk`: the Risk Report edition for an audience, in a format; `--publish`
stores it as a blob and appends its `report` record in the same transaction."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer

from mast.cli.app import app, err, state, writes
from mast.cli.status import parse_moment
from mast.errors import InvalidInput, Problem
from mast.vocabulary import UTC

if TYPE_CHECKING:
    from mast.workspace import Workspace

report_app = typer.Typer(help="Risk Reports: editions for the public, reviewers and insiders.", no_args_is_help=True)
app.add_typer(report_app, name="report")


class AudienceChoice(str, Enum):
    public = "public"
    reviewer = "reviewer"
    internal = "internal"


class FormatChoice(str, Enum):
    html = "html"
    md = "md"
    pdf = "pdf"
    json = "json"


def render(report: Any, fmt: str) -> bytes:
    """The edition's bytes in `fmt`."""
    if fmt == "html":
        from mast.reports.render_html import render_html
        return render_html(report).encode("utf-8")
    if fmt == "md":
        from mast.reports.render_md import render_md
        return render_md(report).encode("utf-8")
    if fmt == "json":
        from mast.reports.render_json import render_json
        return render_json(report).encode("utf-8")
    from mast.reports.render_pdf import render_pdf
    return render_pdf(report)


def resolve_since(ws: "Workspace", text: str) -> datetime:
    """`--since`: a time, or the ref or sha256 of an earlier `report` record (its period's end)."""
    entry = ws.store.by_ref(text)
    if entry is None:
        entry = next((e for e in ws.store.entries(kind="report") if e.record.sha256 == text), None)
    if entry is not None:
        if entry.record.kind != "report":
            raise InvalidInput(Problem("--since", None, None, f"{text!r} names a {entry.record.kind} record, not a report"))
        return entry.record.period.end
    try:
        return parse_moment(text, "--since")
    except InvalidInput:
        raise InvalidInput(Problem("--since", None, None,
                                   f"expected a time with a zone, a date, or the ref or sha256 of a report record; "
                                   f"got {text!r}")) from None


def publish_edition(ws: "Workspace", data: bytes, audience: str, period_from: datetime, as_of: datetime) -> Any:
    """Append the `report` record of an edition, its bytes stored as a blob, in one transaction."""
    from mast.records.canonical import sha256_hex
    from mast.records.kinds import parse_record
    from mast.records.references import check_references
    from mast.vocabulary import iso

    record = parse_record({"kind": "report", "at": iso(as_of), "audience": audience,
                           "period": {"from": iso(period_from), "to": iso(as_of)},
                           "edition": audience, "sha256": sha256_hex(data)})
    problems = check_references([record], ws.store, ws.frameworks())
    if problems:
        raise InvalidInput(problems)
    [entry] = ws._append([record], [data])
    return entry


def _write(output: Path, data: bytes) -> None:
    """Write atomically: a temporary file in the same directory, then rename."""
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInput(Problem(str(output), None, None, f"-o: directory {directory} does not exist"))
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, output)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@report_app.command("risk")
@writes
def risk(
    audience: AudienceChoice = typer.Option(..., "--audience", help="public, reviewer or internal."),
    fmt: FormatChoice = typer.Option(FormatChoice.html, "--format", help="html, md, pdf or json."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the edition here (default: stdout)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Report as of this time (default: now)."),
    since: Optional[str] = typer.Option(None, "--since",
                                        help="Start of the period: a time, or the ref/sha256 of the previous "
                                             "report (default: the end of the last report's period)."),
    publish: bool = typer.Option(False, "--publish",
                                 help="Store the edition and append its `report` record (meets the cadence)."),
) -> None:
    """The Risk Report edition for AUDIENCE, generated from the records (never hand-edited)."""
    from mast.reports.build import build_report
    from mast.workspace import Workspace

    moment = parse_moment(as_of) if as_of else datetime.now(UTC).replace(microsecond=0)
    if output is not None and output.is_dir():
        raise InvalidInput(Problem(str(output), None, None, "-o: is a directory; give a file name"))
    if output is not None and not (output.parent if str(output.parent) else Path(".")).is_dir():
        raise InvalidInput(Problem(str(output), None, None, f"-o: directory {output.parent} does not exist"))
    ws = Workspace.open(state.workspace)
    try:
        start = resolve_since(ws, since) if since else None
        report = build_report(ws.frameworks(), ws.store.records(), audience.value, moment, start)
        data = render(report, fmt.value)
        if publish:
            entry = publish_edition(ws, data, audience.value, report.period_from, moment)
            err.print(f"published the {audience.value} edition as log entry {entry.index} "
                      f"(sha256 {entry.record.sha256})", markup=False, highlight=False)
    finally:
        ws.close()
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        _write(output, data)
        err.print(f"wrote {output} ({len(data):,} bytes)", style="dim", markup=False, highlight=False)
