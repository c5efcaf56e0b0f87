"""Fixtures for the evidence tests: real Inspect logs made by Inspect itself (once per
session, in a subprocess kept offline and inside a temporary directory), a workspace with
the test framework and two models, the CLI run as a user runs it, and a store snapshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from cli_runner import Result, run
import stored

from evidence_helpers import build_workspace

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def inspect_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of real Inspect logs: bio.eval, bio.json, ctf.eval, error.eval (see
    make_inspect_logs.py). Copy before changing anything in it."""
    pytest.importorskip("inspect_ai")
    root = tmp_path_factory.mktemp("inspect")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INSPECT_", "MAST_"))}
    done = subprocess.run([sys.executable, str(HERE / "make_inspect_logs.py"), str(root)], env=env, cwd=root,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    logs = root / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["bio.eval", "bio.json", "ctf.eval", "error.eval"]
    return logs


@pytest.fixture
def logs(inspect_logs: Path, tmp_path: Path) -> Path:
    """A private copy of the Inspect logs, in tmp_path/logs."""
    return Path(shutil.copytree(inspect_logs, tmp_path / "logs"))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace at tmp_path/ws: the test framework (data/framework.yaml) published, and
    models `test` ("Offline test model", what the logs name as mast_offline/test) and
    `atlas-1` ("Atlas 1")."""
    return build_workspace(tmp_path / "ws")


Run = Callable[..., Result]


@pytest.fixture
def mast(tmp_path: Path) -> Run:
    """Run `mast ARGS` in tmp_path, as a user would (in-process, tests/cli_runner.py)."""

    def mast(*args: str, input: str | None = None) -> Result:
        return run(*args, input=input, cwd=tmp_path)

    return mast


@pytest.fixture
def snapshot() -> Callable[[Path], list[tuple]]:
    """`snapshot(ws)`: every entry, every column; equal snapshots mean nothing was written."""
    return stored.entries

