"""Properties of the framework diff over random valid frameworks (issue 6): a framework does not
differ from itself, and diff(B, A) is exactly the mirror of diff(A, B).

Frameworks are drawn from small pools of ids, so two independent draws share many elements
and their fields get compared; a rename step then renames some elements of either side with
`renamed_from`, so renames are followed from the new side and from the old one.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from diff_helpers import base, load
from mast.framework.diff import diff_frameworks

load(base())  # cel-python raises the recursion limit on first use: not during a test

DURATIONS = st.sampled_from(["P7D", "P1W", "P14D", "P30D", "P1M", "P6M", "P1Y", "PT72H"])
STAGES = st.sampled_from(["training", "internal", "deployed", "retired"])
STATUSES = ["untested", "ruled_out", "not_ruled_out", "crossed"]
AUDIENCES = st.sampled_from(["public", "reviewer", "internal"])


def _subset(pool: list[str], min_size: int = 0) -> st.SearchStrategy[list[str]]:
    if not pool:
        return st.just([])
    return st.lists(st.sampled_from(pool), min_size=min_size, max_size=len(pool), unique=True)


def _common(draw: st.DrawFn, element_id: str) -> dict[str, Any]:
    element: dict[str, Any] = {"id": element_id}
    if draw(st.booleans()):
        element["title"] = draw(st.sampled_from(["First", "Second"]))
    if draw(st.booleans()):
        element["audience"] = draw(AUDIENCES)
    return element


SCORE_ATOM = st.builds(lambda task, op, number: f'score("{task}", "acc") {op} {number}',
                       st.sampled_from(["a", "b"]), st.sampled_from([">=", ">", "<"]),
                       st.sampled_from(["0.5", "0.6", "0.7", "1"]))
INDICATOR = st.recursive(SCORE_ATOM, lambda inner: st.builds(lambda a, op, b: f"({a} {op} {b})", inner,
                                                                 st.sampled_from(["&&", "||"]), inner), max_leaves=3)


def _status_condition(draw: st.DrawFn, threshold_ids: list[str]) -> str:
    atoms = ['stage == "deployed"', 'stage != "training"']
    if threshold_ids:
        tid = draw(st.sampled_from(threshold_ids))
        atoms += [f'threshold("{tid}") == "crossed"', f'threshold("{tid}") != "ruled_out"',
                  f'threshold("{tid}") in ["not_ruled_out", "crossed"]']
    parts = draw(st.lists(st.sampled_from(atoms), min_size=1, max_size=2, unique=True))
    text = f" {draw(st.sampled_from(['&&', '||']))} ".join(parts)
    return f"!({text})" if draw(st.booleans()) else text


#: Each commitment id usually has one kind, so two draws often compare a commitment's fields.
SHAPES = {"c1": "every", "c2": "after", "c3": "before", "c4": "holds"}


@st.composite
def frameworks(draw: st.DrawFn) -> dict[str, Any]:
    """Plain data of a random framework that passes every check."""
    standards = []
    for sid in draw(_subset(["s1", "s2", "s3"])):
        standard = _common(draw, sid)
        standard["safeguards"] = [_common(draw, gid) for gid in draw(_subset(["g1", "g2", "g3"]))]
        standards.append(standard)
    standard_ids = [s["id"] for s in standards]

    thresholds = []
    threshold_ids = draw(_subset(["t1", "t2", "t3"]))
    for tid in threshold_ids:
        threshold = _common(draw, tid)
        threshold["domain"] = draw(st.sampled_from(["bio", "cyber"]))
        levels = draw(_subset(["warning", "not_ruled_out", "crossed"]))
        threshold["indicators"] = {level: draw(INDICATOR) for level in levels}
        if draw(st.booleans()):
            threshold["determination_within"] = draw(DURATIONS)
        required = draw(_subset(standard_ids))
        recommended = [s for s in draw(_subset(standard_ids)) if s not in required]
        threshold["requires"] = [{"standard": s, "before": draw(STAGES)} for s in required]
        threshold["recommendations"] = [{"standard": s, "before": draw(STAGES)} for s in recommended]
        thresholds.append(threshold)

    commitments = []
    for cid in draw(_subset(["c1", "c2", "c3", "c4"])):
        commitment = _common(draw, cid)
        shape = SHAPES[cid] if draw(st.integers(0, 4)) else draw(st.sampled_from(list(SHAPES.values())))
        if shape == "every":
            commitment.update(every=draw(DURATIONS), action="report")
        elif shape == "after":
            commitment.update(after=draw(st.sampled_from(["determination", "incident"])), within=draw(DURATIONS),
                              action="notice")
            where = draw(st.sampled_from([None, 'status != "ruled_out"', 'status == "crossed"',
                                          'severity == "critical"']))
            if where:
                commitment["where"] = where
        elif shape == "before":
            commitment.update(before=draw(STAGES), when=_status_condition(draw, threshold_ids), action="review")
        else:
            commitment["holds"] = _status_condition(draw, threshold_ids)
        if shape != "holds" and draw(st.booleans()):
            commitment["to"] = draw(st.sampled_from(["board", "authority"]))
        commitments.append(commitment)

    escapes = []
    for eid in draw(_subset(["e1", "e2"])):
        escape = _common(draw, eid)
        escape.update(notify=draw(_subset(["board", "public", "authority"], min_size=1)), within=draw(DURATIONS))
        escapes.append(escape)

    amendment: dict[str, Any] = {"approvals": draw(_subset(["rso", "ceo", "board"]))}
    if draw(st.booleans()):
        amendment["notice"] = draw(DURATIONS)
    return {
        "mast": 1,
        "framework": {"id": "lab", "title": draw(st.sampled_from(["Policy", "Scaling Policy"])),
                      "version": "1", "effective": "2025-05-14T00:00:00Z"},
        "thresholds": thresholds, "standards": standards, "commitments": commitments, "escape_clauses": escapes,
        "amendment": amendment, "determinations": {"approvals": draw(_subset(["rso", "ceo"]))},
    }


@st.composite
def renamed(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with some elements renamed to `re-<id>` (`renamed_from: <id>`), references updated."""
    def rename(element: dict[str, Any]) -> str:
        old = element["id"]
        element.update(id=f"re-{old}", renamed_from=old)
        return old

    for key in ("thresholds", "standards", "commitments", "escape_clauses"):
        for element in data[key]:
            if draw(st.booleans()):
                continue
            old = rename(element)
            if key == "thresholds":
                for c in data["commitments"]:
                    for field in ("when", "holds"):
                        if field in c:
                            c[field] = c[field].replace(f'threshold("{old}")', f'threshold("re-{old}")')
            if key == "standards":
                for t in data["thresholds"]:
                    for r in t["requires"] + t["recommendations"]:
                        if r["standard"] == old:
                            r["standard"] = f"re-{old}"
    for standard in data["standards"]:
        for safeguard in standard["safeguards"]:
            if not draw(st.integers(0, 3)):
                rename(safeguard)
    return data


def _maybe_renamed(data: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just(data), renamed(data))


PAIRS = st.tuples(frameworks().flatmap(_maybe_renamed), frameworks().flatmap(_maybe_renamed))


@settings(max_examples=100, deadline=None)
@given(frameworks().flatmap(_maybe_renamed))
def test_a_framework_does_not_differ_from_itself(data: dict[str, Any]) -> None:
    framework = load(data)
    assert diff_frameworks(framework, framework).changes == ()
    assert diff_frameworks(framework, load(json.loads(json.dumps(data)))).changes == ()


@settings(max_examples=100, deadline=None)
@given(PAIRS)
def test_diffs_mirror_each_other(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    a, b = load(pair[0]), load(pair[1])
    forward, backward = diff_frameworks(a, b), diff_frameworks(b, a)
    assert len(set(forward.changes)) == len(forward.changes)
    assert set(backward.changes) == {c.mirrored() for c in forward.changes}
    assert len(backward.changes) == len(forward.changes)
    assert json.loads(json.dumps(forward.to_json())) == forward.to_json()
