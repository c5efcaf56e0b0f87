"""`mast evidence import|show|plot` and `mast determine`: evaluation evidence and the signed
determinations made on it. The work is done in `mast.evidence`; this module parses options
and prints."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, List, Optional

import typer
from rich.text import Text

from mast.cli.app import app, err, evidence_app, out, state, writes
from mast.cli.records import describe_appended, parse_approvals, parse_time
from mast.errors import InvalidInput
from mast.vocabulary import UTC, iso, minute

if TYPE_CHECKING:
    from mast.evidence.importer import ImportResult, Progress
    from mast.evidence.show import EvidenceView
    from mast.workspace import Workspace

AUDIENCES = ("public", "reviewer", "internal")


@contextmanager
def _workspace() -> Iterator[Workspace]:
    from mast.workspace import Workspace

    ws = Workspace.open(state.workspace)
    try:
        yield ws
    finally:
        ws.close()


def _audience(value: str) -> str:
    if value not in AUDIENCES:
        raise InvalidInput(f"--audience {value!r}: expected one of {', '.join(AUDIENCES)}")
    return value


def _moment(as_of: str | None) -> datetime:
    from mast.cli.status import parse_moment

    return parse_moment(as_of) if as_of else datetime.now(UTC).replace(microsecond=0)


@contextmanager
def _progress(show: bool) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr (only on a terminal) while files are read."""
    if not show or not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("importing evidence"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("files", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@evidence_app.command("import")
@writes
def import_(
    paths: List[Path] = typer.Argument(..., metavar="PATH...", help="Inspect .eval/.json logs, lm-eval results_*.json, "
                                                                     "CSV files, or directories of them."),
    model: Optional[str] = typer.Option(None, "--model", help="The mast model id the evidence is about."),
    model_from_log: bool = typer.Option(False, "--model-from-log",
                                        help="Take the model from each file (it must be a model record) when it "
                                             "differs from --model."),
    mapping_file: Optional[Path] = typer.Option(None, "--map", help="A YAML mapping file renaming tasks, scorers, "
                                                                    "metrics and models."),
    partial: bool = typer.Option(False, "--partial", help="Import Inspect logs whose status is not success."),
    format: Optional[str] = typer.Option(None, "--format", help="inspect, lm-eval or csv (default: by file name)."),
    audience: str = typer.Option("public", "--audience", help="Least audience that may see the records."),
) -> None:
    """Import evaluation results as eval records, atomically: all files, or none if any is wrong."""
    from mast.evidence.importer import import_evidence
    from mast.evidence.mapping import load_mapping

    mapping = load_mapping(mapping_file)
    with _workspace() as ws, _progress(any(p.is_dir() for p in paths)) as progress:
        result = import_evidence(ws, paths, model=model, model_from_log=model_from_log, partial=partial,
                                 mapping=mapping, format=format, audience=_audience(audience), progress=progress)
        unread = _unread_tasks(ws, result)
    _report_import(result, unread)


def _unread_tasks(ws: Workspace, result: ImportResult) -> list[str]:
    """Imported tasks that no indicator of any published version reads (a mapping may be due)."""
    read = {task for f in ws.frameworks() for t in f.thresholds for _, text in t.indicators.levels()
            for task in _tasks_of(text)}
    tasks = {e.record.task for e in result.entries}  # type: ignore[union-attr]
    return sorted(tasks - read) if ws.frameworks() else []


def _tasks_of(text: str) -> frozenset[str]:
    from mast.framework.expressions import parse_expression

    return parse_expression(text).tasks


def _report_import(result: ImportResult, unread: list[str]) -> None:
    files = len(result.imported)
    if result.entries:
        line = describe_appended(result.entries).replace("record", "eval record", 1)
        line += f" from {files} file{'s' if files != 1 else ''}"
    else:
        line = "nothing appended: no new evidence" + (" (every file was already imported)" if result.skipped else "")
    out.print(line, markup=False, highlight=False)
    for source, why in result.skipped:
        out.print(f"skipped {source.path}: {why}", markup=False, highlight=False, style="dim")
    if unread:
        err.print(f"note: no indicator reads task{'s' if len(unread) > 1 else ''} {', '.join(unread)} "
                  "(rename it with a --map file if the framework calls it otherwise)", markup=False, highlight=False)


@evidence_app.command("show")
def show(
    model: str = typer.Argument(..., help="The model id."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="As of this time (default: now)."),
    as_json: bool = typer.Option(False, "--json", help="Print the view as JSON."),
) -> None:
    """Per threshold: each indicator, the scores it reads (best value, when, source), the level reached."""
    view = _view(model, _moment(as_of))
    if as_json:
        typer.echo(json.dumps(view.to_json_data(), indent=2))
    else:
        render_view(view)


def _view(model: str, moment: datetime) -> EvidenceView:
    from mast.evidence.show import evidence_view

    with _workspace() as ws:
        return evidence_view(ws.frameworks(), ws.store.records(), model, moment)


def _when(moment: datetime | None) -> str:
    return minute(moment) if moment else ""


HOLDS = {True: ("fires", "bold red"), False: ("holds not", "green"), None: ("undecided", "yellow")}


def render_view(view: EvidenceView) -> None:
    from mast.cli.status import STATUS_STYLE

    out.print(Text(f"{view.model} — evidence against {view.framework[0]} {view.framework[1]}, as of {iso(view.as_of)}",
                   style="bold"))
    for t in view.thresholds:
        out.print()
        head = Text(f"{t.id}", style="bold")
        if t.title:
            head.append(f"  {t.title}", style="dim")
        out.print(head)
        status = Text("  status ")
        status.append(t.status, style=STATUS_STYLE.get(t.status, ""))
        if t.basis:
            status.append(f" ({t.basis}" + (f", since {_when(t.since)}" if t.since else "") + ")", style="dim")
        status.append(" · reached ")
        status.append(t.reached or "none", style="bold" if t.reached else "dim")
        out.print(status)
        if not t.indicators:
            out.print(Text("  no indicators", style="dim"))
        for i in t.indicators:
            word, style = HOLDS[i.holds]
            line = Text(f"  {i.level:<14}", style="")
            line.append(f"{word:<10}", style=style)
            line.append(i.text)
            out.print(line)
            for b in i.scores:
                row = Text(f"      {b.task} · {b.metric}: ")
                if b.value is None:
                    row.append("no evidence", style="yellow")
                    out.print(row)
                    continue
                row.append(f"{b.value:g}", style="bold")
                row.append(f"  best of {b.evals}, {_when(b.at)}" if b.at else "", style="dim")
                out.print(row)
                out.print(Text(f"        from {b.source}", style="dim"))


@evidence_app.command("plot")
@writes
def plot(
    model: str = typer.Argument(..., help="The model id."),
    output: Path = typer.Option(..., "-o", "--output", help="The chart file (.svg, .png or .pdf)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="As of this time (default: now)."),
) -> None:
    """Chart each task's score over time against the indicator lines, one panel per threshold."""
    from mast.evidence.plot import plot_evidence

    written = plot_evidence(_view(model, _moment(as_of)), output)
    out.print(f"wrote {written}", markup=False, highlight=False)


@app.command("determine")
@writes
def determine(
    model: str = typer.Argument(..., help="The model id."),
    threshold: str = typer.Argument(..., help="The threshold id."),
    status: str = typer.Option(..., "--status", help="ruled_out, not_ruled_out or crossed."),
    rationale: str = typer.Option(..., "--rationale", help="Why; - reads it from standard input."),
    approve: List[str] = typer.Option([], "--approve", metavar="ROLE=NAME",
                                      help="A sign-off; every role in the framework's determinations.approvals."),
    at: Optional[str] = typer.Option(None, "--at", help="When it was made (default: now)."),
    ref: Optional[str] = typer.Option(None, "--ref", help="A name for the record, unique in the workspace."),
    supersedes: Optional[str] = typer.Option(None, "--supersedes", help="Ref or id of a determination it corrects."),
    audience: str = typer.Option("public", "--audience", help="Least audience that may see the record."),
) -> None:
    """Record a signed determination of a model's threshold status."""
    from mast.evidence.determine import determine as make

    text = sys.stdin.read() if rationale == "-" else rationale
    moment = parse_time(at, "--at") if at else None
    with _workspace() as ws:
        entry = make(ws, model, threshold, status=status, rationale=text, approvals=parse_approvals(approve),
                     at=moment, ref=ref, supersedes=supersedes, audience=_audience(audience))
    out.print(f"{describe_appended([entry])}: {model} {threshold} {status} (id {entry.id[:12]})",
              markup=False, highlight=False)
