"""Fixtures for the records tests: a workspace made by `mast init`, the CLI run as a user
runs it (in-process, tests/cli_runner.py), and a dump of the store to prove that nothing was
written."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from cli_runner import Result, run
import stored

DATA = Path(__file__).parent / "data"
FRAMEWORK_V1 = DATA / "framework-v1.yaml"
FRAMEWORK_V2 = DATA / "framework-v2.yaml"

Run = Callable[..., Result]


def _runner(default_cwd: Path) -> Run:
    def mast(*args: str, input: str | None = None, cwd: Path | None = None) -> Result:
        return run(*args, input=input, cwd=cwd or default_cwd)

    return mast


@pytest.fixture
def mast(tmp_path: Path) -> Run:
    """Run `mast ARGS` in tmp_path, as a user would; `input=` feeds stdin."""
    return _runner(tmp_path)


MODELS = """\
- {kind: model, at: 2025-02-01T00:00:00Z, id: m1, name: Model One, ref: m1-def}
- {kind: model, at: 2025-02-02T00:00:00Z, id: m2, name: Model Two, parent: m1}
"""


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Workspaces built once, through the CLI, and copied for each test."""
    root = tmp_path_factory.mktemp("templates")
    mast = _runner(root)
    result = mast("init", "empty")
    assert result.code == 0, result.stderr
    result = mast("init", "published")
    assert result.code == 0, result.stderr
    result = mast("-w", "published", "framework", "publish", str(FRAMEWORK_V1),
                  "--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe", "--at", "2025-01-01T00:00:00Z")
    assert result.code == 0, result.stderr
    result = mast("-w", "published", "record", "add", "-", input=MODELS)
    assert result.code == 0, result.stderr
    return {"empty": root / "empty", "published": root / "published"}


@pytest.fixture
def ws(tmp_path: Path, _templates: dict[str, Path]) -> Path:
    """An empty workspace at tmp_path/ws, as `mast init ws` makes it."""
    shutil.copytree(_templates["empty"], tmp_path / "ws")
    return tmp_path / "ws"


@pytest.fixture
def published(tmp_path: Path, _templates: dict[str, Path]) -> Path:
    """A workspace (tmp_path/ws) with framework v1 published (index 0) and models m1 (index 1,
    ref m1-def) and m2 (index 2, parent m1)."""
    shutil.copytree(_templates["published"], tmp_path / "ws")
    return tmp_path / "ws"


@pytest.fixture
def snapshot() -> Callable[[Path], tuple[int, list[tuple]]]:
    """`snapshot(ws)` = (count, dump): compare before and after to prove nothing was written."""
    return lambda ws: (stored.count(ws), stored.entries(ws))
