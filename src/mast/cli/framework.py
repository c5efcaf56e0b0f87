"""`mast framework ...`: commands on framework files (DESIGN §7).

Each command is its own function registered on `framework_app`; they share nothing but the
loader, so commands can be added here without touching one another.
"""

from __future__ import annotations

from pathlib import Path

import typer

from mast.cli.app import framework_app, out
from mast.framework.loader import load_framework
from mast.framework.model import Framework


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
def publish_command(
    file: Path = typer.Argument(..., help="The framework file to publish (YAML or JSON).", show_default=False),
    approve: list[str] = typer.Option(
        [], "--approve", metavar="ROLE=NAME",
        help="A sign-off, e.g. --approve 'rso=Jane Roe'; repeat for every role the amendment rules require.",
    ),
    at: str | None = typer.Option(
        None, "--at", metavar="TIME", help="Publication time (ISO 8601 with a zone) to backfill history; default now.",
    ),
) -> None:
    """Publish a framework version to the log; refused (exit 3) without its approvals."""
    from mast.cli.app import state
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
        entry = ws.publish(framework, doc, approvals, at=when)
    finally:
        ws.close()
    out.print(f"published {framework.id} {framework.version} at index {entry.index} "
              f"(sha256 {entry.record.sha256})", markup=False, highlight=False, soft_wrap=True)
