"""Is one CEL condition harder to satisfy than another? The comparison behind the framework diff.

`compare(old, new)` answers, for two expressions a framework uses as conditions (indicators,
`where`, `when`, `holds`), whether the new one is true in fewer situations ("harder"), in more
("easier"), in exactly the same ("equivalent", or "same" when they are the same expression up
to formatting), or whether mast cannot establish either ("unknown"). The diff turns that into
weakened / strengthened / changed according to what the condition does.

The model. CEL conditions have three outcomes: true, false and *error* (a `score()` with no
evidence, a type mismatch). The engine never treats an error as a clean "false": an indicator
that errors counts as not ruled out, a `where` or `when` that errors counts as met, a `holds`
that errors counts as broken. So outcomes are ordered false < error < true, and "new is harder"
means: in every situation new's outcome is at most old's, and in some it is lower. That one
order is sound for every context: harder can only mean "fires less" or "holds less".

An expression is read as a formula over *atoms*, combined with CEL's `&&`, `||`, `!` and `?:`
(with CEL's commutative error rules: `false && error` is false, `true || error` is true):

- a comparison `TERM OP LITERAL` (either side), where TERM is `score("task", "metric")` (a
  double, or an error when there is no evidence), `threshold("id")` (one of the four threshold
  statuses) or a variable (`stage`, `model`, a trigger record's `status`...: assumed to be a
  string or an error), OP one of `< <= > >= == !=`, or `TERM in [LITERAL, ...]`. Only forms
  cel-python evaluates as plain comparisons count (`score() == 1` is an error there, `1 <=
  score()` too): anything else is an opaque atom;
- any other subexpression is an *opaque* atom, identified by its structure (whitespace,
  parentheses, quote style and `0.70` vs `0.7` do not matter) and free to take any outcome.

The decision is exact over that model: each term's values are split into the finitely many
cells the literals of both expressions distinguish (below, at and between the numbers; each
string named, and any other string; error), and the two formulas are compared on every
combination, case-splitting one variable at a time and stopping early where the two remaining
formulas are identical. Because the model allows every situation the engine can produce (and
possibly more: opaque atoms are independent, variables may take any string), "harder",
"easier" and "equivalent" are proofs of the implication they state; the possible cost is that
two expressions equivalent for a reason outside the model (`size(x) > 0` vs `size(x) >= 1`)
are reported "unknown" or as strictly harder/easier, never the reverse of the truth. A
comparison that would take too many steps is "unknown".

This replaces the disjunctive normal form the design first suggested: a DNF check only proves
implications, so it cannot tell "equivalent" from "harder", and it loses CEL's error outcome.

Mirror property, relied on by the diff: `compare(a, b)` is "harder" exactly when `compare(b,
a)` is "easier"; "same", "equivalent" and "unknown" are symmetric.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Callable, Literal

import lark

# the grammar's pass-through rules and comparison operators, as the static checks read them
from mast.framework.expressions import _RELATIONS, _WRAPPERS, parse_expression
from mast.vocabulary import ThresholdStatus

__all__ = ["Verdict", "compare"]

Verdict = Literal["same", "harder", "easier", "equivalent", "unknown"]

#: Outcomes, in the order that makes "harder" sound for every context (see the module docstring).
FALSE, ERROR, TRUE = 0, 1, 2

#: How many case splits a comparison may take before it answers "unknown".
STEP_BUDGET = 50_000

_FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
    ">=": operator.ge, "in": lambda value, options: value in options,
}
_STATUSES = tuple(s.value for s in ThresholdStatus)
_INT64 = 2**63


class _Marker:
    """A term value no literal can equal: `error` (the term has no value) or `other` (a string
    that no literal of either expression names)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_ERROR_VALUE = _Marker("error")
_OTHER = _Marker("other string")


class _TooLarge(Exception):
    pass


