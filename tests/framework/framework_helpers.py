"""Helpers for the framework tests: load text and collect the problems it raises."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mast.errors import InvalidInput
from mast.framework.loader import load_framework_text

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "example-lab-rsp.yaml"

#: Two lines every small test framework starts with, so the lines after them are 3, 4, ...
HEAD = 'mast: 1\nframework: {id: t, title: T, version: "1", effective: 2025-05-14T00:00:00Z}\n'


def problems_of(text: str, name: str = "fw.yaml") -> list[str]:
    """The problems loading `text` raises, as the CLI prints them (fails if it loads)."""
    with pytest.raises(InvalidInput) as info:
        load_framework_text(textwrap.dedent(text), name)
    return [str(p) for p in info.value.problems]


def only(problems: list[str]) -> str:
    assert len(problems) == 1, "\n".join(problems)
    return problems[0]


def loc(text: str, line: int, needle: str, name: str = "fw.yaml") -> str:
    """`NAME:LINE:COL` of the first `needle` on line `line` of `text` (1-based), so tests
    state positions by what is written there rather than by counted columns."""
    col = textwrap.dedent(text).splitlines()[line - 1].index(needle) + 1
    return f"{name}:{line}:{col}"
