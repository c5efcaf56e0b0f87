"""Checks that need the whole framework: ids, references, CEL, record kinds, sign-off lists.

The pydantic model checks each element on its own; what it cannot see is how elements refer
to one another. A framework that passes here has no dangling reference and no expression the
engine could fail to evaluate for a reason other than missing evidence, so the engine can
treat an evaluation error as "no evidence" (precaution) without hiding an authoring mistake.

Every check returns problems instead of raising, so one run reports everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mast.errors import Problem
from mast.framework.expressions import Expression, ExpressionError, parse_expression
from mast.framework.model import Element, Framework
from mast.sourcemap import PathKey, SourceDocument, field_name
from mast.vocabulary import RECORD_KINDS, ThresholdStatus

__all__ = ["check_framework", "INDICATOR_VARIABLES", "STAGE_VARIABLES"]

#: Variables an indicator may read: it is evaluated per model, over that model's evidence.
INDICATOR_VARIABLES = frozenset({"model"})
#: Variables `when` and `holds` may read: they are evaluated per model at its current stage.
STAGE_VARIABLES = frozenset({"model", "stage"})

_STATUSES = tuple(s.value for s in ThresholdStatus)
#: CEL's type names, which read as identifiers (`type(x) == int`).
_TYPE_NAMES = frozenset({"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"})
_ORDERING = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True)
class _Check:
    """What one `check_framework` call works on."""

    doc: SourceDocument
    fw: Framework
    lines: Sequence[str]

    def at(self, path: PathKey, message: str, column_in_value: int | None = None) -> Problem:
        """A problem at `path`, named by its field; `column_in_value` (1-based, inside a
        CEL expression) refines the column when the value can be found verbatim on its line."""
        line, col = self.doc.position(path)
        if column_in_value is not None and line is not None and col is not None:
            col = _refine_column(self.lines, line, col, self.doc_value(path), column_in_value)
        return Problem(self.doc.name, line, col, f"{field_name(path)}: {message}")

    def doc_value(self, path: PathKey) -> object:
        node: object = self.doc.data
        for key in path:
            try:
                node = node[key]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def check_framework(doc: SourceDocument, fw: Framework, *, source: str | None = None) -> list[Problem]:
    """Every cross-element problem in `fw`, positioned through `doc` (which `fw` was validated
    from). `source`, the text `doc` was parsed from, lets CEL problems point inside the
    expression; without it they point at the start of the value."""
    check = _Check(doc, fw, source.splitlines() if source else ())
    problems: list[Problem] = []
    for run in (_unique_ids, _commitment_ids, _renames, _requirements, _expressions, _record_kinds,
                _commitment_keys, _changelog, _sign_off_lists):
        problems.extend(run(check))
    return problems


# ---------------------------------------------------------------- ids


def _element_lists(fw: Framework) -> Iterable[tuple[PathKey, Sequence[Element], str]]:
    """Each list whose ids must be unique, with its path and what its elements are called."""
    yield ("thresholds",), fw.thresholds, "threshold"
    yield ("standards",), fw.standards, "standard"
    for i, standard in enumerate(fw.standards):
        yield ("standards", i, "safeguards"), standard.safeguards, f"safeguard of {standard.id}"
    yield ("commitments",), fw.commitments, "commitment"
    yield ("escape_clauses",), fw.escape_clauses, "escape clause"


def _unique_ids(check: _Check) -> list[Problem]:
    problems = []
    for path, elements, _ in _element_lists(check.fw):
        first: dict[str, int] = {}
        for i, element in enumerate(elements):
            if element.id in first:
                line, _col = check.doc.position(path + (first[element.id], "id"))
                where = f" (first at line {line})" if line is not None and check.doc.positions else ""
                problems.append(check.at(path + (i, "id"), f"duplicate id '{element.id}'{where}"))
            else:
                first[element.id] = i
    return problems


def _commitment_ids(check: _Check) -> list[Problem]:
    """Thresholds, commitments and escape clauses share one namespace: a finding's
    `commitment` is a commitment id, a threshold id (its gates) or an escape clause id."""
    problems = []
    owner: dict[str, str] = {}
    for key, elements, noun in (("thresholds", check.fw.thresholds, "threshold"),
                                ("commitments", check.fw.commitments, "commitment"),
                                ("escape_clauses", check.fw.escape_clauses, "escape clause")):
        seen_here: set[str] = set()
        for i, element in enumerate(elements):
            if element.id in seen_here:
                continue  # a duplicate within the list is reported by _unique_ids
            seen_here.add(element.id)
            if element.id in owner:
                problems.append(check.at(
                    (key, i, "id"),
                    f"'{element.id}' is already the id of a {owner[element.id]}; findings name thresholds, "
                    "commitments and escape clauses by id, so their ids must differ",
                ))
        for element_id in seen_here:
            owner.setdefault(element_id, noun)
    return problems


def _renames(check: _Check) -> list[Problem]:
    """`renamed_from` links an element to its id in the previous version, so the revision
    gate can follow it. It cannot be the element itself, nor an element still present."""
    problems = []
    for path, elements, _ in _element_lists(check.fw):
        current = {e.id for e in elements}
        for i, element in enumerate(elements):
            old = element.renamed_from
            if old is None:
                continue
            if old == element.id:
                problems.append(check.at(path + (i, "renamed_from"), f"'{old}' is this element's own id"))
            elif old in current:
                problems.append(check.at(path + (i, "renamed_from"),
                                         f"'{old}' is still the id of another element in this list"))
    return problems


# ---------------------------------------------------------------- references


def _requirements(check: _Check) -> list[Problem]:
    problems = []
    standards = list(dict.fromkeys(s.id for s in check.fw.standards))
    known = ", ".join(standards) or "none are defined"
    for i, threshold in enumerate(check.fw.thresholds):
        required = {r.standard for r in threshold.requires}
        for key, requirements in (("requires", threshold.requires), ("recommendations", threshold.recommendations)):
            for j, requirement in enumerate(requirements):
                path: PathKey = ("thresholds", i, key, j, "standard")
                if requirement.standard not in standards:
                    problems.append(check.at(path, f"unknown standard '{requirement.standard}'; standards: {known}"))
                elif key == "recommendations" and requirement.standard in required:
                    problems.append(check.at(
                        path,
                        f"'{requirement.standard}' is both required and recommended by {threshold.id}; "
                        "a standard is either committed to or only recommended",
                    ))
    return problems


# ---------------------------------------------------------------- CEL


@dataclass(frozen=True)
class _Site:
    """One CEL expression in the file and what its context allows."""

    path: PathKey
    text: str
    variables: frozenset[str] | None  # None: any variable (a trigger record's fields)
    role: str
    needs_score: bool = False


def _sites(fw: Framework) -> list[_Site]:
    sites = []
    for i, threshold in enumerate(fw.thresholds):
        for level, text in threshold.indicators.levels():
            sites.append(_Site(("thresholds", i, "indicators", level), text, INDICATOR_VARIABLES,
                               "an indicator", needs_score=True))
    for i, commitment in enumerate(fw.commitments):
        if commitment.where is not None:
            sites.append(_Site(("commitments", i, "where"), commitment.where, None, "'where'"))
        if commitment.when is not None:
            sites.append(_Site(("commitments", i, "when"), commitment.when, STAGE_VARIABLES, "'when'"))
        if commitment.holds is not None:
            sites.append(_Site(("commitments", i, "holds"), commitment.holds, STAGE_VARIABLES, "'holds'"))
    return sites


def _expressions(check: _Check) -> list[Problem]:
    problems = []
    thresholds = list(dict.fromkeys(t.id for t in check.fw.thresholds))
    parsed: dict[PathKey, Expression] = {}
    for site in _sites(check.fw):
        try:
            expression = parse_expression(site.text)
        except ExpressionError as exc:
            problems.append(check.at(site.path, str(exc), exc.column))
            continue
        parsed[site.path] = expression
        problems.extend(_expression_problems(check, site, expression, thresholds))
    problems.extend(_indicator_cycles(check, parsed))
    return problems


def _expression_problems(check: _Check, site: _Site, expression: Expression, thresholds: list[str]) -> list[Problem]:
    problems = []
    known = ", ".join(thresholds) or "none are defined"
    for threshold_id in sorted(expression.thresholds - set(thresholds)):
        problems.append(check.at(site.path, f'threshold("{threshold_id}") names no threshold; thresholds: {known}'))
    if site.variables is not None:
        allowed = site.variables | _TYPE_NAMES
        for name in sorted(expression.variables - allowed):
            problems.append(check.at(
                site.path, f"unknown variable '{name}'; {site.role} can read: {', '.join(sorted(site.variables))}"))
    if site.needs_score and not expression.scores:
        problems.append(check.at(site.path, 'an indicator must read at least one score("task", "metric")'))
    for column in expression.score_int_comparisons:
        problems.append(check.at(
            site.path, "score() is a decimal number: compare it with a decimal literal such as 1.0, not 1 "
                       "(CEL does not compare int and double here)", column))
    reported: set[tuple[str, str | None]] = set()
    for threshold_id, op, literal, column in expression.threshold_comparisons:
        if op in _ORDERING and (threshold_id, op) not in reported:
            reported.add((threshold_id, op))
            problems.append(check.at(
                site.path,
                f'threshold("{threshold_id}") {op} ... compares status names as text, not by severity; '
                'use ==, != or in, e.g. threshold("x") in ["not_ruled_out", "crossed"]',
                column,
            ))
        elif literal is not None and literal not in _STATUSES and (threshold_id, literal) not in reported:
            reported.add((threshold_id, literal))
            problems.append(check.at(
                site.path,
                f"'{literal}' is not a threshold status; statuses: {', '.join(_STATUSES)}",
                column,
            ))
    return problems


def _indicator_cycles(check: _Check, parsed: dict[PathKey, Expression]) -> list[Problem]:
    """An indicator may read another threshold's status, but not (through others) its own:
    its status would then depend on itself."""
    reads: dict[str, set[str]] = {t.id: set() for t in check.fw.thresholds}
    first_site: dict[str, PathKey] = {}
    for path, expression in parsed.items():
        if path[0] == "thresholds":
            threshold_id = check.fw.thresholds[int(path[1])].id
            targets = expression.thresholds & reads.keys()
            reads[threshold_id] |= targets
            if targets:
                first_site.setdefault(threshold_id, path)
    problems = []
    reported: set[frozenset[str]] = set()
    for start in sorted(first_site, key=lambda t: first_site[t]):
        cycle = _cycle_from(start, reads)
        if cycle is not None and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            problems.append(check.at(first_site[start], "indicators depend on their own threshold through "
                                                        f"threshold(): {' -> '.join(cycle)}"))
    return problems


def _cycle_from(start: str, reads: dict[str, set[str]]) -> list[str] | None:
    """The shortest path start -> ... -> start, if any."""
    frontier = [[start]]
    seen = {start}
    while frontier:
        next_frontier = []
        for route in frontier:
            for target in sorted(reads.get(route[-1], ())):
                if target == start:
                    return route + [start]
                if target not in seen:
                    seen.add(target)
                    next_frontier.append(route + [target])
        frontier = next_frontier
    return None


def _refine_column(lines: Sequence[str], line: int, col: int, value: object, inner: int) -> int:
    """The column of character `inner` of `value`, if the value is written verbatim on its
    line (plain, or quoted without escapes); otherwise the value's own column."""
    if not isinstance(value, str) or not 0 < line <= len(lines) or "\n" in value:
        return col
    rest = lines[line - 1][col - 1:]
    if rest.startswith(value):
        return col + inner - 1
    for quote in ('"', "'"):
        if quote not in value and "\\" not in value and rest.startswith(quote + value + quote):
            return col + inner
    return col


