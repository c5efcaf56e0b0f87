"""What every rule reads when judging one framework version: the facts, the compiled
thresholds, each model's status timelines and safeguard coverage. Built once per version."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from mast.engine.cel import Compiled, Undecided, compile_expression, holds
from mast.engine.facts import Facts
from mast.engine.renames import Names
from mast.engine.safeguards import SafeguardCoverage
from mast.engine.thresholds import (
    CompiledThreshold, OwnTimeline, ScoreBoard, State, inherit, own_timelines, reading_order, reading_timeline,
)
from mast.engine.timeline import START, Intervals, Steps
from mast.framework.expressions import parse_expression
from mast.framework.model import Framework
from mast.vocabulary import Stage, stage_reaches

#: days before a deadline from which it is reported as `due`
DUE_WINDOW_DAYS = 14


@dataclass(slots=True)
class RawFinding:
    """A rule's verdict: the moments (`spans`) at which something is wrong.

    `obligation` tells apart findings that share kind, commitment and model (two incidents
    each owing a notice); it never contains an element's id, which a revision may rename.
    `describe(moment)` writes the message as of a moment in a span. `subject` says what
    `commitment` names: an `element` (threshold, commitment or escape clause) or, for an
    exemption's warning, a `standard`.
    """

    kind: str
    commitment: str
    model: str | None
    spans: Intervals
    describe: Callable[[datetime], str]
    standard: str | None = None
    due: datetime | None = None
    obligation: Any = ""
    subject: str = "element"

    @property
    def key(self) -> tuple:
        return (self.kind, self.commitment, self.standard, self.model, self.obligation)


@dataclass
class ModelView:
    """One model under one framework version."""

    id: str
    parent: str | None
    stage: Steps[Stage]
    own: dict[str, OwnTimeline]
    status: dict[str, Steps[State]]
    board: ScoreBoard
    _staged: dict[Stage, Intervals] = field(default_factory=dict)

    def at_stage(self, gated: Stage) -> Intervals:
        """The moments at which gates `before: gated` apply to this model."""
        if gated not in self._staged:
            self._staged[gated] = self.stage.where(lambda s: stage_reaches(s, gated))
        return self._staged[gated]


@dataclass
class Judgement:
    framework: Framework
    #: the records, indexed by this version's ids (`Names.view`)
    facts: Facts
    thresholds: list[CompiledThreshold]
    models: dict[str, ModelView]
    coverage: SafeguardCoverage
    #: how this version reads the element ids in records made under any version
    names: Names
    #: when each commitment's clock started: the `effective` of the earliest consecutive
    #: version that has it, under this id or an earlier one (a revision does not restart a cadence)
    anchors: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def build(cls, framework: Framework, facts: Facts, anchors: dict[str, datetime],
              names: Names) -> "Judgement":
        facts = names.view(facts)
        compiled = [CompiledThreshold.build(t) for t in framework.thresholds]
        # thresholds read by score alone are swept together; those whose indicators read
        # `threshold(id)` follow, each once the statuses it reads are known
        plain = [ct for ct in compiled if not ct.reads]
        reading = reading_order(compiled)
        models: dict[str, ModelView] = {}
        for model_id in facts.lineage_order():
            record = facts.models[model_id]
            dets = {t.threshold.id: facts.determinations.get((model_id, t.threshold.id), []) for t in compiled}
            evals = facts.evals.get(model_id, [])
            own, board = own_timelines(model_id, evals, dets, plain)
            parent = models.get(record.parent) if record.parent else None
            status = {tid: inherit(tl, parent.status.get(tid) if parent else None) for tid, tl in own.items()}
            for ct in reading:
                tid = ct.threshold.id
                own[tid] = reading_timeline(model_id, ct, evals, dets[tid], status)
                status[tid] = inherit(own[tid], parent.status.get(tid) if parent else None)
            models[model_id] = ModelView(model_id, record.parent, facts.stage[model_id], own, status, board)
        return cls(framework, facts, compiled, models, SafeguardCoverage(facts), names, anchors)


class ModelMoment:
    """A CEL context for `when`/`holds`: one model at one moment."""

    def __init__(self, view: ModelView, moment: datetime, scores: dict[tuple[str, str], float]):
        self.view, self.moment, self._scores = view, moment, scores
        stage = view.stage.value(moment)
        self.variables: dict[str, Any] = {"model": view.id, "stage": stage.value if stage else ""}

    def score(self, task: str, metric: str) -> float:
        try:
            return self._scores[(task, metric)]
        except KeyError:
            raise Undecided(f"no evidence for {task}/{metric}") from None

    def threshold(self, threshold_id: str) -> str:
        steps = self.view.status.get(threshold_id)
        if steps is None:
            raise Undecided(f"unknown threshold {threshold_id}")
        return steps.value(self.moment)[0]


def condition_timeline(judgement: Judgement, view: ModelView, text: str, *, undecided: bool) -> Steps[bool]:
    """When a per-model condition (`when`, `holds`) is true, evaluated at every moment any
    input it can read changes: the model's stage, threshold statuses and scores.
    `undecided` is what an evaluation error counts as (the rule's precaution)."""
    expression = parse_expression(text)
    compiled: Compiled = compile_expression(expression)
    moments = set(view.stage.times)
    for steps in view.status.values():
        moments.update(steps.times)
    evals = judgement.facts.evals.get(view.id, []) if expression.scores else []
    moments.update(e.at for e in evals)
    scores: dict[tuple[str, str], float] = {}
    result: Steps[bool] = Steps(initial=holds(compiled, ModelMoment(view, START, scores), undecided=undecided))
    i = 0
    for moment in sorted(moments):
        while i < len(evals) and evals[i].at <= moment:
            for metric, value in evals[i].metrics.items():
                key = (evals[i].task, metric)
                scores[key] = max(scores.get(key, float("-inf")), float(value))
            i += 1
        result.set(moment, holds(compiled, ModelMoment(view, moment, scores), undecided=undecided))
    return result
