"""The compiled CEL subset agrees with cel-python's interpreter, which defines the semantics.

Random expressions over the subset frameworks use — literals, `score()`, `threshold()`,
variables, comparisons, `&&`, `||`, `!`, unary and binary `-`, `+`, `*`, `?:`, `in` — are
evaluated with `compile_expression(e, fast=True)` and `fast=False`: both give the same value,
or both raise `Undecided`. Ill-typed expressions are generated on purpose: errors, and how
`&&`, `||` and `?:` absorb them, are where a hand-written evaluator goes wrong.
"""

import math

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from mast.engine.cel import Undecided, compile_expression, is_fast
from mast.framework.expressions import ExpressionError, parse_expression

SCORES = {("a", "acc"): 0.5, ("b", "acc"): 2.0, ("c", "acc"): 1.0}


class Ctx:
    variables = {"model": "m1", "stage": "deployed"}

    def score(self, task, metric):
        try:
            return SCORES[(task, metric)]
        except KeyError:
            raise Undecided(f"no evidence for {task}/{metric}") from None

    def threshold(self, threshold_id):
        return {"x": "crossed", "y": "ruled_out"}.get(threshold_id, "untested")


ATOMS = st.sampled_from([
    "0", "1", "2", "-1", "3", "9223372036854775807", "0.5", "1.0", "2.5", "0.0", "1e308",
    "true", "false", '"a"', '"b"', "[]",
    'score("a", "acc")', 'score("b", "acc")', 'score("c", "acc")', 'score("z", "acc")',
    'threshold("x")', 'threshold("y")', "model", "stage", "nope",
])
BINARY = st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "&&", "||", "+", "-", "*", "in"])


def compound(inner):
    return st.one_of(
        st.tuples(inner, BINARY, inner).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        inner.map(lambda x: f"(!{x})"),
        inner.map(lambda x: f"(-{x})"),
        st.tuples(inner, inner, inner).map(lambda x: f"({x[0]} ? {x[1]} : {x[2]})"),
        st.lists(inner, max_size=3).map(lambda xs: f"[{', '.join(xs)}]"),
    )


EXPRESSIONS = st.recursive(ATOMS, compound, max_leaves=8)


def normal(value):
    """A comparable form that keeps CEL's types apart (1, 1.0 and true differ)."""
    if isinstance(value, bool) or type(value).__name__ == "BoolType":
        return ("bool", bool(value))
    if isinstance(value, int):
        return ("int", int(value))
    if isinstance(value, float):
        return ("double", "nan" if math.isnan(value) else float(value))
    if isinstance(value, str):
        return ("string", str(value))
    if isinstance(value, list):
        return ("list", tuple(normal(v) for v in value))
    return ("other", repr(value))


def outcome(text: str, fast: bool):
    compiled = compile_expression(parse_expression(text), fast=fast)
    try:
        return normal(compiled(Ctx()))
    except Undecided:
        return ("error",)


outcome("1 == 1", False)  # cel-python raises the recursion limit on first use: not during a test


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
@example('score("z", "acc") >= 0.5 || true')          # true || error == true
@example('false && score("z", "acc") >= 0.5')         # false && error == false
@example('score("z", "acc") >= 0.5 && true')          # error && true == error
@example('true ? 1 : score("z", "acc")')              # the branch not taken may fail
@example('1 < 1.5')                                   # int vs double ordering
@example('score("a", "acc") >= 1')
@example('1 <= score("a", "acc")')
@example('1 == 1.0')
@example('true < false')
@example('[1] == [1.0]')
@example('1 in [1, 2.0]')
@example('2.0 in [1, 2.0]')
@example('"a" in "abc"')
@example('-(-9223372036854775807 - 1)')
@example('(1 && true) == 1')
def test_compiled_subset_agrees_with_the_interpreter(text):
    try:
        expression = parse_expression(text)
    except ExpressionError:
        assume(False)
    assert is_fast(expression), text
    assert outcome(text, True) == outcome(text, False), text


@pytest.mark.parametrize("text, expected", [
    ('score("a", "acc") >= 0.5 && score("b", "acc") > 1.5', ("bool", True)),
    ('score("z", "acc") >= 0.5 || score("a", "acc") >= 0.5', ("bool", True)),
    ('score("z", "acc") >= 0.5 && score("a", "acc") >= 0.5', ("error",)),
    ('threshold("x") in ["not_ruled_out", "crossed"]', ("bool", True)),
    ('stage == "deployed" ? score("a", "acc") * 2.0 : 0.0', ("double", 1.0)),
])
def test_typical_indicators(text, expected):
    assert outcome(text, True) == outcome(text, False) == expected
