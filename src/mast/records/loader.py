"""Read a records file (YAML or JSON; one record or a list) into validated records.

Every record of the batch is validated, and every problem is reported, so that a user fixes
a file in one pass rather than one error per run. Each problem reads
`FILE:LINE:COL: records[3].metrics.accuracy: expected a number`. Records stay paired with the
document they came from (`LoadedRecord`), so that later checks (references) can point at the
same lines.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence, get_args

from pydantic import BaseModel, ValidationError

from mast.errors import InvalidInput, Problem
from mast.records.canonical import MAX_RECORD_BYTES, record_bytes
from mast.records.kinds import Record, parse_record
from mast.sourcemap import PathKey, SourceDocument, load_file, parse_text
from mast.vocabulary import RECORD_KINDS

STDIN = "-"
STDIN_NAME = "<stdin>"


@dataclass(frozen=True)
class LoadedRecord:
    """A validated record and where it was written (`doc` is None for records made in code)."""

    record: Record
    doc: SourceDocument | None = None
    path: PathKey = ()
    label: str = "record"

    def problem(self, field: PathKey, message: str, name: str = "<records>") -> Problem:
        """A problem about `field` of this record, placed at that field's line."""
        text = f"{field_label(self.label, field)}: {message}"
        if self.doc is None:
            return Problem(name, None, None, text)
        return self.doc.problem(self.path + tuple(field), text)


@dataclass(frozen=True)
class Batch:
    """The records of one input, in order, each with its position."""

    name: str
    items: tuple[LoadedRecord, ...]

    @property
    def records(self) -> list[Record]:
        return [item.record for item in self.items]

    @classmethod
    def of(cls, records: Iterable[Record], name: str = "<records>") -> "Batch":
        """A batch of records made in code; problems about them carry no line numbers."""
        records = list(records)
        label = "records[{}]" if len(records) != 1 else "record"
        return cls(name, tuple(LoadedRecord(r, None, (), label.format(i)) for i, r in enumerate(records)))

    def __len__(self) -> int:
        return len(self.items)


def field_label(label: str, field: PathKey) -> str:
    """`records[3]` + ("metrics", "accuracy") -> `records[3].metrics.accuracy`."""
    out = label
    for part in field:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_source(path_or_dash: str | Path) -> SourceDocument:
    """Parse a file, or standard input when given `-`."""
    if str(path_or_dash) == STDIN:
        try:
            text = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(Problem(STDIN_NAME, None, None, f"cannot read: {exc}")) from None
        return parse_text(text, STDIN_NAME)
    return load_file(path_or_dash)


def load_batch(path_or_dash: str | Path) -> Batch:
    """Read and validate a records file; raises `InvalidInput` listing every problem."""
    return parse_batch(read_source(path_or_dash))


def load_records(path_or_dash: str | Path) -> list[Record]:
    """The records of a file (or `-` for stdin), validated; see `load_batch`."""
    return load_batch(path_or_dash).records


def parse_batch(doc: SourceDocument) -> Batch:
    """Validate a parsed document as one record or a list of records."""
    data = doc.data
    if isinstance(data, list):
        entries: Sequence[tuple[PathKey, str]] = [((i,), f"records[{i}]") for i in range(len(data))]
    elif isinstance(data, dict):
        entries = [((), "record")]
    else:
        found = "an empty document" if data is None else f"{_describe(data)}"
        raise InvalidInput(doc.problem((), f"expected a record or a list of records, found {found}"))
    items: list[LoadedRecord] = []
    problems: list[Problem] = []
    for path, label in entries:
        record, found = _validate_one(doc, path, label)
        problems.extend(found)
        if record is not None:
            items.append(LoadedRecord(record, doc, path, label))
    if problems:
        raise InvalidInput(problems)
    return Batch(doc.name, tuple(items))


