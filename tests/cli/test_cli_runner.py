"""tests/cli_runner.py itself: a call leaves the test process as it found it, starts from a
fresh CLI state, and shows an escaping exception as the interpreter would (a traceback, exit
1) rather than raising it into the test. (That it gives what a real process gives is
test_entry_points.py's.)"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import cli_runner
from cli_runner import run

import mast.cli.app as cli_app


def test_a_call_puts_back_what_it_changed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MAST_WORKSPACE", str(tmp_path / "elsewhere"))
    assert run("init", tmp_path / "ws").code == 0
    cwd, env, streams, hook = os.getcwd(), dict(os.environ), (sys.stdin, sys.stdout, sys.stderr), sys.excepthook
    done = run("record", "add", "-", input="[]", cwd=tmp_path, env={"MAST_WORKSPACE": str(tmp_path / "ws")})
    assert done.code == 0, done.stderr
    assert (os.getcwd(), dict(os.environ), (sys.stdin, sys.stdout, sys.stderr), sys.excepthook) == (cwd, env, streams, hook)
    assert (cli_app.out, cli_app.err) == (cli_runner._OUT, cli_runner._ERR)
    assert cli_app.state == type(cli_app.state)()


def test_the_test_process_s_mast_workspace_is_not_inherited(tmp_path: Path, monkeypatch) -> None:
    assert run("init", tmp_path / "ws").code == 0
    monkeypatch.setenv("MAST_WORKSPACE", str(tmp_path / "ws"))
    done = run("log", "verify", cwd=tmp_path)
    assert done.code == 2 and "not a mast workspace" in done.stderr


def test_each_call_starts_from_a_fresh_state(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr(cli_app, "app", lambda **_: seen.append(copy.copy(cli_app.state)))
    cli_app.state.workspace = Path("left-over")  # as a previous command might leave it
    assert run("status").code == 0
    assert seen == [type(cli_app.state)()] and cli_app.state == type(cli_app.state)()


def test_an_escaping_exception_is_a_traceback_on_stderr_and_exit_1(monkeypatch) -> None:
    def broken(**_):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_app, "app", broken)
    done = run("status")
    assert done.code == 1 and done.stdout == ""
    assert done.stderr.startswith("Traceback (most recent call last):") and done.stderr.endswith("RuntimeError: boom\n")
