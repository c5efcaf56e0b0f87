"""`mast demo [DIR]`: build the Example Lab workspace end to end and show what mast sees."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from mast.cli.app import app, err, out, writes
from mast.vocabulary import iso

if TYPE_CHECKING:
    from mast.demo import Step


@app.command("demo")
@writes
def demo(
    directory: Optional[Path] = typer.Argument(None, help="Where to build the workspace (default: ./example-lab)."),
    force: bool = typer.Option(False, "--force", help="Replace a mast workspace in DIR even if it is not a demo's."),
) -> None:
    """Build the Example Lab workspace end to end and report on it.

    Publishes the lab's framework versions, appends eighteen months of records, shows the status at the moments that tell its story (docs/example-lab.md), and writes the present assessment to DIR/assessment.json.
    """
    # imported here, not at module level: the demo pulls in the store (SQLAlchemy), which
    # other commands such as `mast framework check` should not pay for at start-up
    from mast.demo import (ASSESSMENT_FILE, DEFAULT_DIR, EXAMPLE_LAB, build_demo, demo_assessment, load_plan,
                           prepare_directory, write_assessment)

    target = directory if directory is not None else DEFAULT_DIR
    steps, views = load_plan(EXAMPLE_LAB)
    if prepare_directory(target, replace=force):  # refuse before drawing any progress
        err.print(f"replacing the previous demo in {target}", style="dim", markup=False, highlight=False)
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=False) as progress:
        task = progress.add_task("building the Example Lab", total=len(steps))

        def advance(step: Step) -> None:
            progress.update(task, description=step.label)
            if step is not steps[0]:
                progress.advance(task)

        ws = build_demo(target, replace=force, progress=advance)
        progress.update(task, description=f"built {target}", completed=len(steps))
    try:
        count = ws.store.count()
        versions = ", ".join(f"{f.id} {f.version}" for f in ws.frameworks())
        err.print(f"{count} log entries ({versions})", style="dim", highlight=False, markup=False)
        assessment = None
        for view in views:
            assessment = demo_assessment(ws, view.as_of)
            out.print()
            out.print(Rule(Text(iso(view.as_of), style="bold"), align="left"))
            out.print(Text(" ".join(view.caption.split()), style="italic"))
            _render(assessment, out)
    finally:
        ws.close()
    assert assessment is not None
    path = write_assessment(assessment, Path(target) / ASSESSMENT_FILE)
    out.print()
    out.print(f"wrote {path} (the assessment as of {iso(views[-1].as_of)})", markup=False, highlight=False)
    out.print(f"explore: mast -w {target} status --as-of {iso(views[0].as_of)} --history",
              markup=False, highlight=False)


def _render(assessment: Any, console: Console) -> None:
    """`mast status`'s table when it is available; a plain findings table otherwise."""
    try:
        from mast.cli.status import render_assessment
    except ImportError:
        render_assessment = None
    if render_assessment is not None:
        render_assessment(assessment, console)
        return
    table = Table(show_header=True, header_style="bold")
    for column in ("kind", "commitment", "model", "since", "message"):
        table.add_column(column, overflow="fold")
    for f in assessment.findings:
        table.add_row(f.kind, f.commitment, f.model or "—", iso(f.since)[:10], f.message)
    console.print(table)
    console.print("summary: " + "  ".join(f"{k} {v}" for k, v in assessment.summary.items()),
                  markup=False, highlight=False)
