"""`mast init` and `mast record add`: creating a workspace and appending records to it.

The store and loader are imported inside the commands: every `mast` invocation imports
this module to register its commands, and should not pay for SQLAlchemy unless it uses it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from mast.cli.app import app, out, record_app, state, writes
from mast.errors import InvalidInput

if TYPE_CHECKING:
    from mast.records.store import Entry


@app.command("init")
@writes
def init(
    directory: Optional[Path] = typer.Argument(None, help="Directory to make a workspace of (default: -w, or here)."),
) -> None:
    """Create a workspace: mast.toml and .mast/ (the database)."""
    from mast.workspace import Workspace

    ws = Workspace.init(directory if directory is not None else state.workspace)
    try:
        out.print(f"initialised mast workspace in {ws.root} (log {ws.origin})", markup=False, highlight=False)
    finally:
        ws.close()


@record_app.command("add")
@writes
def add(
    file: str = typer.Argument(..., metavar="FILE|-", help="A YAML or JSON records file; - reads standard input."),
) -> None:
    """Append records (one or a list) atomically: all of them, or none if any is wrong."""
    from mast.records.loader import load_batch
    from mast.workspace import Workspace

    ws = Workspace.open(state.workspace)
    try:
        entries = ws.add(load_batch(file))
    finally:
        ws.close()
    out.print(describe_appended(entries), markup=False, highlight=False)


def describe_appended(entries: list[Entry]) -> str:
    """`appended 12 records (index 3–14)`: what was written and where it sits in the log."""
    if not entries:
        return "appended 0 records"
    first, last = entries[0].index, entries[-1].index
    span = f"index {first}" if first == last else f"index {first}\u2013{last}"
    return f"appended {len(entries)} record{'s' if len(entries) != 1 else ''} ({span})"


def parse_approvals(values: list[str]) -> dict[str, str]:
    """`--approve ROLE=NAME` options as {role: name}; anything else is invalid input (exit 2)."""
    approvals: dict[str, str] = {}
    for value in values:
        role, sep, name = value.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or not role or not name:
            raise InvalidInput(f"--approve {value!r}: expected ROLE=NAME, e.g. --approve 'rso=Jane Roe'")
        if approvals.get(role, name) != name:
            raise InvalidInput(f"--approve: role {role!r} is given twice ({approvals[role]!r} and {name!r})")
        approvals[role] = name
    return approvals


def parse_time(value: str, option: str) -> datetime:
    """A zoned ISO 8601 time given on the command line; a naive or malformed one is exit 2."""
    from pydantic import TypeAdapter, ValidationError

    from mast.vocabulary import ZonedTime

    try:
        return TypeAdapter(ZonedTime).validate_python(value)
    except ValidationError:
        raise InvalidInput(f"{option} {value!r}: expected a time with a zone, e.g. 2025-05-14T00:00:00Z") from None
