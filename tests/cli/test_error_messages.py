"""How invalid input is reported: one problem a line, exit 2, and "nothing was written" only
from commands that write (a read-only command never could have)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mast.cli.app import main


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exited:
        code = exited.code or 0
    return code, capsys.readouterr().err


def test_a_writing_command_says_nothing_was_written(tmp_path, capsys):
    assert run(capsys, "init", tmp_path / "ws")[0] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: memo, at: 2025-01-01T00:00:00Z}\n")
    code, err = run(capsys, "-w", tmp_path / "ws", "record", "add", bad)
    assert code == 2
    assert "unknown kind 'memo'" in err and "nothing was written" in err


def test_a_read_only_command_does_not(tmp_path, capsys):
    code, err = run(capsys, "framework", "check", tmp_path / "missing.yaml")
    assert code == 2 and "no such file" in err and "nothing was written" not in err


def test_the_flag_does_not_carry_over_to_the_next_invocation(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: memo, at: 2025-01-01T00:00:00Z}\n")
    run(capsys, "-w", tmp_path, "record", "add", bad)  # not a workspace: an error from a writer
    code, err = run(capsys, "framework", "check", tmp_path / "missing.yaml")
    assert code == 2 and "nothing was written" not in err
