"""Load YAML or JSON into plain data while remembering where every node was written.

Both framework files and records files are read through here, so that every validation
error can say `FILE:LINE:COL: message`. JSON is loaded by the same YAML 1.2 parser (JSON is
YAML 1.2), which keeps one code path and one position model for both.

Timestamps are left as strings: pydantic decides whether they carry a zone, and a naive time
is reported as an error instead of being silently read as UTC.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError

from mast.errors import InvalidInput, Problem

PathKey = tuple[str | int, ...]


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that keeps timestamps as the text the author wrote."""


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", RoundTripConstructor.construct_yaml_str)


@dataclass
class SourceDocument:
    """Plain data (dicts, lists, scalars) plus the 1-based (line, col) of each node."""

    name: str
    data: Any
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: PathKey) -> tuple[int | None, int | None]:
        """The position of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def problem(self, path: PathKey, message: str) -> Problem:
        line, col = self.position(path)
        return Problem(self.name, line, col, message)

    def sub(self, prefix: PathKey) -> "SourceDocument":
        """A view of one node (e.g. one record in a list) with positions re-rooted at it."""
        n = len(prefix)
        positions = {k[n:]: v for k, v in self.positions.items() if k[:n] == prefix}
        node = self.data
        for key in prefix:
            node = node[key]
        return SourceDocument(self.name, node, positions)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.Constructor = _Constructor
    y.allow_duplicate_keys = False
    return y


def _plain(node: Any, path: PathKey, positions: dict[PathKey, tuple[int, int]]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            try:
                line, col = node.lc.value(key)
            except (KeyError, TypeError):
                line, col = node.lc.line, node.lc.col
            positions[path + (str(key),)] = (line + 1, col + 1)
            out[str(key)] = _plain(value, path + (str(key),), positions)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            try:
                line, col = node.lc.item(i)
            except (KeyError, TypeError):
                line, col = node.lc.line, node.lc.col
            positions[path + (i,)] = (line + 1, col + 1)
            out_list.append(_plain(value, path + (i,), positions))
        return out_list
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def parse_text(text: str, name: str) -> SourceDocument:
    """Parse YAML/JSON text. Syntax errors become `InvalidInput` with the parser's position."""
    try:
        root = _yaml().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if mark is None:
            raise InvalidInput(Problem(name, None, None, message)) from None
        raise InvalidInput(Problem(name, mark.line + 1, mark.column + 1, message)) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad encodings)
        raise InvalidInput(Problem(name, None, None, f"cannot parse: {exc}")) from None
    positions: dict[PathKey, tuple[int, int]] = {(): (1, 1)}
    data = _plain(root, (), positions)
    return SourceDocument(name, data, positions)


def load_file(path: str | Path) -> SourceDocument:
    """Read and parse a file; a missing or unreadable file is invalid input, not a crash."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(Problem(str(path), None, None, "no such file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(Problem(str(path), None, None, f"cannot read: {exc}")) from None
    return parse_text(text, str(path))


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[PathKey, str | None]:
    """Map a pydantic error location onto the data's own path.

    Pydantic puts union tags and validator names into `loc`; those are skipped because they
    are not keys of the data. Returns the path found and the first key that was missing.
    """
    path: list[str | int] = []
    node = data
    missing: str | None = None
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                path.append(part)
                node = node[part]
            elif missing is None and part not in _PYDANTIC_TAGS:
                missing = part
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path), missing


_PYDANTIC_TAGS = {"function-after", "function-before", "function-wrap", "function-plain"}


def problems_from_validation(doc: SourceDocument, exc: ValidationError, prefix: PathKey = ()) -> list[Problem]:
    """Turn a pydantic ValidationError about `doc.data` into positioned problems."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        path, missing = _data_path(doc.data, loc)
        field_name = ".".join(str(p) for p in prefix + path) or "document"
        msg = err.get("msg", "invalid")
        if err.get("type") == "missing" and missing:
            text = f"{field_name}: missing required field '{missing}'" if path else f"missing required field '{missing}'"
        elif err.get("type") == "extra_forbidden":
            text = f"{field_name}: unknown field"
        else:
            text = f"{field_name}: {msg}"
        line, col = doc.position(path)
        problems.append(Problem(doc.name, line, col, text))
    return problems
