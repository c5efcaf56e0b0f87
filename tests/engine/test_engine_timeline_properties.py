"""`mast.engine.timeline` against a brute-force model: a set of whole minutes.

Intervals here start and end on whole minutes, so the half-open interval [a, b) is exactly the
set of minutes {a, ..., b-1} and every operation can be checked with Python sets.
"""

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine_builders import t
from mast.engine.timeline import END, START, Steps, clip, intersect, normalize, subtract, union

BASE = t("2025-01-01")
HORIZON = 60


def at(minute: int):
    return BASE + timedelta(minutes=minute)


span = st.tuples(st.integers(0, HORIZON), st.integers(0, HORIZON)).map(lambda p: (at(p[0]), at(p[1])))
raw = st.lists(span, max_size=8)  # may be unsorted, overlapping, empty or reversed


def minutes(spans) -> set[int]:
    out = set()
    for s, e in spans:
        a, b = int((s - BASE).total_seconds() // 60), int((e - BASE).total_seconds() // 60)
        out.update(range(a, b))
    return out


def assert_normal(spans):
    """Sorted, non-empty, with a gap between neighbours (touching ones are merged)."""
    for s, e in spans:
        assert s < e
    for (_, e1), (s2, _) in zip(spans, spans[1:]):
        assert e1 < s2


@settings(max_examples=300)
@given(raw)
def test_normalize(a):
    n = normalize(a)
    assert_normal(n)
    assert minutes(n) == minutes(a)
    assert normalize(n) == n


@settings(max_examples=300)
@given(raw, raw)
def test_intersect(a, b):
    out = intersect(normalize(a), normalize(b))
    assert_normal(out)
    assert minutes(out) == minutes(a) & minutes(b)


@settings(max_examples=300)
@given(raw, raw)
def test_subtract(a, b):
    out = subtract(normalize(a), normalize(b))
    assert_normal(out)
    assert minutes(out) == minutes(a) - minutes(b)


@settings(max_examples=300)
@given(raw, raw, raw)
def test_union(a, b, c):
    out = union(normalize(a), normalize(b), normalize(c))
    assert_normal(out)
    assert minutes(out) == minutes(a) | minutes(b) | minutes(c)


@settings(max_examples=200)
@given(raw, st.integers(0, HORIZON), st.integers(0, HORIZON))
def test_clip(a, lo, hi):
    out = clip(normalize(a), at(lo), at(hi))
    assert minutes(out) == {m for m in minutes(a) if lo <= m < hi}


changes = st.lists(st.tuples(st.integers(0, HORIZON), st.sampled_from("xyz")), max_size=10).map(
    lambda cs: sorted(cs, key=lambda c: c[0]))


@settings(max_examples=300)
@given(changes, st.sampled_from("xyz"))
def test_steps_value_since_and_where(cs, initial):
    steps = Steps([(at(m), v) for m, v in cs], initial=initial)

    last = dict(cs)  # of several changes at one moment, the last one counts

    def brute(minute):  # the value at `minute` and the minute it took hold
        value, since = initial, None
        for m in range(minute + 1):
            if m in last and last[m] != value:
                value, since = last[m], m
        return value, since

    for minute in range(HORIZON + 1):
        value, since = brute(minute)
        assert steps.value(at(minute)) == value
        if since is not None:  # with equal values merged, `since` is when the value took hold
            assert steps.since(at(minute)) == at(since)
    for wanted in "xyz":
        spans = steps.where(lambda v: v == wanted)
        assert_normal(spans)
        inside = clip(spans, at(0), at(HORIZON + 1))
        assert minutes(inside) == {m for m in range(HORIZON + 1) if brute(m)[0] == wanted}
    segments = steps.segments()
    assert segments[0][0] == START and segments[-1][1] == END
    assert all(e1 == s2 for (_, e1, _), (s2, _, _) in zip(segments, segments[1:]))
