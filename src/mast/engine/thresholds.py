"""Threshold status over time, per model (DESIGN §4 "Threshold status").

For each model the evals are swept once in time order, keeping the best value per
(task, metric) — precaution: the best elicitation counts. A threshold's indicators are
re-evaluated only when a score they read improves (or their first evidence arrives), which
is what keeps the engine fast: CEL runs a handful of times per model and threshold, not once
per eval.

Levels, lowest first: untested, ruled_out, warning, not_ruled_out, crossed. `warning` is an
early-warning line: it asks for a determination but leaves the status at `ruled_out`.
An indicator that cannot be evaluated (evidence missing for part of it) cannot rule the
threshold out: it counts as `not_ruled_out` — never as `crossed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mast.engine.cel import Compiled, Undecided, compile_expression, is_monotone
from mast.engine.timeline import END, Intervals, Steps, normalize
from mast.framework.expressions import parse_expression
from mast.framework.model import Threshold

UNTESTED, RULED_OUT, WARNING, NOT_RULED_OUT, CROSSED = range(5)
LEVEL_STATUS = {UNTESTED: "untested", RULED_OUT: "ruled_out", WARNING: "ruled_out",
                NOT_RULED_OUT: "not_ruled_out", CROSSED: "crossed"}
STATUS_LEVEL = {"untested": UNTESTED, "ruled_out": RULED_OUT, "not_ruled_out": NOT_RULED_OUT,
                "crossed": CROSSED}
STATUS_RANK = {"untested": 0, "ruled_out": 1, "not_ruled_out": 2, "crossed": 3}

#: A status and what set it: ("not_ruled_out", "indicator"), ("untested", None) ...
State = tuple[str, str | None]
_INDICATED: dict[int, State] = {lvl: (LEVEL_STATUS[lvl], "indicator" if lvl != UNTESTED else None)
                                for lvl in LEVEL_STATUS}


@dataclass
class CompiledThreshold:
    """A threshold's indicators, parsed and compiled once per framework version.

    `monotone` indicators (only `score(...) >= / > literal`, `&&`, `||`) can only rise as
    scores improve, so once a level is reached the lower ones need no evaluation and the
    top level needs none at all.
    """

    threshold: Threshold
    levels: list[tuple[int, Compiled]]  # highest level first
    keys: frozenset[tuple[str, str]]
    tasks: frozenset[str]
    monotone: bool = False
    #: thresholds whose status its indicators read with `threshold(id)` (for the same model)
    reads: frozenset[str] = frozenset()

    @classmethod
    def build(cls, threshold: Threshold) -> "CompiledThreshold":
        order = {"warning": WARNING, "not_ruled_out": NOT_RULED_OUT, "crossed": CROSSED}
        levels, keys, monotone, reads = [], set(), True, set()
        for name, text in threshold.indicators.levels():
            expression = parse_expression(text)
            keys |= expression.scores
            reads |= expression.thresholds
            monotone = monotone and is_monotone(expression)
            levels.append((order[name], compile_expression(expression)))
        levels.sort(key=lambda pair: -pair[0])
        return cls(threshold, levels, frozenset(keys), frozenset(t for t, _ in keys), monotone,
                   frozenset(reads))

    def level(self, ctx: Any, floor: int = RULED_OUT) -> tuple[int, int]:
        """`(level, floor)`: the highest level whose indicator holds — an undecidable one
        counts as not ruled out — and the highest level whose indicator was *true*.

        A true monotone indicator stays true as scores rise, so callers pass back the
        returned `floor` and the levels at or below it are not evaluated again. (An
        undecided one may still turn false when the missing evidence arrives.)
        """
        best = floor
        for level, compiled in self.levels:
            if level <= floor:
                break
            try:
                value = compiled(ctx)
            except Undecided:
                best = max(best, min(level, NOT_RULED_OUT))
                continue
            if value is True:
                best = max(best, level)
                return best, (level if self.monotone else RULED_OUT)
            if not isinstance(value, bool):
                best = max(best, min(level, NOT_RULED_OUT))
        return best, floor


class ScoreBoard:
    """The best value so far per (task, metric) for one model; a CEL `Context`."""

    __slots__ = ("best", "variables", "statuses")

    def __init__(self, model_id: str):
        self.best: dict[tuple[str, str], float] = {}
        self.variables: dict[str, Any] = {"model": model_id}
        self.statuses: dict[str, str] = {}

    def score(self, task: str, metric: str) -> float:
        try:
            return self.best[(task, metric)]
        except KeyError:
            raise Undecided(f"no evidence for {task}/{metric}") from None

    def threshold(self, threshold_id: str) -> str:
        return self.statuses.get(threshold_id, "untested")


@dataclass
class OwnTimeline:
    """One model's own status for one threshold, before inheritance is applied."""

    status: Steps[State]
    #: moments an own indicator fired and asked for a determination (first fire after each one)
    fires: list[datetime] = field(default_factory=list)
    #: determinations that put the status below what the indicators say, as intervals
    overrides: Intervals = field(default_factory=list)
    determined_from: datetime | None = None  # the model's first determination on it


