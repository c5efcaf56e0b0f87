"""CEL expressions in framework files: parsing and static analysis.

Parsing is cel-python's. On top of it this module extracts what the rest of mast needs to
know without evaluating anything: which functions an expression calls (only known ones are
allowed), which `score(task, metric)` pairs and `threshold(id)` ids it reads (the framework
check resolves them; the engine re-evaluates an indicator only when evidence it reads
changes), and which variables it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from functools import lru_cache
from typing import Iterator

import celpy
import lark
from celpy.celparser import CELParseError, CELParser

#: Functions mast adds to CEL, with their arity.
MAST_FUNCTIONS = {"score": 2, "threshold": 1}

#: CEL's standard global functions and macros that an expression may also call.
STANDARD_FUNCTIONS = frozenset(
    {"size", "int", "uint", "double", "string", "bool", "bytes", "type", "duration", "timestamp",
     "matches", "contains", "startsWith", "endsWith", "has"}
)


class ExpressionError(ValueError):
    """An expression that does not parse or calls something unknown. `column` is 1-based."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Expression:
    """A parsed CEL expression and what it reads."""

    text: str
    ast: lark.Tree
    functions: frozenset[str]
    identifiers: frozenset[str]
    scores: frozenset[tuple[str, str]]
    thresholds: frozenset[str]
    #: identifiers that are not bound by a comprehension macro (`xs.exists(x, ...)`): the
    #: variables the environment must supply
    variables: frozenset[str] = frozenset()
    #: every comparison with a `threshold(id)` call: (id, operator, string literal or None, column)
    threshold_comparisons: tuple[tuple[str, str, str | None, int | None], ...] = ()
    #: columns of comparisons between `score()` and an integer literal (see the check)
    score_int_comparisons: tuple[int | None, ...] = ()

    @property
    def tasks(self) -> frozenset[str]:
        return frozenset(task for task, _ in self.scores)


@lru_cache(maxsize=1)
def _environment() -> celpy.Environment:
    _install_cached_parser()
    return celpy.Environment()


def _install_cached_parser() -> None:
    """Give cel-python a parser whose LALR tables lark caches on disk.

    cel-python builds its grammar on first use, which costs ~0.6 s — paid by every `mast`
    command that reads a framework. cel-python keeps the parser in the documented class
    attribute `CELParser.CEL_PARSER`; we build the same parser with lark's `cache=True`
    (keyed by grammar and lark version, in the temp directory). Any failure falls back to
    cel-python's own construction.
    """
    if CELParser.CEL_PARSER is not None:
        return
    try:
        grammar = (Path(celpy.__file__).parent / "cel.lark").read_text()
        CELParser.CEL_PARSER = lark.Lark(
            grammar, parser="lalr", start="expr", g_regex_flags=re.M,
            lexer_callbacks={"IDENT": CELParser.ambiguous_literals},
            propagate_positions=True, maybe_placeholders=False, priority="invert",
            tree_class=lark.Tree, cache=True,
        )
    except Exception:  # pragma: no cover - an unwritable temp dir, a changed grammar...
        CELParser.CEL_PARSER = None


def _string_literal(tree: lark.Tree) -> str | None:
    """The value of `tree` if it is nothing but a string literal."""
    node = _sole(tree)
    if isinstance(node, lark.Tree) and node.data == "literal":
        node = node.children[0]
    if isinstance(node, lark.Token) and node.type in ("STRING_LIT", "MLSTRING_LIT"):
        return celpy.celtypes.StringType(_unquote(node.value))
    return None


def _unquote(text: str) -> str:
    for quote in ('"""', "'''", '"', "'"):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 2 * len(quote):
            return text[len(quote):-len(quote)]
    return text


#: CEL macros whose first argument binds a variable for the rest of the call.
_BINDING_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

_RELATIONS = {"relation_eq": "==", "relation_ne": "!=", "relation_lt": "<", "relation_le": "<=",
              "relation_gt": ">", "relation_ge": ">=", "relation_in": "in"}


#: Grammar rules that only wrap their one child (precedence levels and parentheses).
_WRAPPERS = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                       "unary", "member", "primary", "paren_expr"})


def _sole(tree: object) -> object:
    """Descend through single-child wrappers (expr > conditionalor > ... > primary), stopping
    at anything with meaning of its own (a literal, a list, a call)."""
    node = tree
    while isinstance(node, lark.Tree) and len(node.children) == 1 and node.data in _WRAPPERS:
        node = node.children[0]
    return node


def _list_literals(tree: object) -> list[str | None] | None:
    """The elements of a list literal as strings (None for a non-string element)."""
    node = _sole(tree)
    if not (isinstance(node, lark.Tree) and node.data == "list_lit"):
        return None
    items = node.children[0].children if node.children and isinstance(node.children[0], lark.Tree) else []
    return [_string_literal(item) for item in items]


def _threshold_call(tree: object) -> str | None:
    """The id if `tree` is nothing but `threshold("id")`."""
    node = _sole(tree)
    if isinstance(node, lark.Tree) and node.data == "ident_arg" and str(node.children[0]) == "threshold":
        args = node.children[1].children if len(node.children) > 1 and isinstance(node.children[1], lark.Tree) else []
        if len(args) == 1:
            return _string_literal(args[0])
    return None


