"""Evaluating framework CEL against a model's evidence.

cel-python defines the semantics. Its interpreter costs a few hundred microseconds a call, and
the engine evaluates indicators for every model whenever their evidence changes, so the
common subset of CEL that frameworks use — literals, variables, `score()`/`threshold()`,
comparisons, `!`, `-`, `+`, `*`, `&&`, `||`, `?:`, `in` over list literals — is compiled here
into Python closures with the same semantics, including CEL's commutative treatment of errors
in `&&` and `||` (`true || error` is true; `false && error` is false). Anything outside the
subset runs on cel-python's interpreter. `tests/engine/test_engine_cel_properties.py` checks the two agree.

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


#: The compiled closures compute with cel-python's own values (IntType, DoubleType,
#: StringType, BoolType, ListType — and the plain floats its arithmetic returns), so every
#: operator can be cel-python's and mixed types behave exactly as in the interpreter
#: (`1 < 1.5` is an error there while `1.5 > 1` is not). Only the common cases — same-typed
#: numbers and strings — are compared natively. `compile_expression` converts the result.
_TRUE, _FALSE = celtypes.BoolType(True), celtypes.BoolType(False)
_NATIVE = (celtypes.DoubleType, celtypes.IntType, celtypes.StringType)
_BOOL = celtypes.BoolType


def _constant(value: Any) -> Any:
    try:
        return _to_cel(value)
    except (TypeError, ValueError, OverflowError):  # an int literal out of range
        raise _Unsupported("literal") from None


_NOT_CONSTANT = object()


def _constant_of(node: Any) -> Any:
    """The value of a node that is nothing but a literal, else `_NOT_CONSTANT`."""
    while isinstance(node, lark.Tree) and node.data in _WRAPPERS and len(node.children) == 1:
        node = node.children[0]
    if isinstance(node, lark.Token):
        return _constant(_literal(node))
    return _NOT_CONSTANT


def _compile(node: Any) -> Compiled:
    if isinstance(node, lark.Token):
        value = _constant(_literal(node))
        return lambda ctx: value
    data = node.data
    kids = node.children

    if data == "expr":
        if len(kids) == 1:
            return _compile(kids[0])
        cond, yes, no = (_compile(k) for k in kids)

        def ternary(ctx: Context) -> Any:
            c = cond(ctx)
            if not isinstance(c, _BOOL):
                raise Undecided("condition is not a bool")
            return yes(ctx) if c else no(ctx)

        return ternary

    if data in ("conditionalor", "conditionaland") and len(kids) == 2:
        left, right = _compile(kids[0]), _compile(kids[1])
        decisive = data == "conditionalor"  # the value that settles the result
        settled = _TRUE if decisive else _FALSE

        def logical(ctx: Context) -> Any:
            # celtypes.logical_and / logical_or, with the right side evaluated only when the
            # left does not settle it: a non-decisive bool yields the other side, whatever it
            # is; a decisive bool on either side wins over an error or a non-bool
            try:
                a, a_ok = left(ctx), True
            except Undecided:
                a, a_ok = None, False
            a_bool = a_ok and isinstance(a, _BOOL)
            if a_bool and bool(a) is decisive:
                return settled
            try:
                b, b_ok = right(ctx), True
            except Undecided:
                b, b_ok = None, False
            if a_bool:
                if not b_ok:
                    raise Undecided("logical operand has no value")
                return b
            if b_ok and isinstance(b, _BOOL):
                if bool(b) is decisive:
                    return settled
                if not a_ok:
                    raise Undecided("logical operand has no value")
                return a
            raise Undecided("logical operands are not bools")

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
            def negate(ctx: Context) -> Any:
                v = inner(ctx)
                if not isinstance(v, _BOOL):
                    raise Undecided("! needs a bool")
                return _FALSE if v else _TRUE
            return negate
        if op_node.data == "unary_neg":
            neg = _operator("-_")  # overflow and odd types as cel-python has them
            return lambda ctx: neg(inner(ctx))
        raise _Unsupported(op_node.data)

    if data == "literal":
        return _compile(kids[0])

    if data == "ident":
        name = str(kids[0])

        def variable(ctx: Context) -> Any:
            try:
                value = ctx.variables[name]
            except KeyError:
                raise Undecided(f"undeclared variable {name}") from None
            return _to_cel(value)

        return variable

    if data == "ident_arg":
        name = str(kids[0])
        args = [_compile(a) for a in kids[1].children] if len(kids) > 1 and kids[1] is not None else []
        if name == "score" and len(args) == 2:
            task_of, metric_of = args
            return lambda ctx: celtypes.DoubleType(ctx.score(str(task_of(ctx)), str(metric_of(ctx))))
        if name == "threshold" and len(args) == 1:
            (id_of,) = args
            names: dict[str, Any] = {}

            def threshold(ctx: Context) -> Any:
                status = ctx.threshold(str(id_of(ctx)))
                value = names.get(status)
                if value is None:
                    value = names[status] = celtypes.StringType(status)
                return value

            return threshold
        raise _Unsupported(name)

    if data == "list_lit":
        nodes = kids[0].children if kids else []
        constants = [_constant_of(k) for k in nodes]
        if all(c is not _NOT_CONSTANT for c in constants):
            fixed = celtypes.ListType(constants)  # never mutated: CEL operators make new lists

            def constant_list(ctx: Context) -> Any:
                return fixed

            constant_list.constant = fixed  # type: ignore[attr-defined]  (read by `in`)
            return constant_list
        items = [_compile(k) for k in nodes]
        return lambda ctx: celtypes.ListType([item(ctx) for item in items])

    raise _Unsupported(data)


def _operator(name: str) -> Callable[..., Any]:
    """cel-python's operator `name` on compiled values; its errors are `Undecided`."""
    apply = base_functions[name]

    def run(*values: Any) -> Any:
        try:
            result = apply(*values)
        except (CELEvalError, TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise Undecided(str(exc)) from None
        if isinstance(result, CELEvalError):
            raise Undecided(str(result))
        return result

    return run


#: Arithmetic is rare in frameworks: it is always cel-python's own operators.
_ARITHMETIC = {"addition_add": "_+_", "addition_sub": "_-_", "multiplication_mul": "_*_"}


def _arithmetic(op: str, left: Compiled, right: Compiled) -> Compiled:
    apply = _operator(_ARITHMETIC[op])
    return lambda ctx: apply(left(ctx), right(ctx))


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
    # a double on the left compares with an int or a double in cel-python, as in Python

    def score_vs_line(ctx: Context) -> Any:
        return _TRUE if compare(ctx.score(task, metric), line) else _FALSE

    return score_vs_line


def _literal_string(node: Any) -> str | None:
    while isinstance(node, lark.Tree) and node.data in _WRAPPERS and len(node.children) == 1:
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


_RELATIONS = {"lt": "_<_", "le": "_<=_", "gt": "_>_", "ge": "_>=_", "eq": "_==_", "ne": "_!=_", "in": "_in_"}


#: (CEL type, op) -> the comparison of its Python base type: for two values of one of these
#: types cel-python's operators come to exactly this, minus their type checks
_NATIVE_OPS = {(kind, op): getattr(base, f"__{op}__")
               for kind, base in ((celtypes.DoubleType, float), (celtypes.IntType, int), (celtypes.StringType, str))
               for op in ("lt", "le", "gt", "ge", "eq", "ne")}


def _relation(op: str, left: Compiled, right: Compiled) -> Compiled:
    """Same-typed numbers and strings natively (the common case), anything else with
    cel-python's operator."""
    slow = _operator(_RELATIONS[op])
    if op == "in":
        fixed = getattr(right, "constant", None)
        kinds = {type(x) for x in fixed} if fixed is not None else set()
        if fixed and len(kinds) == 1 and kinds <= {celtypes.StringType, celtypes.IntType}:
            # `threshold("x") in ["not_ruled_out", "crossed"]`: a set of plain values
            (kind,) = kinds
            base = str if kind is celtypes.StringType else int
            members = frozenset(base(x) for x in fixed)

            def constant_membership(ctx: Context) -> Any:
                needle = left(ctx)
                if type(needle) is kind:
                    return _TRUE if base(needle) in members else _FALSE
                return slow(needle, fixed)
            return constant_membership

        def membership(ctx: Context) -> Any:
            needle, haystack = left(ctx), right(ctx)
            kind = type(needle)
            eq = _NATIVE_OPS.get((kind, "eq"))
            if eq is not None and type(haystack) is celtypes.ListType and all(type(x) is kind for x in haystack):
                return _TRUE if any(eq(needle, x) for x in haystack) else _FALSE
            return slow(needle, haystack)
        return membership
    natives = {kind: fn for (kind, name), fn in _NATIVE_OPS.items() if name == op}

    def relation(ctx: Context) -> Any:
        a, b = left(ctx), right(ctx)
        kind = type(a)
        if kind is type(b):
            compare = natives.get(kind)
            if compare is not None:
                return _TRUE if compare(a, b) else _FALSE
        return slow(a, b)

    return relation


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
        except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
            # cel-python can fail on its own error paths (formatting the error of
            # `0 && ![]` raises IndexError): an expression it cannot evaluate is undecided
            raise Undecided(f"{type(exc).__name__}: {exc}") from None
        finally:
            current.pop()

    return run


def compile_expression(expression: Expression, *, fast: bool = True) -> Compiled:
    """A callable evaluating `expression` in a `Context`; raises `Undecided` on CEL errors.
    Results are Python values (bool, int, float, str, list)."""
    if fast:
        try:
            compiled = _compile(expression.ast)
        except _Unsupported:
            pass
        else:
            def run(ctx: Context) -> Any:
                value = compiled(ctx)
                if value is _TRUE:
                    return True
                if value is _FALSE:
                    return False
                return _from_cel(value)
            return run
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
#: nodes that only wrap a literal (never `list_lit`: `[0]` is not the number 0)
_WRAPPERS = _PASS_THROUGH + ("literal",)


def _is_score_call(node: Any) -> bool:
    while isinstance(node, lark.Tree) and node.data in _PASS_THROUGH and len(node.children) == 1:
        node = node.children[0]
    return isinstance(node, lark.Tree) and node.data == "ident_arg" and str(node.children[0]) == "score"


def _is_number_literal(node: Any) -> bool:
    while isinstance(node, lark.Tree) and node.data in _WRAPPERS and len(node.children) == 1:
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