def own_timelines(
    model_id: str,
    evals: list[Any],
    determinations: dict[str, list[Any]],
    thresholds: list[CompiledThreshold],
) -> tuple[dict[str, OwnTimeline], ScoreBoard]:
    """Sweep one model's evals and determinations into a timeline per threshold."""
    board = ScoreBoard(model_id)
    by_key: dict[tuple[str, str], list[int]] = {}
    by_task: dict[str, list[int]] = {}
    for i, ct in enumerate(thresholds):
        for key in ct.keys:
            by_key.setdefault(key, []).append(i)
        for task in ct.tasks:
            by_task.setdefault(task, []).append(i)

    # level events per threshold: (time, level)
    events: list[list[tuple[datetime, int]]] = [[] for _ in thresholds]
    tested = [False] * len(thresholds)
    floors = [RULED_OUT] * len(thresholds)
    # Evals recorded at the same moment are one round of evidence: indicators are judged
    # after all of them, never on half a round (which would fire an `||` of two tasks).
    # The loop runs once per eval of every model (100,000 in bench/engine.py): names are
    # bound locally and a task's first eval is found by popping `untested`, not scanning.
    best = board.best
    best_of = best.get
    readers_of = by_key.get
    untested = {task: list(ids) for task, ids in by_task.items()}
    lowest = float("-inf")
    touched: set[int] = set()
    last = len(evals) - 1
    for n, ev in enumerate(evals):
        task = ev.task
        for metric, value in ev.metrics.items():
            key = (task, metric)
            if value > best_of(key, lowest):
                best[key] = float(value)
                readers = readers_of(key)
                if readers:
                    touched.update(readers)
        first = untested.pop(task, None) if untested else None
        if first:
            for i in first:
                if not tested[i]:
                    tested[i] = True
                    touched.add(i)
        if not touched or (n < last and evals[n + 1].at == ev.at):
            continue
        for i in sorted(touched):
            level, floors[i] = thresholds[i].level(board, floors[i])
            events[i].append((ev.at, level))
        touched = set()

    out = {}
    for i, ct in enumerate(thresholds):
        out[ct.threshold.id] = _merge(events[i], determinations.get(ct.threshold.id, []))
    return out, board


def reading_order(thresholds: list[CompiledThreshold]) -> list[CompiledThreshold]:
    """The thresholds whose indicators read other thresholds, each after those it reads.
    (`mast framework check` refuses cycles; here one is broken arbitrarily and the status
    read across it counts as `untested`.)"""
    by_id = {ct.threshold.id: ct for ct in thresholds}
    order: list[CompiledThreshold] = []
    done: set[str] = set()

    def visit(ct: CompiledThreshold, path: frozenset[str]) -> None:
        tid = ct.threshold.id
        if tid in done or tid in path:
            return
        for other in sorted(ct.reads):
            if other in by_id:
                visit(by_id[other], path | {tid})
        done.add(tid)
        if ct.reads:
            order.append(ct)

    for ct in thresholds:
        visit(ct, frozenset())
    return order


