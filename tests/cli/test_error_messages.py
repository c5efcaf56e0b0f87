"""How invalid input is reported: one problem a line, exit 2, and "nothing was written" only
from commands that write (a read-only command never could have)."""

from __future__ import annotations

from cli_runner import run


def test_a_writing_command_says_nothing_was_written(tmp_path):
    assert run("init", tmp_path / "ws").code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: memo, at: 2025-01-01T00:00:00Z}\n")
    done = run("-w", tmp_path / "ws", "record", "add", bad)
    assert done.code == 2
    assert "unknown kind 'memo'" in done.stderr and "nothing was written" in done.stderr


def test_a_read_only_command_does_not(tmp_path):
    done = run("framework", "check", tmp_path / "missing.yaml")
    assert done.code == 2 and "no such file" in done.stderr and "nothing was written" not in done.stderr


def test_the_flag_does_not_carry_over_to_the_next_invocation(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: memo, at: 2025-01-01T00:00:00Z}\n")
    # as one long-lived process would call main twice: the runner resets no state between them
    run("-w", tmp_path, "record", "add", bad, fresh_state=False)  # not a workspace: an error from a writer
    done = run("framework", "check", tmp_path / "missing.yaml", fresh_state=False)
    assert done.code == 2 and "nothing was written" not in done.stderr