# ---------------------------------------------------------------- commitments


def _record_kinds(check: _Check) -> list[Problem]:
    problems = []
    kinds = ", ".join(RECORD_KINDS)
    for i, commitment in enumerate(check.fw.commitments):
        for key in ("after", "action"):
            value = getattr(commitment, key)
            if value is not None and value not in RECORD_KINDS:
                problems.append(check.at(("commitments", i, key), f"expected a record kind ({kinds}), got '{value}'"))
    return problems


def _commitment_keys(check: _Check) -> list[Problem]:
    """Keys the commitment's kind ignores: accepting them silently would let an author believe
    a promise is checked when it is not."""
    problems = []
    for i, commitment in enumerate(check.fw.commitments):
        if commitment.within is not None and commitment.after is None:
            problems.append(check.at(("commitments", i, "within"), "'within' only applies to an 'after' commitment"))
        if commitment.when is not None and commitment.before is None:
            problems.append(check.at(("commitments", i, "when"), "'when' only applies to a 'before' commitment"))
        if commitment.to is not None and commitment.action is None:
            problems.append(check.at(("commitments", i, "to"), "'to' needs an 'action' to address"))
    return problems


# ---------------------------------------------------------------- lists of names


def _changelog(check: _Check) -> list[Problem]:
    """Acknowledged ids usually name elements removed in this version, so they are not
    resolved here (the revision gate compares them with the previous version); they only
    have to be well-formed ids or `standard/safeguard` addresses."""
    problems = []
    for i, entry in enumerate(check.fw.framework.changelog):
        if not entry.text.strip():
            problems.append(check.at(("framework", "changelog", i, "text"), "expected a description of the change"))
        for j, address in enumerate(entry.acknowledges):
            parts = address.split("/")
            if not address.strip() or len(parts) > 2 or any(not p.strip() for p in parts):
                problems.append(check.at(("framework", "changelog", i, "acknowledges", j),
                                         f"expected an element id or a standard/safeguard address, got {address!r}"))
    return problems


def _sign_off_lists(check: _Check) -> list[Problem]:
    problems = []
    lists: list[tuple[PathKey, list[str]]] = [
        (("amendment", "approvals"), check.fw.amendment.approvals),
        (("determinations", "approvals"), check.fw.determinations.approvals),
    ]
    lists += [(("escape_clauses", i, "notify"), c.notify) for i, c in enumerate(check.fw.escape_clauses)]
    for path, names in lists:
        seen: set[str] = set()
        for j, name in enumerate(names):
            if not name.strip():
                problems.append(check.at(path + (j,), "expected a non-empty name"))
            elif name in seen:
                problems.append(check.at(path + (j,), f"'{name}' is listed twice"))
            seen.add(name)
    return problems
