"""The process boundary, which every other CLI test (in-process, tests/cli_runner.py) takes for
granted: `python -m mast` and the `mast` console script start at all, and a real interpreter
exits with mast's codes — 0, 2 for invalid input and for a usage error — with the same stdout
and stderr, byte for byte, as the in-process runner gives. One real process a case: each
costs a second of start-up.

(Also in real processes, because there the process is the point: tests/ledger/test_log_crash.py,
writers killed with SIGKILL; tests/evidence/test_evidence_inspect.py, what a fresh interpreter
imports; tests/evidence/conftest.py, Inspect making its logs offline.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cli_runner import WIDTH, run, subprocess_env

EXAMPLE = Path(__file__).resolve().parents[1] / "framework" / "data" / "example-lab-rsp.yaml"
SUMMARY = "ok: example-lab-rsp 2.2 — 3 thresholds, 2 standards, 5 commitments, 1 escape clause\n"


def real(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=subprocess_env(WIDTH), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120)


def test_python_dash_m_mast_runs_a_command(tmp_path: Path) -> None:
    done = real([sys.executable, "-m", "mast", "framework", "check", str(EXAMPLE)], tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, SUMMARY, "")
    inside = run("framework", "check", EXAMPLE, cwd=tmp_path)
    assert (inside.code, inside.stdout, inside.stderr) == (0, SUMMARY, "")


def test_the_console_script_runs_a_command(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mast")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable} (mast not installed in this environment)")
    done = real([str(script), "framework", "check", str(EXAMPLE)], tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, SUMMARY, "")


@pytest.mark.parametrize("args, code", [
    (["framework", "check", "missing.yaml"], 2),  # invalid input: `error: ...`, nothing on stdout
    (["--no-such-option"], 2),  # a usage error, from Typer
    (["-w", ".", "log", "verify"], 2),  # not a workspace
])
def test_the_interpreter_refuses_as_the_in_process_runner_says(tmp_path: Path, args: list[str], code: int) -> None:
    done = real([sys.executable, "-m", "mast", *args], tmp_path)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and done.stderr and done.stdout == ""
    inside = run(*args, cwd=tmp_path)
    assert (inside.code, inside.stdout, inside.stderr) == (done.returncode, done.stdout, done.stderr)
