"""Load a framework file into a `Framework`, or say everything that is wrong with it.

Loading has two phases. Shape (types, required keys, stages, zoned times, durations) is the
pydantic model's job; references and CEL (`mast.framework.checks`) need a well-shaped whole,
so they run only once the shape is valid. Each phase reports every problem it finds, each as
`FILE:LINE:COL: message`, and nothing is returned unless both pass: a framework that loads is
one the engine can trust without checking again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mast.errors import InvalidInput, Problem
from mast.framework.checks import check_framework
from mast.framework.model import Framework
from mast.sourcemap import ZONED_EXAMPLE, SourceDocument, load_file, parse_text, problems_from_validation

__all__ = ["framework_from_data", "framework_from_document", "load_framework", "load_framework_text"]


def load_framework(path: str | Path) -> Framework:
    """Read, parse, validate and check a framework file (YAML or JSON)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        load_file(path)  # raises InvalidInput saying why (no such file, not UTF-8, ...)
        raise
    return load_framework_text(text, str(path))


def load_framework_text(text: str, name: str = "<framework>") -> Framework:
    """Like `load_framework`, for text already in memory; `name` is what problems cite."""
    return framework_from_document(parse_text(text, name), text)


def framework_from_data(data: Mapping[str, Any], name: str = "<framework record>") -> Framework:
    """Rebuild a framework from plain data, e.g. a published version stored in a record.

    The same rules apply as for a file, so a stored version that no longer validates is
    reported rather than half-used. There are no positions: problems name the field only.
    """
    doc = SourceDocument(name, dict(data) if isinstance(data, Mapping) else data, {})
    try:
        return framework_from_document(doc)
    except InvalidInput as exc:
        raise InvalidInput([_unpositioned(p) for p in exc.problems]) from None


def framework_from_document(doc: SourceDocument, source: str | None = None) -> Framework:
    """Validate a parsed document. `source`, the text it was parsed from, lets CEL problems
    point at the exact column inside an expression."""
    if not isinstance(doc.data, dict):
        raise InvalidInput(doc.problem((), _not_a_mapping(doc.data)))
    problems = _numeric_times(doc)
    try:
        framework = Framework.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidInput(_in_order(problems + problems_from_validation(doc, exc))) from None
    if problems:
        raise InvalidInput(problems)
    problems = check_framework(doc, framework, source=source)
    if problems:
        raise InvalidInput(_in_order(problems))
    return framework


def _numeric_times(doc: SourceDocument) -> list[Problem]:
    """Pydantic would read a number as a Unix time; DESIGN §2.6 wants ISO 8601 with a zone."""
    framework = doc.data.get("framework")
    value = framework.get("effective") if isinstance(framework, dict) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [doc.problem(("framework", "effective"), "framework.effective: expected a time with a zone, "
                                                         f"e.g. {ZONED_EXAMPLE}, got the number {value}")]
    return []


def _not_a_mapping(data: Any) -> str:
    if data is None:
        return "the file is empty; a framework starts with 'mast: 1' and a 'framework:' section"
    kind = "a list" if isinstance(data, list) else repr(data)
    return f"expected a framework (a mapping with 'mast: 1' and a 'framework:' section), got {kind}"


def _in_order(problems: list[Problem]) -> list[Problem]:
    """Problems in file order, which is how an author fixes them."""
    return sorted(problems, key=lambda p: (p.line or 0, p.col or 0))


def _unpositioned(problem: Problem | str) -> Problem | str:
    if isinstance(problem, Problem):
        return Problem(problem.file, None, None, problem.message)
    return problem
