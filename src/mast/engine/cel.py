"""Evaluating framework CEL against a model's evidence.

cel-python defines the semantics. Its interpreter costs a few hundred microseconds a call, and
the engine evaluates indicators for every model whenever their evidence changes, so the
common subset of CEL that frameworks use — literals, variables, `score()`/`threshold()`,
comparisons, `!`, `-`, `+`, `*`, `&&`, `||`, `?:`, `in` over list literals — is compiled here
into Python closures with the same semantics, including CEL's commutative treatment of errors
in `&&` and `||` (`true || error` is true; `false && error` is false). Anything outside the
subset runs on cel-python's interpreter. `tests/engine/test_cel.py` checks the two agree.

An evaluation that errors (for instance `score()` of a task the model has no evidence for)
raises `Undecided`; callers decide what precaution means for their rule.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import CELEvalError, base_functions

from mast.framework.expressions import Expression


class Undecided(Exception):
    """The expression has no value for this context (missing evidence, a type error...)."""


class Context(Protocol):
    """What an expression can read: a model's best scores, threshold statuses, variables."""

    variables: dict[str, Any]

    def score(self, task: str, metric: str) -> float: ...  # raises Undecided when absent

    def threshold(self, threshold_id: str) -> str: ...


Compiled = Callable[[Context], Any]


class _Unsupported(Exception):
    pass


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_type(a: Any, b: Any) -> bool:
    return type(a) is type(b) or (isinstance(a, list) and isinstance(b, list))


def _literal(token: lark.Token) -> Any:
    text = token.value
    kind = token.type
    if kind == "INT_LIT":
        return int(text, 0) if not text.lstrip("-").startswith("0x") else int(text, 16)
    if kind == "FLOAT_LIT":
        return float(text)
    if kind in ("STRING_LIT",):
        for quote in ('"""', "'''", '"', "'"):
            if text.startswith(quote) and text.endswith(quote) and len(text) >= 2 * len(quote):
                body = text[len(quote):-len(quote)]
                if "\\" in body:
                    raise _Unsupported("escapes")
                return body
    if kind == "BOOL_LIT":
        return text == "true"
    raise _Unsupported(kind)


def _compile(node: Any) -> Compiled:
    if isinstance(node, lark.Token):
        value = _literal(node)
        return lambda ctx: value
    data = node.data
    kids = node.children

    if data == "expr":
        if len(kids) == 1:
            return _compile(kids[0])
        cond, yes, no = (_compile(k) for k in kids)

        def ternary(ctx: Context) -> Any:
            c = cond(ctx)
            if not isinstance(c, bool):
                raise Undecided("condition is not a bool")
            return yes(ctx) if c else no(ctx)

        return ternary

    if data in ("conditionalor", "conditionaland") and len(kids) == 2:
        left, right = _compile(kids[0]), _compile(kids[1])
        decisive = data == "conditionalor"  # the value that settles the result

        def logical(ctx: Context) -> bool:
            failed = False
            for side in (left, right):
                try:
                    v = side(ctx)
                except Undecided:
                    failed = True
                    continue
                if not isinstance(v, bool):
                    failed = True
                elif v is decisive:
                    return decisive
            if failed:
                raise Undecided("logical operand has no value")
            return not decisive

        return logical

    if len(kids) == 1 and data in ("conditionalor", "conditionaland", "relation", "addition",
                                   "multiplication", "unary", "member", "primary", "paren_expr"):
        return _compile(kids[0])

    if data in ("relation", "addition", "multiplication") and len(kids) == 2:
        # lark shape: (op-node wrapping the left operand, right operand)
        op, left_node, right_node = kids[0].data, kids[0].children[0], kids[1]
        if op.startswith("relation_"):
            fast = _score_against_literal(op[len("relation_"):], left_node, right_node)
            if fast is not None:
                return fast
        left, right = _compile(left_node), _compile(right_node)
        if op.startswith("relation_"):
            return _relation(op[len("relation_"):], left, right)
        if op not in _ARITHMETIC:
            raise _Unsupported(op)
        return _arithmetic(op, left, right)

    if data == "unary" and len(kids) == 2:
        op_node, operand = kids
        inner = _compile(operand)
        if op_node.data == "unary_not":
            def negate(ctx: Context) -> bool:
                v = inner(ctx)
                if not isinstance(v, bool):
                    raise Undecided("! needs a bool")
                return not v
            return negate
        if op_node.data == "unary_neg":
            def minus(ctx: Context) -> Any:
                v = inner(ctx)
                if not _number(v):
                    raise Undecided("- needs a number")
                return -v
            return minus
        raise _Unsupported(op_node.data)

    if data == "literal":
        return _compile(kids[0])

    if data == "ident":
        name = str(kids[0])

        def variable(ctx: Context) -> Any:
            try:
                return ctx.variables[name]
            except KeyError:
                raise Undecided(f"undeclared variable {name}") from None

        return variable

    if data == "ident_arg":
        name = str(kids[0])
        args = [_compile(a) for a in kids[1].children] if len(kids) > 1 and kids[1] is not None else []
        if name == "score" and len(args) == 2:
            task_of, metric_of = args
            return lambda ctx: ctx.score(task_of(ctx), metric_of(ctx))
        if name == "threshold" and len(args) == 1:
            (id_of,) = args
            return lambda ctx: ctx.threshold(id_of(ctx))
        raise _Unsupported(name)

    if data == "list_lit":
        items = [_compile(k) for k in kids[0].children] if kids else []
        return lambda ctx: [item(ctx) for item in items]

    raise _Unsupported(data)