def _is_int_literal(tree: object) -> bool:
    node = _sole(tree)
    if isinstance(node, lark.Tree) and node.data == "literal" and node.children:
        node = node.children[0]
    return isinstance(node, lark.Token) and node.type in ("INT_LIT", "UINT_LIT")


def _is_score(tree: object) -> bool:
    node = _sole(tree)
    return isinstance(node, lark.Tree) and node.data == "ident_arg" and str(node.children[0]) == "score"


def _score_int_comparisons(ast: lark.Tree) -> list[int | None]:
    """Columns of comparisons of `score()` with an integer literal that CEL refuses.

    `score()` is a double, and CEL (as cel-python implements it) refuses some int/double
    comparisons (`score(...) == 1`, `1 <= score(...)`): such an indicator would never
    evaluate and so, by precaution, never rule its threshold out. The check asks for `1.0`.
    """
    found = []
    for node, op, left, right in _comparisons(ast):
        equality = op in ("==", "!=")
        if (_is_int_literal(left) and _is_score(right)) or (equality and _is_score(left) and _is_int_literal(right)):
            found.append(_column(node))
    return found


def _comparisons(ast: lark.Tree) -> Iterator[tuple[lark.Tree, str, object, object]]:
    """Every comparison in `ast` as (node, operator, left operand, right operand)."""
    for node in ast.iter_subtrees():
        if node.data != "relation" or len(node.children) != 2:
            continue
        head, right = node.children
        if isinstance(head, lark.Tree) and head.data in _RELATIONS:
            yield node, _RELATIONS[head.data], head.children[0], right


def _bound_variables(ast: lark.Tree) -> set[str]:
    bound: set[str] = set()
    for node in ast.iter_subtrees():
        if node.data == "member_dot_arg" and len(node.children) >= 3 and str(node.children[1]) in _BINDING_MACROS:
            args = node.children[2]
            if isinstance(args, lark.Tree) and args.children:
                first = _sole(args.children[0])
                if isinstance(first, lark.Tree) and first.data == "ident":
                    bound.add(str(first.children[0]))
    return bound


def _threshold_comparisons(ast: lark.Tree) -> list[tuple[str, str, str | None, int | None]]:
    """`threshold(id) OP x` and `x OP threshold(id)`, so the check can vet status literals."""
    found = []
    for node, op, left, right in _comparisons(ast):
        threshold_id = _threshold_call(left)
        if op == "in" and threshold_id is not None:
            items = _list_literals(right)
            for literal in items if items else [None]:
                found.append((str(threshold_id), op, None if literal is None else str(literal), _column(node)))
            continue
        for call, other in ((left, right), (right, left)):
            threshold_id = _threshold_call(call)
            if threshold_id is not None:
                literal = _string_literal(other)
                found.append((str(threshold_id), op, None if literal is None else str(literal), _column(node)))
                break
    return found


def _column(tree: lark.Tree) -> int | None:
    meta = getattr(tree, "meta", None)
    return getattr(meta, "column", None) if meta is not None and not meta.empty else None


@lru_cache(maxsize=4096)
def parse_expression(text: str) -> Expression:
    """Parse `text` and check it calls only known functions with the right arguments.

    Raises `ExpressionError` with a 1-based column where one is known.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("expected a CEL expression")
    try:
        ast = _environment().compile(text)
    except CELParseError as exc:
        column = exc.column if isinstance(getattr(exc, "column", None), int) else None
        first = str(exc.args[0]).splitlines()[0] if exc.args else "syntax error"
        raise ExpressionError(f"CEL syntax error in {first!r}", column) from None

    functions: set[str] = set()
    identifiers: set[str] = set()
    scores: set[tuple[str, str]] = set()
    thresholds: set[str] = set()
    for node in ast.iter_subtrees():
        if node.data == "ident":
            identifiers.add(str(node.children[0]))
        elif node.data == "ident_arg":
            name = str(node.children[0])
            args = []
            if len(node.children) > 1 and isinstance(node.children[1], lark.Tree):
                args = list(node.children[1].children)
            functions.add(name)
            if name in MAST_FUNCTIONS:
                want = MAST_FUNCTIONS[name]
                literals = [_string_literal(a) for a in args]
                if len(args) != want or any(v is None for v in literals):
                    shape = "score(\"task\", \"metric\")" if name == "score" else "threshold(\"id\")"
                    raise ExpressionError(
                        f"{name}() takes {want} string literal argument{'s' if want > 1 else ''}: {shape}",
                        _column(node),
                    )
                if name == "score":
                    scores.add((str(literals[0]), str(literals[1])))
                else:
                    thresholds.add(str(literals[0]))
            elif name not in STANDARD_FUNCTIONS:
                known = ", ".join(sorted(set(MAST_FUNCTIONS) | STANDARD_FUNCTIONS))
                raise ExpressionError(f"unknown function {name}(); known functions: {known}", _column(node))
    return Expression(text, ast, frozenset(functions), frozenset(identifiers), frozenset(scores),
                      frozenset(thresholds), frozenset(identifiers - _bound_variables(ast)),
                      tuple(_threshold_comparisons(ast)), tuple(_score_int_comparisons(ast)))