def reading_timeline(model_id: str, ct: CompiledThreshold, evals: list[Any], dets: list[Any],
                     statuses: dict[str, Steps[State]]) -> OwnTimeline:
    """One model's own timeline for a threshold whose indicators read other thresholds'
    statuses for that model (`statuses`, inheritance applied). Its indicators are judged
    when a score they read improves, as in `own_timelines`, and when a status they read
    changes their level (that is new evidence too)."""
    board = ScoreBoard(model_id)
    reads = {tid: statuses[tid] for tid in ct.reads if tid in statuses}  # others: untested
    moments = sorted({e.at for e in evals if e.task in ct.tasks}
                     | {moment for steps in reads.values() for moment in steps.times})
    events: list[tuple[datetime, int]] = []
    tested = False
    last: int | None = None
    i = 0
    for moment in moments:
        improved = False
        while i < len(evals) and evals[i].at <= moment:
            ev = evals[i]
            i += 1
            if ev.task not in ct.tasks:
                continue
            if not tested:
                tested = improved = True
            for metric, value in ev.metrics.items():
                key = (ev.task, metric)
                if key in ct.keys and value > board.best.get(key, float("-inf")):
                    board.best[key] = float(value)
                    improved = True
        board.statuses = {tid: steps.value(moment)[0] for tid, steps in reads.items()}
        if not ct.tasks and not tested and any(v != "untested" for v in board.statuses.values()):
            tested = improved = True  # it reads no task: tested once what it reads is
        if not tested:
            continue
        level, _ = ct.level(board)
        if improved or level != last:
            events.append((moment, level))
        last = level
    return _merge(events, dets)


def _merge(levels: list[tuple[datetime, int]], dets: list[Any]) -> OwnTimeline:
    """Combine indicator levels with determinations (DESIGN §4: new evidence beats an old
    decision only when it sets a new best score that puts an indicator above it)."""
    status: Steps[State] = Steps(initial=("untested", None))
    timeline = OwnTimeline(status)
    if not dets:  # the common case: the indicators alone, and at most one fire
        for moment, level in levels:
            status.set(moment, _INDICATED[level])
            if level >= WARNING and not timeline.fires:
                timeline.fires.append(moment)
        return timeline
    stream: list[tuple[datetime, int, Any]] = [(t, 0, lvl) for t, lvl in levels]
    stream += [(d.at, 1, d) for d in dets]  # at equal times an eval is seen before a decision
    stream.sort(key=lambda e: (e[0], e[1]))
    determined: Any = None
    level_now = UNTESTED
    pending = False
    override_from: datetime | None = None
    overrides = []
    for moment, is_det, item in stream:
        if not is_det:
            level_now = item
            if determined is None:
                status.set(moment, _INDICATED[item])
                if item >= WARNING and not pending:
                    timeline.fires.append(moment)
                    pending = True
            elif item > STATUS_LEVEL[determined.status]:
                if item >= NOT_RULED_OUT:
                    status.set(moment, (LEVEL_STATUS[item], "indicator"))
                    if override_from is not None:
                        overrides.append((override_from, moment))
                        override_from = None
                if not pending:
                    timeline.fires.append(moment)
                    pending = True
        else:
            if override_from is not None:
                overrides.append((override_from, moment))
                override_from = None
            determined = item
            if timeline.determined_from is None:
                timeline.determined_from = moment
            pending = False
            status.set(moment, (item.status, "determination"))
            if level_now >= NOT_RULED_OUT and level_now > STATUS_LEVEL[item.status]:
                override_from = moment
    if override_from is not None:
        overrides.append((override_from, END))
    timeline.overrides = normalize(overrides)
    return timeline


def inherit(own: OwnTimeline, parent: Steps[State] | None) -> Steps[State]:
    """A child's status: the higher of its own and its parent's, until its own first
    determination; from then on its own (DESIGN §3: "unless its own determination says
    otherwise")."""
    if parent is None:
        return own.status
    cutoff = own.determined_from or END
    times = sorted(set(own.status.times) | set(parent.times) | ({cutoff} - {END}))
    combined: Steps[State] = Steps(initial=_higher(own.status.initial, parent.initial))
    for moment in times:
        mine = own.status.value(moment)
        if moment >= cutoff:
            combined.set(moment, mine)
        else:
            combined.set(moment, _higher(mine, parent.value(moment)))
    return combined


def _higher(mine: State, theirs: State) -> State:
    if STATUS_RANK[theirs[0]] > STATUS_RANK[mine[0]]:
        return (theirs[0], "inherited")
    return mine