#: Arithmetic is rare in frameworks; it is delegated to cel-python's own operators so that
#: overloads (int * double, string + string, overflow) behave exactly as the interpreter's.
_ARITHMETIC = {"addition_add": "_+_", "addition_sub": "_-_", "multiplication_mul": "_*_"}


def _arithmetic(op: str, left: Compiled, right: Compiled) -> Compiled:
    apply = base_functions[_ARITHMETIC[op]]

    def arithmetic(ctx: Context) -> Any:
        try:
            result = apply(_to_cel(left(ctx)), _to_cel(right(ctx)))
        except (CELEvalError, TypeError, ValueError, OverflowError) as exc:
            raise Undecided(str(exc)) from None
        if isinstance(result, CELEvalError):
            raise Undecided(str(result))
        return _from_cel(result)

    return arithmetic


def _score_against_literal(op: str, left_node: Any, right_node: Any) -> Compiled | None:
    """The hot path of every indicator, `score("t", "m") >= 0.6`, as one closure."""
    if not (_is_score_call(left_node) and _is_number_literal(right_node)):
        return None
    node = left_node
    while node.data != "ident_arg":
        node = node.children[0]
    task, metric = (_literal_string(a) for a in node.children[1].children)
    if task is None or metric is None:
        return None
    line = _compile(right_node)(None)  # a literal ignores its context
    compare = _ORDERINGS.get(op)
    if compare is None:
        return None

    def score_vs_line(ctx: Context) -> bool:
        return compare(ctx.score(task, metric), line)

    return score_vs_line


def _literal_string(node: Any) -> str | None:
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        node = node.children[0]
    if isinstance(node, lark.Token) and node.type == "STRING_LIT":
        try:
            value = _literal(node)
        except _Unsupported:
            return None
        return value if isinstance(value, str) else None
    return None


_ORDERINGS = {"lt": lambda a, b: a < b, "le": lambda a, b: a <= b,
              "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}


def _relation(op: str, left: Compiled, right: Compiled) -> Compiled:
    if op in ("eq", "ne"):
        want = op == "eq"

        def equality(ctx: Context) -> bool:
            a, b = left(ctx), right(ctx)
            if not _same_type(a, b):
                raise Undecided("no such overload")
            return (a == b) is want

        return equality
    if op == "in":
        def membership(ctx: Context) -> bool:
            needle, haystack = left(ctx), right(ctx)
            if not isinstance(haystack, list):
                raise Undecided("in needs a list")
            if any(not _same_type(needle, item) for item in haystack):
                raise Undecided("no such overload")
            return needle in haystack
        return membership
    compare = _ORDERINGS[op]

    def ordering(ctx: Context) -> bool:
        a, b = left(ctx), right(ctx)
        if (_number(a) and _number(b)) or (isinstance(a, str) and isinstance(b, str)):
            return compare(a, b)
        raise Undecided("no such overload")

    return ordering


# ---------------------------------------------------------------- interpreter fallback

def _to_cel(value: Any) -> Any:
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, list):
        return celtypes.ListType([_to_cel(v) for v in value])
    if isinstance(value, dict):
        return celtypes.MapType({celtypes.StringType(k): _to_cel(v) for k, v in value.items()})
    return value


