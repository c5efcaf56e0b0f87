"""`compare(old, new)`: is a CEL condition harder, easier, or as hard to meet as another?

The table states the cases issue 6 names. The properties check the verdicts against the
engine itself: for random pairs of expressions and random evidence, a "harder" new condition
never has a better outcome (false < error < true) than the old one, "easier" never a worse
one, "same"/"equivalent" always the same one — and compare(a, b) mirrors compare(b, a).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mast.engine.cel import Undecided, compile_expression
from mast.framework.expressions import parse_expression
from mast.framework import implication
from mast.framework.implication import compare

BIO = 'score("wmdp_bio", "accuracy")'
VCT = 'score("vct", "accuracy")'

CASES = [
    # raised / lowered line
    (f"{BIO} >= 0.60", f"{BIO} >= 0.70", "harder"),
    (f"{BIO} >= 0.70", f"{BIO} >= 0.60", "easier"),
    (f"{BIO} < 0.3", f"{BIO} < 0.2", "harder"),
    # a disjunct dropped, a conjunct added, and back
    (f"{BIO} >= 0.6 || {VCT} >= 0.4", f"{BIO} >= 0.6", "harder"),
    (f"{BIO} >= 0.6", f"{BIO} >= 0.6 || {VCT} >= 0.4", "easier"),
    (f"{BIO} >= 0.6", f"{BIO} >= 0.6 && {VCT} >= 0.4", "harder"),
    (f"{BIO} >= 0.6 && {VCT} >= 0.4", f"{BIO} >= 0.6", "easier"),
    # formatting, parentheses, quotes, operand order, 0.70 vs 0.7, int vs double
    (f"{BIO} >= 0.7", 'score( "wmdp_bio" ,"accuracy" )>=0.70', "same"),
    (f"{BIO} >= 0.7", f"(({BIO} >= 0.7))", "same"),
    (f"{BIO} >= 0.7", "score('wmdp_bio', 'accuracy') >= 0.7", "same"),
    (f"{BIO} >= 0.7", f"0.7 <= {BIO}", "same"),
    (f"{BIO} >= 1", f"{BIO} >= 1.0", "same"),
    (f"{BIO} >= 1", f"{BIO} > 0.99", "easier"),
    # > vs >= on the same constant
    (f"{BIO} >= 0.7", f"{BIO} > 0.7", "harder"),
    (f"{BIO} > 0.7", f"{BIO} >= 0.7", "easier"),
    # logically equivalent rewrites
    (f"!({BIO} < 0.7)", f"{BIO} >= 0.7", "equivalent"),
    ('!(threshold("x") == "crossed" && stage == "deployed")', 'threshold("x") != "crossed" || stage != "deployed"',
     "equivalent"),
    ('threshold("x") != "ruled_out"', 'threshold("x") in ["untested", "not_ruled_out", "crossed"]', "equivalent"),
    (f"{BIO} >= 0.6 && {VCT} >= 0.4", f"{VCT} >= 0.4 && {BIO} >= 0.6", "equivalent"),
    # statuses and string variables
    ('threshold("x") == "crossed"', 'threshold("x") in ["not_ruled_out", "crossed"]', "easier"),
    ('threshold("x") in ["not_ruled_out", "crossed"]', 'threshold("x") == "crossed"', "harder"),
    ('status != "ruled_out"', 'status in ["not_ruled_out", "crossed"]', "harder"),  # any string may occur
    ('stage == "deployed"', 'stage == "internal"', "unknown"),
    # opaque atoms: equal when structurally equal, free otherwise
    ('model.startsWith("x")', '  model.startsWith( "x" )', "same"),
    ('model.startsWith("x")', 'model.startsWith("x") && stage == "deployed"', "harder"),
    ('model.startsWith("x")', 'model.startsWith("y")', "unknown"),
    ('size(model) > 2', 'size(model) >= 3', "unknown"),  # equivalent for ints, but not in the model
    (f"{BIO} == 1", f"{BIO} == 1.0", "unknown"),  # cel-python errors on double == int
    # a condition against its absence (the diff reads a missing indicator as false, `where` as true)
    ("false", f"{BIO} >= 0.6", "easier"),
    ("true", 'severity == "critical"', "harder"),
    # errors count: a conjunct over missing evidence lowers true to error, which is harder
    (f"{BIO} >= 0.6", f"{BIO} >= 0.6 && ({VCT} >= 0.5 || {VCT} < 0.5)", "harder"),
    # mixed: neither implies the other
    (f"{BIO} >= 0.6", f"{VCT} >= 0.6", "unknown"),
    (f"{BIO} >= 0.6 && {BIO} <= 0.8", f"{BIO} >= 0.7", "unknown"),
]


@pytest.mark.parametrize("old,new,expected", CASES)
def test_compare(old: str, new: str, expected: str) -> None:
    assert compare(old, new) == expected


def test_renamed_thresholds_are_the_same_term() -> None:
    old, new = 'threshold("autonomy-1") == "crossed"', 'threshold("ai-rnd-4") == "crossed"'
    assert compare(old, new) == "unknown"
    assert compare(old, new, renames={"autonomy-1": "ai-rnd-4"}) == "same"
    harder = 'threshold("ai-rnd-4") == "crossed" && stage == "deployed"'
    assert compare(old, harder, renames={"autonomy-1": "ai-rnd-4"}) == "harder"


def test_a_comparison_too_long_to_decide_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = f"{BIO} >= 0.6 || {VCT} >= 0.4", f"{BIO} >= 0.7 || {VCT} >= 0.5"
    assert compare(old, new) == "harder"
    monkeypatch.setattr(implication, "STEP_BUDGET", 3)
    implication._compare.cache_clear()
    assert compare(old, new) == "unknown"
    implication._compare.cache_clear()


# ---------------------------------------------------------------- properties

TASKS = ("a", "b")
NUMBERS = ("0.5", "0.6", "0.7", "1", "1.0", "0.0")
STATUSES = ("untested", "ruled_out", "not_ruled_out", "crossed")


def _atom() -> st.SearchStrategy[str]:
    score = st.tuples(st.sampled_from(TASKS), st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
                      st.sampled_from(NUMBERS), st.booleans())
    return st.one_of(
        score.map(lambda s: f'{s[2]} {s[1]} score("{s[0]}", "acc")' if s[3]
                  else f'score("{s[0]}", "acc") {s[1]} {s[2]}'),
        st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(STATUSES))
        .map(lambda s: f'threshold("x") {s[0]} "{s[1]}"'),
        st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3, unique=True)
        .map(lambda xs: "threshold(\"x\") in [" + ", ".join(f'"{x}"' for x in xs) + "]"),
        st.sampled_from(['stage == "deployed"', 'stage != "internal"', 'stage in ["deployed", "retired"]',
                         'model.startsWith("m")', "true", "false"]),
    )


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["&&", "||"]), inner).map(lambda x: f"({x[0]} {x[1]} {x[2]})"),
        inner.map(lambda x: f"!({x})"),
        st.tuples(inner, inner, inner).map(lambda x: f"({x[0]} ? {x[1]} : {x[2]})"),
    )


EXPRESSIONS = st.recursive(_atom(), _compound, max_leaves=5)
compare("true", "1 == 1")  # cel-python raises the recursion limit on first use: not during a test


class _Ctx:
    def __init__(self, scores: dict[str, float | None], status: str, stage: str, model: str):
        self.scores, self.status = scores, status
        self.variables = {"stage": stage, "model": model}

    def score(self, task: str, metric: str) -> float:
        value = self.scores.get(task)
        if value is None:
            raise Undecided(f"no evidence for {task}")
        return value

    def threshold(self, threshold_id: str) -> str:
        return self.status


CONTEXTS = st.builds(
    _Ctx,
    st.fixed_dictionaries({t: st.sampled_from([None, 0.0, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 1.0, 2.0]) for t in TASKS}),
    st.sampled_from(STATUSES), st.sampled_from(["training", "internal", "deployed", "retired", ""]),
    st.sampled_from(["m1", "x"]),
)


def _outcome(text: str, ctx: _Ctx) -> int:
    """false 0 < error 1 < true 2, as the engine evaluates `text`."""
    try:
        value = compile_expression(parse_expression(text))(ctx)
    except Undecided:
        return 1
    return {False: 0, True: 2}.get(value, 1) if isinstance(value, bool) else 1


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS, EXPRESSIONS, st.lists(CONTEXTS, min_size=1, max_size=8))
def test_verdicts_agree_with_the_engine(old: str, new: str, contexts: list[_Ctx]) -> None:
    verdict = compare(old, new)
    for ctx in contexts:
        before, after = _outcome(old, ctx), _outcome(new, ctx)
        if verdict in ("same", "equivalent"):
            assert after == before, (verdict, ctx.__dict__)
        elif verdict == "harder":
            assert after <= before, (verdict, ctx.__dict__)
        elif verdict == "easier":
            assert after >= before, (verdict, ctx.__dict__)


@settings(max_examples=200, deadline=None)
@given(EXPRESSIONS, EXPRESSIONS)
def test_compare_mirrors(a: str, b: str) -> None:
    forward, backward = compare(a, b), compare(b, a)
    mirror = {"harder": "easier", "easier": "harder"}
    assert backward == mirror.get(forward, forward)
    assert compare(a, a) == "same"


@settings(max_examples=100, deadline=None)
@given(EXPRESSIONS, EXPRESSIONS)
def test_a_conjunction_is_harder_and_a_disjunction_easier(a: str, b: str) -> None:
    assert compare(a, f"({a}) && ({b})") in ("same", "equivalent", "harder")
    assert compare(a, f"({a}) || ({b})") in ("same", "equivalent", "easier")