def compare(old: str, new: str, *, renames: Mapping[str, str] | None = None) -> Verdict:
    """How condition `new` relates to condition `old` (see the module docstring).

    `renames` maps threshold ids of `old`'s framework to their ids in `new`'s, so that
    `threshold("a")` and `threshold("b")` count as the same term when `b` was renamed from
    `a`. Both texts must parse (`mast.framework.expressions.parse_expression`), which they do
    in any framework that loaded.
    """
    return _compare(old, new, tuple(sorted((renames or {}).items())))


@lru_cache(maxsize=4096)
def _compare(old: str, new: str, renames: tuple[tuple[str, str], ...]) -> Verdict:
    before = _Reader(dict(renames)).formula(parse_expression(old).ast)
    after = _Reader({}).formula(parse_expression(new).ast)
    if before == after:
        return "same"
    try:
        at_most, at_least = _relate(before, after, _cells(before, after))
    except _TooLarge:
        return "unknown"
    if at_most and at_least:
        return "equivalent"
    if at_most:
        return "harder"
    if at_least:
        return "easier"
    return "unknown"


# ---------------------------------------------------------------- reading the AST
#
# Formulas are nested tuples, so that equal formulas compare equal:
#   an outcome (FALSE, ERROR, TRUE)
#   ("and", a, b) ("or", a, b) ("not", a) ("if", condition, a, b)
#   ("cmp", variable, op, literal)       a comparison atom; literal is a frozenset for `in`
#   ("opaque", variable)                 an opaque atom
# A variable is ("score", task, metric), ("threshold", id), ("var", name) or
# ("opaque", structural key).


class _Reader:
    def __init__(self, renames: dict[str, str]):
        self.renames = renames

    def formula(self, node: object) -> Any:
        node = _unwrap(node)
        if isinstance(node, lark.Tree):
            kids = node.children
            if node.data == "expr" and len(kids) == 3:
                return _if(self.formula(kids[0]), self.formula(kids[1]), self.formula(kids[2]))
            if node.data in ("conditionalor", "conditionaland") and len(kids) == 2:
                head = "or" if node.data == "conditionalor" else "and"
                return _junction(head, self.formula(kids[0]), self.formula(kids[1]))
            if node.data == "unary" and len(kids) == 2 and _is_tree(kids[0], "unary_not"):
                return _not(self.formula(kids[1]))
            if node.data == "relation" and len(kids) == 2 and isinstance(kids[0], lark.Tree):
                atom = self.comparison(_RELATIONS.get(kids[0].data), kids[0].children[0], kids[1])
                if atom is not None:
                    return atom
            if node.data == "literal":
                value = _literal_value(node)
                if isinstance(value, bool):
                    return TRUE if value else FALSE
        return ("opaque", ("opaque", self.key(node)))

    def comparison(self, op: str | None, left: object, right: object) -> tuple | None:
        """The comparison atom for `left op right`, or None when it is not one of the forms
        the model understands (then the relation is an opaque atom)."""
        if op is None:
            return None
        term, value = self.term(left), _literal_of(right, op)
        flipped = term is None
        if flipped:
            if op == "in":
                return None
            term, value, op = self.term(right), _literal_of(left, op), _FLIPPED[op]
        if term is None or value is None:
            return None
        if term[0] == "score":
            values = value if op == "in" else frozenset({value})
            if not all(_is_number(v) for v in values):
                return None
            # cel-python compares a double with an int only as `double <, <=, >, >= int`
            if (flipped or op in ("==", "!=", "in")) and not all(isinstance(v, float) for v in values):
                return None
            value = frozenset(float(v) for v in value) if op == "in" else float(value)
        else:
            values = value if op == "in" else frozenset({value})
            if op not in ("==", "!=", "in") or not all(isinstance(v, str) for v in values):
                return None
        return ("cmp", term, op, value)

    def term(self, node: object) -> tuple | None:
        node = _unwrap(node)
        call = self.mast_call(node)
        if call is not None:
            return call
        name = _dotted_name(node)
        return ("var", name) if name is not None else None

    def mast_call(self, node: object) -> tuple | None:
        """("score", task, metric) or ("threshold", id) if `node` is such a call."""
        if not (isinstance(node, lark.Tree) and node.data == "ident_arg"):
            return None
        name = str(node.children[0])
        args = node.children[1].children if len(node.children) > 1 and isinstance(node.children[1], lark.Tree) else []
        literals = [_literal_value(_unwrap(a)) for a in args]
        if not all(isinstance(v, str) for v in literals):
            return None
        if name == "score" and len(literals) == 2:
            return ("score", literals[0], literals[1])
        if name == "threshold" and len(literals) == 1:
            return ("threshold", self.renames.get(literals[0], literals[0]))
        return None

    def key(self, node: object) -> Any:
        """A structural key: equal for expressions that differ only in formatting."""
        node = _unwrap(node)
        if isinstance(node, lark.Token):
            return (node.type, str(node))
        call = self.mast_call(node)
        if call is not None:
            return call
        if node.data == "literal":
            value = _literal_value(node)
            if value is not None:
                return ("literal", type(value).__name__, value)
        return (node.data, *(self.key(child) for child in node.children))