def _from_cel(value: Any) -> Any:
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, celtypes.ListType):
        return [_from_cel(v) for v in value]
    return value


def _interpreted(expression: Expression) -> Compiled:
    env = celpy.Environment()
    ast = env.compile(expression.text)
    current: list[Context] = []

    def score(task: Any, metric: Any) -> Any:
        try:
            return celtypes.DoubleType(current[-1].score(str(task), str(metric)))
        except Undecided as exc:
            return CELEvalError(str(exc), None, None)

    def threshold(threshold_id: Any) -> Any:
        return celtypes.StringType(current[-1].threshold(str(threshold_id)))

    program = env.program(ast, functions={"score": score, "threshold": threshold})

    def run(ctx: Context) -> Any:
        current.append(ctx)
        try:
            activation = {k: _to_cel(v) for k, v in ctx.variables.items()}
            return _from_cel(program.evaluate(activation))
        except CELEvalError as exc:
            raise Undecided(str(exc)) from None
        finally:
            current.pop()

    return run


def compile_expression(expression: Expression, *, fast: bool = True) -> Compiled:
    """A callable evaluating `expression` in a `Context`; raises `Undecided` on CEL errors."""
    if fast:
        try:
            return _compile(expression.ast)
        except _Unsupported:
            pass
    return _interpreted(expression)


def is_fast(expression: Expression) -> bool:
    """Whether `expression` runs on the compiled subset (used by tests and the benchmark)."""
    try:
        _compile(expression.ast)
        return True
    except _Unsupported:
        return False


_PASS_THROUGH = ("expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                 "unary", "member", "primary", "paren_expr")


def _is_score_call(node: Any) -> bool:
    while isinstance(node, lark.Tree) and node.data in _PASS_THROUGH and len(node.children) == 1:
        node = node.children[0]
    return isinstance(node, lark.Tree) and node.data == "ident_arg" and str(node.children[0]) == "score"


def _is_number_literal(node: Any) -> bool:
    while isinstance(node, lark.Tree) and len(node.children) == 1:
        node = node.children[0]
    return isinstance(node, lark.Token) and node.type in ("INT_LIT", "FLOAT_LIT")


def is_monotone(expression: Expression) -> bool:
    """True if the expression can only go from false to true as scores rise: built from
    `score(...) >= n`, `score(...) > n` (or `n <= score(...)`, `n < score(...)`), `&&`, `||`.
    An undecided `score()` only ever becomes decided, which these operators also respect."""

    def ok(node: Any) -> bool:
        if isinstance(node, lark.Token):
            return False
        kids = node.children
        if node.data in _PASS_THROUGH and len(kids) == 1:
            return ok(kids[0])
        if node.data in ("conditionalor", "conditionaland") and len(kids) == 2:
            return ok(kids[0]) and ok(kids[1])
        if node.data == "relation" and len(kids) == 2:
            op, left, right = kids[0].data, kids[0].children[0], kids[1]
            if op in ("relation_ge", "relation_gt"):
                return _is_score_call(left) and _is_number_literal(right)
            if op in ("relation_le", "relation_lt"):
                return _is_number_literal(left) and _is_score_call(right)
        return False

    return ok(expression.ast)


def holds(compiled: Compiled, ctx: Context, *, undecided: bool) -> bool:
    """Evaluate a condition; `undecided` is what an erroring or non-bool result counts as."""
    try:
        value = compiled(ctx)
    except Undecided:
        return undecided
    return value if isinstance(value, bool) else undecided
