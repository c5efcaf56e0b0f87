"""Load YAML or JSON into plain data while remembering where every node was written.

Both framework files and records files are read through here, so that every validation
error can say `FILE:LINE:COL: message`. JSON is loaded by the same YAML 1.2 parser (JSON is
YAML 1.2), which keeps one code path and one position model for both.

Timestamps are left as strings: pydantic decides whether they carry a zone, and a naive time
is reported as an error instead of being silently read as UTC.
"""

from __future__ import annotations

import io
import re
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
    #: where each mapping key itself is written (for "unknown field" and similar)
    key_positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: PathKey) -> tuple[int | None, int | None]:
        """The position of `path`, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.positions:
                return self.positions[path]
            path = path[:-1]
        return self.positions.get((), (1, 1))

    def key_position(self, path: PathKey) -> tuple[int | None, int | None]:
        """Where the key naming `path` is written; the value's position if unknown."""
        return self.key_positions.get(tuple(path)) or self.position(path)

    def problem(self, path: PathKey, message: str) -> Problem:
        line, col = self.position(path)
        return Problem(self.name, line, col, message)

    def sub(self, prefix: PathKey) -> "SourceDocument":
        """A view of one node (e.g. one record in a list) with positions re-rooted at it."""
        n = len(prefix)
        positions = {k[n:]: v for k, v in self.positions.items() if k[:n] == prefix}
        keys = {k[n:]: v for k, v in self.key_positions.items() if k[:n] == prefix and len(k) > n}
        node = self.data
        for key in prefix:
            node = node[key]
        return SourceDocument(self.name, node, positions, keys)


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.Constructor = _Constructor
    y.allow_duplicate_keys = False
    return y


def _plain(node: Any, path: PathKey, positions: dict[PathKey, tuple[int, int]],
           keys: dict[PathKey, tuple[int, int]]) -> Any:
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            try:
                line, col = node.lc.value(key)
            except (KeyError, TypeError):
                line, col = node.lc.line, node.lc.col
            positions[path + (str(key),)] = (line + 1, col + 1)
            try:
                key_line, key_col = node.lc.key(key)
                keys[path + (str(key),)] = (key_line + 1, key_col + 1)
            except (KeyError, TypeError):
                pass
            out[str(key)] = _plain(value, path + (str(key),), positions, keys)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            try:
                line, col = node.lc.item(i)
            except (KeyError, TypeError):
                line, col = node.lc.line, node.lc.col
            positions[path + (i,)] = (line + 1, col + 1)
            out_list.append(_plain(value, path + (i,), positions, keys))
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


def _syntax_message(exc: MarkedYAMLError) -> str:
    """The parser's complaint, reworded for the two mistakes people make most."""
    problem = exc.problem or ""
    duplicate = re.match(r'found duplicate key "(.*)" with value', problem)
    if duplicate:
        return f'duplicate key "{duplicate.group(1)}" (a key may appear only once in a mapping)'
    if "'\\t'" in problem:
        return "tab character: indent YAML with spaces, not tabs"
    return " ".join(p for p in (exc.context, problem) if p) or "invalid YAML"


def parse_text(text: str, name: str) -> SourceDocument:
    """Parse YAML/JSON text. Syntax errors become `InvalidInput` with the parser's position."""
    try:
        root = _yaml().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = _syntax_message(exc)
        if mark is None:
            raise InvalidInput(Problem(name, None, None, message)) from None
        raise InvalidInput(Problem(name, mark.line + 1, mark.column + 1, message)) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. bad encodings)
        raise InvalidInput(Problem(name, None, None, f"cannot parse: {exc}")) from None
    positions: dict[PathKey, tuple[int, int]] = {(): (1, 1)}
    keys: dict[PathKey, tuple[int, int]] = {}
    data = _plain(root, (), positions, keys)
    return SourceDocument(name, data, positions, keys)


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


def field_name(path: PathKey) -> str:
    """A data path as people write it: `thresholds[0].requires[1].before`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


#: The example every "needs a zone" message shows (DESIGN §2.6).
ZONED_EXAMPLE = "2025-05-14T00:00:00Z"

_TIME_ERRORS = {"timezone_aware", "datetime_parsing", "datetime_from_date_parsing", "datetime_type",
                "datetime_object_invalid"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _message(err: Any) -> str:
    """Pydantic's message, rewritten to say what was expected in the file's own terms."""
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind in _TIME_ERRORS:
        return f"expected a time with a zone, e.g. {ZONED_EXAMPLE}" + ("" if kind == "timezone_aware" else f", got {_describe(value)}")
    if kind in ("value_error", "assertion_error"):
        return msg.split(", ", 1)[1] if msg.startswith(("Value error, ", "Assertion failed, ")) else msg
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", ""))
        if set(re.findall(r"'([^']*)'", expected)) == _STAGES:
            return f"expected a stage (training, internal, deployed or retired), got {_describe(value)}"
        return f"expected {'one of ' if ' or ' in expected else ''}{expected}, got {_describe(value)}"
    if kind == "string_type":
        hint = f' (quote it: "{value}")' if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        return f"expected text, got {_describe(value)}{hint}"
    if kind == "string_too_short":
        return "expected a non-empty string"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length', 1)} item{'s' if ctx.get('min_length', 1) != 1 else ''}"
    if kind == "list_type":
        return f"expected a list, got {_describe(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping, got {_describe(value)}"
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing", "int_from_float"):
        return f"expected a number, got {_describe(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_describe(value)}"
    return msg


_STAGES = {"training", "internal", "deployed", "retired"}


def problems_from_validation(doc: SourceDocument, exc: ValidationError, prefix: PathKey = ()) -> list[Problem]:
    """Turn a pydantic ValidationError about `doc.data` into positioned problems.

    One line per field: errors that land on the same field (a union's alternatives, the
    same error reported twice) are merged, so the author reads each fault once. An unknown
    key is named on its parent and positioned at the key itself.
    """
    # (field path, position, missing/unknown key or None) -> messages, in pydantic's order
    merged: dict[tuple[PathKey, tuple[int | None, int | None], str | None], list[str]] = {}
    for err in exc.errors(include_url=False):
        path, missing = _data_path(doc.data, tuple(err.get("loc", ())))
        key: str | None = None  # a missing or unknown key is its own problem, never merged
        where = doc.position(path)
        if err.get("type") == "missing" and missing:
            key, text = missing, f"missing required field '{missing}'"
        elif err.get("type") == "extra_forbidden" and path:
            key, where = str(path[-1]), doc.key_position(path)
            path, text = path[:-1], f"unknown field '{key}'"
        else:
            text = _message(err)
        texts = merged.setdefault((path, where, key), [])
        if text not in texts:
            texts.append(text)
    problems = []
    for (path, (line, col), _), texts in merged.items():
        name = field_name(prefix + path)
        text = "; or ".join(texts)
        problems.append(Problem(doc.name, line, col, f"{name}: {text}" if name else text))
    return problems