def _unwrap(node: object) -> object:
    while isinstance(node, lark.Tree) and len(node.children) == 1 and node.data in _WRAPPERS:
        node = node.children[0]
    return node


def _is_tree(node: object, data: str) -> bool:
    return isinstance(node, lark.Tree) and node.data == data


def _dotted_name(node: object) -> str | None:
    """`stage`, or `trigger.field`: an identifier or a field path of identifiers."""
    node = _unwrap(node)
    if _is_tree(node, "ident"):
        return str(node.children[0])
    if _is_tree(node, "member_dot") and len(node.children) == 2:
        base = _dotted_name(node.children[0])
        return None if base is None else f"{base}.{node.children[1]}"
    return None


def _literal_value(node: object) -> Any:
    """The value of a literal node (bool, int, float or str), or None for literals the model
    does not read (escaped or raw strings, bytes, uints, null, out-of-range numbers)."""
    node = _unwrap(node)
    if not (_is_tree(node, "literal") and node.children and isinstance(node.children[0], lark.Token)):
        return None
    token = node.children[0]
    text = str(token)
    if token.type == "BOOL_LIT":
        return text == "true"
    if token.type == "INT_LIT":
        try:
            value = int(text, 0)
        except ValueError:
            return None
        return value if -_INT64 <= value < _INT64 else None
    if token.type == "FLOAT_LIT":
        value = float(text)
        return value if math.isfinite(value) else None
    if token.type in ("STRING_LIT", "MLSTRING_LIT") and "\\" not in text:
        for quote in ('"""', "'''", '"', "'"):
            if text.startswith(quote) and text.endswith(quote) and len(text) >= 2 * len(quote):
                return text[len(quote):-len(quote)]
    return None


def _literal_of(node: object, op: str) -> Any:
    """The literal operand: a value, or for `in` a frozenset of values (a list of literals)."""
    if op != "in":
        value = _literal_value(node)
        return None if isinstance(value, bool) else value
    node = _unwrap(node)
    if not _is_tree(node, "list_lit"):
        return None
    items = node.children[0].children if node.children and isinstance(node.children[0], lark.Tree) else []
    values = [_literal_value(item) for item in items]
    if any(v is None or isinstance(v, bool) for v in values):
        return None
    return frozenset(values)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- CEL's three-valued logic


def _junction(head: str, a: Any, b: Any) -> Any:
    """`a && b` (head "and") or `a || b` (head "or"): the settling value on either side wins,
    even over an error; the neutral one yields the other side."""
    settling, neutral = (FALSE, TRUE) if head == "and" else (TRUE, FALSE)
    if a == settling or b == settling:
        return settling
    if a == neutral:
        return b
    if b == neutral:
        return a
    if a == ERROR and b == ERROR:
        return ERROR
    return (head, a, b)


