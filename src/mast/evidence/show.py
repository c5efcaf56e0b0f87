"""A model's evidence against its thresholds: what `mast evidence show` prints and
`mast evidence plot` draws.

For every threshold of the framework in force, each indicator's text, whether it is true now,
the scores it reads (the best value, when it was recorded and from which source: best
elicitation counts, as in the engine), the lines it draws (`score("t", "m") >= 0.6`), and the
threshold's status as the engine assesses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

import lark

from mast.engine import assess
from mast.engine.cel import Undecided, compile_expression
from mast.errors import InvalidInput
from mast.framework.expressions import parse_expression
from mast.framework.model import Framework
from mast.records.canonical import record_id
from mast.records.kinds import EvalRecord, Record
from mast.framework.versions import framework_in_force
from mast.vocabulary import iso

LEVELS = ("warning", "not_ruled_out", "crossed")


@dataclass(frozen=True)
class Line:
    """`score(task, metric) OP value` as written in an indicator (OP one of >=, >, <=, <)."""

    task: str
    metric: str
    op: str
    value: float


@dataclass(frozen=True)
class Best:
    """The best value of one (task, metric) for the model, and where it came from."""

    task: str
    metric: str
    value: float | None = None
    at: datetime | None = None
    source: str | None = None
    evals: int = 0


@dataclass(frozen=True)
class IndicatorView:
    level: str
    text: str
    #: True / False, or None when it cannot be decided (missing evidence: precaution)
    holds: bool | None
    scores: list[Best]
    lines: list[Line]


@dataclass(frozen=True)
class ThresholdView:
    id: str
    title: str | None
    status: str
    basis: str | None
    since: datetime | None
    #: the highest level whose indicator holds on the model's own evidence (None: none)
    reached: str | None
    indicators: list[IndicatorView]


@dataclass(frozen=True)
class EvidenceView:
    model: str
    as_of: datetime
    framework: tuple[str, str]
    thresholds: list[ThresholdView]
    #: the model's eval records up to `as_of`, in time order (superseded ones left out)
    evals: list[EvalRecord] = field(default_factory=list)

    def to_json_data(self) -> dict[str, Any]:
        def best(b: Best) -> dict[str, Any]:
            out: dict[str, Any] = {"task": b.task, "metric": b.metric, "value": b.value, "evals": b.evals}
            if b.at is not None:
                out.update(at=iso(b.at), source=b.source)
            return out

        return {
            "model": self.model, "as_of": iso(self.as_of),
            "framework": {"id": self.framework[0], "version": self.framework[1]},
            "thresholds": [{
                "id": t.id, "title": t.title, "status": t.status, "basis": t.basis,
                "since": iso(t.since) if t.since else None, "reached": t.reached,
                "indicators": [{
                    "level": i.level, "text": i.text, "holds": i.holds, "scores": [best(b) for b in i.scores],
                    "lines": [{"task": x.task, "metric": x.metric, "op": x.op, "value": x.value} for x in i.lines],
                } for i in t.indicators],
            } for t in self.thresholds],
        }


def evidence_view(frameworks: Sequence[Framework], records: Sequence[Record], model: str,
                  as_of: datetime) -> EvidenceView:
    """The evidence view of `model` as of `as_of` (pure: give it the workspace's versions and
    records)."""
    framework = framework_in_force(frameworks, as_of)
    if framework is None:
        raise InvalidInput("no framework published yet: run `mast framework publish FILE --approve ROLE=NAME`")
    assessment = assess(frameworks, records, as_of)
    state = assessment.model(model)
    if state is None:
        known = ", ".join(m.id for m in assessment.models) or "none yet"
        raise InvalidInput(f"unknown model {model!r} (models: {known})")
    evals = model_evals(records, model, as_of)
    best = best_scores(evals)
    statuses = {t.id: t.status for t in state.thresholds}
    context = _Context(best, {"model": model, "stage": state.stage}, statuses)
    views = []
    for threshold in framework.thresholds:
        t_state = next((t for t in state.thresholds if t.id == threshold.id), None)
        indicators = []
        reached = None
        for level, text in threshold.indicators.levels():
            expression = parse_expression(text)
            holds = _holds(expression, context)
            if holds:
                reached = level
            pairs = sorted(expression.scores)
            indicators.append(IndicatorView(level, text, holds,
                                            [best.get(p) or Best(*p) for p in pairs], lines_of(text)))
        views.append(ThresholdView(threshold.id, threshold.title, t_state.status if t_state else "untested",
                                   t_state.basis if t_state else None, t_state.since if t_state else None,
                                   reached, indicators))
    return EvidenceView(model, as_of, (framework.id, framework.version), views, evals)


def model_evals(records: Sequence[Record], model: str, as_of: datetime) -> list[EvalRecord]:
    visible = [r for r in records if r.at <= as_of]
    superseded = {r.supersedes for r in visible if r.supersedes}
    evals = [r for r in visible if isinstance(r, EvalRecord) and r.model == model]
    if superseded:
        evals = [r for r in evals if not ({r.ref, record_id(r)} & superseded)]
    return sorted(evals, key=lambda r: r.at)


def describe_source(record: EvalRecord) -> str:
    """Where an eval came from: its file (and format), else its ref or id."""
    if record.source is not None and record.source.path:
        return f"{record.source.path} ({record.source.format})"
    if record.source is not None:
        return record.source.format
    return f"record {record.ref or record_id(record)[:12]}"


def best_scores(evals: Sequence[EvalRecord]) -> dict[tuple[str, str], Best]:
    best: dict[tuple[str, str], Best] = {}
    for record in evals:
        for metric, value in record.metrics.items():
            key = (record.task, metric)
            old = best.get(key)
            count = old.evals + 1 if old else 1
            if old is None or old.value is None or value > old.value:
                best[key] = Best(record.task, metric, value, record.at, describe_source(record), count)
            else:
                best[key] = Best(old.task, old.metric, old.value, old.at, old.source, count)
    return best


class _Context:
    def __init__(self, best: dict[tuple[str, str], Best], variables: dict[str, Any], statuses: dict[str, str]):
        self.best, self.variables, self.statuses = best, variables, statuses

    def score(self, task: str, metric: str) -> float:
        found = self.best.get((task, metric))
        if found is None or found.value is None:
            raise Undecided(f"no evidence for {task}/{metric}")
        return found.value

    def threshold(self, threshold_id: str) -> str:
        return self.statuses.get(threshold_id, "untested")


def _holds(expression: Any, context: _Context) -> bool | None:
    try:
        value = compile_expression(expression)(context)
    except Undecided:
        return None
    return value if isinstance(value, bool) else None


# -- the lines an indicator draws ----------------------------------------------------------

_OPS = {"relation_ge": ">=", "relation_gt": ">", "relation_le": "<=", "relation_lt": "<"}
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}
_WRAPPERS = frozenset({"expr", "conditionalor", "conditionaland", "relation", "addition", "multiplication",
                       "unary", "member", "primary", "paren_expr", "literal"})


def lines_of(text: str) -> list[Line]:
    """Every `score("t", "m") OP number` (or `number OP score(...)`) in an indicator."""
    out = []
    for node in parse_expression(text).ast.iter_subtrees_topdown():
        if node.data != "relation" or len(node.children) != 2:
            continue
        head, right = node.children
        if not isinstance(head, lark.Tree) or head.data not in _OPS:
            continue
        op, left = _OPS[head.data], head.children[0]
        pair, number = _score_call(left), _number(right)
        if pair is None or number is None:
            pair, number, op = _score_call(right), _number(left), _FLIP[op]
        if pair is not None and number is not None:
            out.append(Line(pair[0], pair[1], op, number))
    return out


def _sole(node: Any) -> Any:
    while isinstance(node, lark.Tree) and node.data in _WRAPPERS and len(node.children) == 1:
        node = node.children[0]
    return node


def _score_call(node: Any) -> tuple[str, str] | None:
    node = _sole(node)
    if not (isinstance(node, lark.Tree) and node.data == "ident_arg" and str(node.children[0]) == "score"):
        return None
    args = node.children[1].children if len(node.children) > 1 and isinstance(node.children[1], lark.Tree) else []
    texts = [_sole(a) for a in args]
    if len(texts) != 2 or not all(isinstance(t, lark.Token) and t.type == "STRING_LIT" for t in texts):
        return None
    return tuple(str(t)[1:-1] for t in texts)  # type: ignore[return-value]


def _number(node: Any) -> float | None:
    node = _sole(node)
    if isinstance(node, lark.Token) and node.type in ("INT_LIT", "FLOAT_LIT"):
        try:
            return float(int(str(node), 0)) if node.type == "INT_LIT" else float(str(node))
        except ValueError:
            return None
    return None
