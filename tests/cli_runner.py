"""The tests' one way to run the `mast` command line: in-process, as `python -m mast` runs it
but without a second of interpreter start-up and imports per call.

`run(*args, input=None, env=None, cwd=None, width=WIDTH, fresh_state=True)` calls
`mast.cli.app.main(args)` and returns `Result(code, stdout, stderr)` as a subprocess would give them:

- stdout and stderr are captured apart: `sys.stdout`/`sys.stderr` (with their `.buffer`s, for
  commands that write bytes) and the Rich consoles — `mast.cli.app.out`/`err` and every copy
  a module took with `from mast.cli.app import out, err`, found by identity in every `mast.*`
  module — are swapped for the call. The consoles are `width` columns wide, not a terminal,
  without colour: what `NO_COLOR=1 COLUMNS=200 python -m mast ... | cat` shows (width=80 is
  what a pipe shows without COLUMNS). A console a test put in place itself is left alone.
- the exit code is the one the interpreter would exit with: SystemExit's (None is 0); an
  exception that escapes `main` is printed to stderr as the interpreter prints it
  ("Traceback ...") and is exit 1, so a test that asserts "no traceback" still catches one.
- `input` is stdin (str or bytes); without it stdin is empty.
- the environment is the test process's without MAST_WORKSPACE, with NO_COLOR=1 and
  COLUMNS=width (Typer wraps usage errors to it); `env` adds to that (None removes a
  variable). The environment, the working directory (`cwd`), `sys.excepthook` (Typer sets
  its own) and the warning filters are put back after the call; warnings go to stderr
  under the interpreter's default filters.
- the CLI's global state (`mast.cli.app.state`) is reset to a fresh State's before and after
  every call, as a new process would have it. With `fresh_state=False` it is not reset at
  all: it passes from call to call as in a long-lived process calling `main` again (for
  tests of what `main` resets itself).

Calls must not overlap (the streams are the process's): run them one after another.

Where the process boundary itself is the point — `python -m mast` and the console script
starting at all (tests/cli/test_entry_points.py), a writer killed with SIGKILL, what a fresh
interpreter imports — tests start a real process, with `subprocess_env()` as here.
"""

from __future__ import annotations

import dataclasses
import io
import os
import sys
import threading
import traceback
import warnings
from dataclasses import dataclass

from rich.console import Console

import mast.cli.app as cli_app

#: The consoles' width unless a test asks for another.
WIDTH = 200

#: The consoles `mast.cli.app` made at import; any module attribute that is one of them is
#: swapped for the call's.
_OUT, _ERR = cli_app.out, cli_app.err

_running = threading.Lock()


@dataclass(frozen=True)
class Result:
    """How `mast ARGS` ended: exit code, stdout (`stdout_bytes` as written; `stdout` decoded
    as UTF-8, as a subprocess in text mode decodes it), stderr, and the arguments."""

    code: int
    stdout_bytes: bytes
    stderr: str
    args: tuple[str, ...] = ()

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode()


def subprocess_env(width: int = WIDTH, **extra: str | None) -> dict[str, str]:
    """The environment `run` gives `mast`, for the tests that start a real process."""
    env = {k: v for k, v in os.environ.items() if k != "MAST_WORKSPACE"}
    env.update(NO_COLOR="1", COLUMNS=str(width))
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _exit_code(code: object, stderr: io.TextIOBase) -> int:
    """The status the interpreter exits with for `SystemExit(code)`."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=stderr)
    return 1


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _consoles(width: int) -> dict[str, Console]:
    """This call's consoles: they write to whatever sys.stdout/sys.stderr are when they print."""
    common = dict(width=width, color_system=None, force_terminal=False, force_interactive=False,
                  no_color=True, legacy_windows=False)
    return {"out": Console(**common), "err": Console(stderr=True, **common)}


def _swap_consoles(out: Console, err: Console) -> list[tuple[object, str, Console]]:
    """Point every `mast` module's reference to the import-time consoles at `out`/`err`;
    returns what to put back."""
    replaced = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "mast" or name.startswith("mast.")):
            continue
        for attr, value in list(vars(module).items()):
            if value is _OUT or value is _ERR:
                replaced.append((module, attr, value))
                setattr(module, attr, out if value is _OUT else err)
    return replaced


def _reset_state() -> None:
    """`mast.cli.app.state` back to a fresh State's values, in place (modules hold the object)."""
    fresh = type(cli_app.state)()
    for field in dataclasses.fields(fresh):
        setattr(cli_app.state, field.name, getattr(fresh, field.name))


def run(*args: str | os.PathLike, input: str | bytes | None = None, env: dict[str, str | None] | None = None,
        cwd: str | os.PathLike | None = None, width: int = WIDTH, fresh_state: bool = True) -> Result:
    """`mast ARGS`, in-process; see the module's docstring."""
    argv = [os.fspath(a) for a in args]
    if not _running.acquire(blocking=False):
        raise RuntimeError("cli_runner.run: calls must not overlap")
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_hook = sys.excepthook
    stdout, stderr = io.BytesIO(), io.BytesIO()
    # kept referenced until the end: a TextIOWrapper closes its buffer when it is collected
    text_in = io.TextIOWrapper(io.BytesIO(input.encode() if isinstance(input, str) else (input or b"")),
                               encoding="utf-8")
    text_out = io.TextIOWrapper(stdout, encoding="utf-8", write_through=True)
    text_err = io.TextIOWrapper(stderr, encoding="utf-8", errors="backslashreplace", write_through=True)
    replaced: list[tuple[object, str, Console]] = []
    try:
        os.environ.clear()
        os.environ.update(subprocess_env(width, **(env or {})))
        if cwd is not None:
            os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = text_in, text_out, text_err
        consoles = _consoles(width)
        replaced = _swap_consoles(consoles["out"], consoles["err"])
        if fresh_state:
            _reset_state()
        with warnings.catch_warnings():
            # the interpreter's default filters, shown on stderr as `python -m mast` shows them
            warnings.resetwarnings()
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = _show_warning
            try:
                cli_app.main(argv)
                code = 0
            except SystemExit as exc:
                code = _exit_code(exc.code, sys.stderr)
            except KeyboardInterrupt:
                raise
            except BaseException:  # what the interpreter does with an exception nothing caught
                traceback.print_exc(file=sys.stderr)
                code = 1
        text_out.flush()
        text_err.flush()
    finally:
        for module, attr, value in replaced:
            setattr(module, attr, value)
        if fresh_state:
            _reset_state()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        sys.excepthook = saved_hook
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        _running.release()
    result = Result(code, stdout.getvalue(), stderr.getvalue().decode("utf-8", "backslashreplace"), tuple(argv))
    for stream in (text_in, text_out, text_err):
        stream.close()
    return result