def _not(a: Any) -> Any:
    if isinstance(a, int):
        return TRUE + FALSE - a  # TRUE <-> FALSE, ERROR stays
    if a[0] == "not":
        return a[1]
    return ("not", a)


def _if(condition: Any, yes: Any, no: Any) -> Any:
    if condition == TRUE:
        return yes
    if condition == FALSE:
        return no
    if condition == ERROR:
        return ERROR
    return ("if", condition, yes, no)


# ---------------------------------------------------------------- deciding


def _atoms(formula: Any) -> list[tuple]:
    """The atoms of `formula`, left to right."""
    if isinstance(formula, int):
        return []
    if formula[0] in ("cmp", "opaque"):
        return [formula]
    return [atom for part in formula[1:] for atom in _atoms(part)]


def _cells(a: Any, b: Any) -> dict[tuple, list[Any]]:
    """For every variable of `a` and `b`, one representative value per cell of its domain."""
    literals: dict[tuple, set[Any]] = {}
    for atom in _atoms(a) + _atoms(b):
        if atom[0] == "cmp":
            _, variable, op, value = atom
            literals.setdefault(variable, set()).update(value if op == "in" else {value})
        else:
            literals.setdefault(atom[1], set())
    cells: dict[tuple, list[Any]] = {}
    for variable, values in literals.items():
        if variable[0] == "opaque":
            cells[variable] = [FALSE, ERROR, TRUE]
        elif variable[0] == "threshold":
            cells[variable] = list(_STATUSES)
        elif variable[0] == "score":
            cells[variable] = _number_cells(sorted(values)) + [_ERROR_VALUE]
        else:
            cells[variable] = sorted(values) + [_OTHER, _ERROR_VALUE]
    return cells


def _number_cells(points: list[float]) -> list[float]:
    """A number below, at, between and above the sorted `points`."""
    if not points:
        return [0.0]
    cells = [points[0] - 1.0]
    for low, high in zip(points, points[1:]):
        cells += [low, (low + high) / 2]
    return cells + [points[-1], points[-1] + 1.0]


def _assign(formula: Any, variable: tuple, value: Any) -> Any:
    """`formula` with `variable` set to `value`, simplified."""
    if isinstance(formula, int):
        return formula
    head = formula[0]
    if head == "cmp":
        if formula[1] != variable:
            return formula
        if value is _ERROR_VALUE:
            return ERROR
        return TRUE if _OPS[formula[2]](value, formula[3]) else FALSE
    if head == "opaque":
        return value if formula[1] == variable else formula
    parts = [_assign(part, variable, value) for part in formula[1:]]
    if head in ("and", "or"):
        return _junction(head, *parts)
    if head == "not":
        return _not(parts[0])
    return _if(*parts)


def _relate(old: Any, new: Any, cells: dict[tuple, list[Any]]) -> tuple[bool, bool]:
    """(new <= old everywhere, new >= old everywhere), by case splits on one variable at a
    time; pairs that became identical need no further split."""
    at_most = at_least = True
    pending = [(old, new)]
    steps = 0
    while pending:
        a, b = pending.pop()
        if a == b:
            continue
        if isinstance(a, int) and isinstance(b, int):
            at_most = at_most and b <= a
            at_least = at_least and b >= a
            if not (at_most or at_least):
                break
            continue
        steps += 1
        if steps > STEP_BUDGET:
            raise _TooLarge
        variable = _split_variable(a, b)
        pending.extend((_assign(a, variable, v), _assign(b, variable, v)) for v in cells[variable])
    return at_most, at_least


def _split_variable(a: Any, b: Any) -> tuple:
    """The variable to split on next: one that only one side reads if any (settling the
    difference first lets identical remainders be skipped), else the first one."""
    left = [atom[1] for atom in _atoms(a)]
    right = [atom[1] for atom in _atoms(b)]
    only_one_side = [v for v in left if v not in right] + [v for v in right if v not in left]
    return (only_one_side or left or right)[0]
