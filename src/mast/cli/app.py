"""The root Typer app, global options, and the one place errors become exit codes.

Command modules (`mast.cli.<group>`) register themselves on the apps defined here; `main`
imports them so that `mast --help` lists everything.
"""

from __future__ import annotations

import functools
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TypeVar

import typer
from rich.console import Console

from mast.errors import InvalidInput, MastError

app = typer.Typer(
    name="mast",
    help="A system of record for frontier-AI safety frameworks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
framework_app = typer.Typer(help="Framework files: check, publish, diff.", no_args_is_help=True)
record_app = typer.Typer(help="Append records to the workspace's log.", no_args_is_help=True)
evidence_app = typer.Typer(help="Evaluation evidence: import Inspect / lm-eval / CSV, show, plot.", no_args_is_help=True)
app.add_typer(framework_app, name="framework")
app.add_typer(record_app, name="record")
app.add_typer(evidence_app, name="evidence")

#: stdout for results, stderr for messages; both honour NO_COLOR and a non-terminal.
out = Console()
err = Console(stderr=True)

COMMAND_MODULES = ("framework", "records", "status", "demo", "log", "evidence", "report", "roadmap", "review")


@dataclass
class State:
    workspace: Path = Path(".")
    #: set by a command that writes (`writes`): only its invalid input is "nothing was written"
    writes: bool = False


state = State()

_Command = TypeVar("_Command", bound=Callable)


def writes(command: _Command) -> _Command:
    """Mark a command that writes — to the log or to files — so that its invalid-input errors
    end with "nothing was written" (DESIGN §2.5). A read-only command's do not: saying so
    there would suggest it might have written something."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        state.writes = True
        return command(*args, **kwargs)

    return run  # type: ignore[return-value]


@app.callback()
def _global(
    workspace: Optional[Path] = typer.Option(
        None, "-w", "--workspace", envvar="MAST_WORKSPACE",
        help="Workspace directory (default: the current directory).",
    ),
) -> None:
    state.workspace = workspace if workspace is not None else Path(".")


def report_error(exc: MastError) -> int:
    """Print a MastError the way users read it: one problem a line, no traceback."""
    if isinstance(exc, InvalidInput):
        for problem in exc.problems:
            err.print(f"error: {problem}", markup=False, highlight=False, soft_wrap=True)
        if state.writes:
            err.print("nothing was written", style="dim", highlight=False)
    else:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    return exc.exit_code


def main(argv: list[str] | None = None) -> None:
    vars(state).update(vars(State()))  # one invocation's; main may run many times in one process
    for name in COMMAND_MODULES:
        importlib.import_module(f"mast.cli.{name}")
    try:
        app(args=argv, prog_name="mast")  # usage errors exit 2, as invalid input should
    except MastError as exc:
        sys.exit(report_error(exc))