def _validate_one(doc: SourceDocument, path: PathKey, label: str) -> tuple[Record | None, list[Problem]]:
    node: Any = doc.data
    for key in path:
        node = node[key]

    def at(field: PathKey, message: str) -> Problem:
        return doc.problem(path + field, f"{field_label(label, field)}: {message}")

    if not isinstance(node, dict):
        return None, [at((), f"expected a record (a mapping with 'kind' and 'at'), found {_describe(node)}")]
    kinds = ", ".join(RECORD_KINDS)
    if "kind" not in node:
        return None, [at((), f"missing required field 'kind' (one of: {kinds})")]
    kind = node["kind"]
    if not isinstance(kind, str) or kind not in RECORD_KINDS:
        return None, [at(("kind",), f"unknown kind {_show(kind)} (expected one of: {kinds})")]
    try:
        record = parse_record(node)
    except ValidationError as exc:
        return None, [at(field, message) for field, message in _messages(node, exc)]
    try:
        size = len(record_bytes(record))
    except Exception as exc:  # rfc8785 refuses e.g. integers beyond 2**53
        return None, [at((), f"cannot be written as canonical JSON (RFC 8785): {exc}")]
    if size > MAX_RECORD_BYTES:
        return None, [at((), f"record is {size} bytes; a log entry must stay under 64 KiB "
                             "(store large content as a file and record its sha256)")]
    return record, []


_NUMBER_ERRORS = {"int_type", "float_type", "finite_number", "int_parsing", "float_parsing"}
_TIME_ERRORS = {"datetime_parsing", "datetime_from_date_parsing", "datetime_type", "datetime_object_invalid"}


def _messages(data: dict[str, Any], exc: ValidationError) -> list[tuple[PathKey, str]]:
    """Pydantic errors about one record as (data path, message), in the user's words.

    The first element of each `loc` is the union tag (the kind), not a key of the data. A
    value that fails `int | float` gives one error per member; those collapse into one.
    """
    kind = data["kind"]
    out: list[tuple[PathKey, str]] = []
    numbers: dict[PathKey, set[str]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        if loc and loc[0] == kind:
            loc = loc[1:]
        path, rest = _split(data, loc)
        etype = err.get("type", "")
        value = err.get("input")
        if etype in _NUMBER_ERRORS:
            if path not in numbers:
                numbers[path] = set()
                out.append((path, ""))  # placeholder, filled below
            numbers[path].add(etype)
            continue
        if etype == "missing":
            name = rest[0] if rest else (path[-1] if path else "?")
            parent = path if rest else path[:-1]
            out.append((parent, f"missing required field '{name}'"))
        elif etype == "extra_forbidden":
            out.append((path, f"unknown field (expected one of: {', '.join(_fields_of(kind, path))})"))
        elif etype == "timezone_aware":
            out.append((path, f"expected a time with a zone, e.g. 2025-05-14T00:00:00Z (got {_show(value)}); "
                              "naive times are not accepted"))
        elif etype in _TIME_ERRORS:
            out.append((path, f"expected an ISO 8601 time with a zone, e.g. 2025-05-14T00:00:00Z (got {_show(value)})"))
        elif etype in ("enum", "literal_error"):
            expected = (err.get("ctx") or {}).get("expected", "")
            out.append((path, f"expected {expected} (got {_show(value)})"))
        elif etype == "string_type":
            out.append((path, f"expected text (got {_show(value)})"))
        elif etype == "string_pattern_mismatch" and path and path[-1] in ("sha256", "report"):
            out.append((path, f"expected a SHA-256 in lowercase hex (64 characters) (got {_show(value)})"))
        else:
            msg = str(err.get("msg", "invalid")).replace("Input should be ", "expected ")
            out.append((path, f"{msg} (got {_show(value)})" if not isinstance(value, (dict, list)) else msg))
    result = []
    for path, message in out:
        if not message:
            types = numbers[path]
            node = _at(data, path)
            message = ("expected a finite number" if "finite_number" in types
                       else f"expected a number (got {_show(node)})")
        result.append((path, message))
    return result


def _split(data: Any, loc: tuple[Any, ...]) -> tuple[PathKey, tuple[Any, ...]]:
    """The longest prefix of `loc` that exists in `data`, and what remains."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return tuple(path), loc[i:]
        path.append(part)
    return tuple(path), ()


def _at(data: Any, path: PathKey) -> Any:
    for part in path:
        data = data[part]
    return data


def _fields_of(kind: str, path: PathKey) -> list[str]:
    """The keys allowed where an unknown field was found (a record's top level, or nested)."""
    model: Any = _MODELS_BY_KIND.get(kind)
    for part in path[:-1]:
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None) if model else None
        ann = getattr(field, "annotation", None)
        model = next((a for a in (ann, *get_args(ann)) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


#: kind -> its pydantic model, read off the `Record` union so that a new kind needs no edit here
_MODELS_BY_KIND: dict[str, type[BaseModel]] = {
    get_args(cls.model_fields["kind"].annotation)[0]: cls for cls in get_args(get_args(Record)[0])
}


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return _show(value)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None:
        return "nothing"
    return repr(value)
