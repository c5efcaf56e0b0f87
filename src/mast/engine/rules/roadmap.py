"""The Roadmap (docs/roadmap.md): graded goals, never binding, so every finding is a `warning`.

For each goal of the roadmap versions in force, as intervals of time like every other rule:

- **target missed**: from the goal's `target`, while its latest grade is neither `met` nor
  `missed`/`dropped` (those have their own finding) and the goal is still on the roadmap;
- **graded missed** / **graded dropped**: while that grade stands and the goal is on the
  roadmap (a new version that leaves the goal out, disclosed, ends it);
- **undisclosed change**: a goal that a new version of the roadmap leaves out, without a
  `dropped` grade with a note at or before the new version's `effective` — from that
  `effective` until such a grade is recorded.

A finding's `commitment` is `<roadmap id>/<goal id>`; it names no model.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

from mast.engine.context import RawFinding
from mast.engine.timeline import END, Intervals, Steps, intersect, normalize
from mast.records.kinds import Roadmap, RoadmapGoal, RoadmapRecord
from mast.vocabulary import iso

__all__ = ["GoalTimeline", "RoadmapHistory", "roadmap_findings", "roadmap_history"]


@dataclass
class GoalTimeline:
    """One goal across the versions of its roadmap."""

    roadmap: str
    goal: RoadmapGoal  # as the latest version (in force, or last) that has it defines it
    #: the moments at which the goal is on the roadmap in force
    listed: Intervals
    grades: list[RoadmapRecord] = field(default_factory=list)
    #: when a version that left the goal out took effect (None: it is still listed)
    removed: datetime | None = None
    removed_in: str | None = None

    @property
    def address(self) -> str:
        return f"{self.roadmap}/{self.goal.id}"

    def grade_steps(self) -> Steps[str]:
        return Steps([(g.at, g.status) for g in self.grades])

    def disclosure(self) -> RoadmapRecord | None:
        """The first `dropped` grade with a note (what discloses the goal's removal)."""
        return next((g for g in self.grades if g.status == "dropped" and g.note.strip()), None)


@dataclass
class RoadmapHistory:
    """The versions of one roadmap (by `effective`) and each goal's timeline."""

    id: str
    versions: list[Roadmap]
    goals: dict[str, GoalTimeline]

    def in_force(self, moment: datetime) -> Roadmap | None:
        current = [v for v in self.versions if v.effective <= moment]
        return current[-1] if current else None


def roadmap_history(roadmaps: Iterable[Roadmap], grades: Sequence[RoadmapRecord]) -> list[RoadmapHistory]:
    """Group versions by roadmap id, follow each goal across them, and attach its grades
    (time-ordered; a grade names a goal by id, or by its exact title)."""
    by_id: dict[str, list[Roadmap]] = defaultdict(list)
    for r in roadmaps:
        if all(v.version != r.version for v in by_id[r.id]):
            by_id[r.id].append(r)
    out: list[RoadmapHistory] = []
    claimed: set[int] = set()
    for roadmap_id in sorted(by_id):
        versions = sorted(by_id[roadmap_id], key=lambda v: v.effective)
        goals: dict[str, GoalTimeline] = {}
        for i, version in enumerate(versions):
            end = versions[i + 1].effective if i + 1 < len(versions) else END
            for g in version.goals:
                tl = goals.get(g.id)
                if tl is None:
                    tl = goals[g.id] = GoalTimeline(roadmap_id, g, [])
                tl.goal = g
                tl.listed = normalize(tl.listed + [(version.effective, end)])
                tl.removed = tl.removed_in = None
            if i + 1 < len(versions):
                nxt = versions[i + 1]
                kept = {g.id for g in nxt.goals}
                for g in version.goals:
                    if g.id not in kept and goals[g.id].removed is None:
                        goals[g.id].removed, goals[g.id].removed_in = nxt.effective, nxt.version
        titles = {tl.goal.title: tl for tl in goals.values()}
        for n, grade in enumerate(grades):
            if n in claimed:
                continue
            tl = goals.get(grade.goal) or titles.get(grade.goal)
            if tl is not None:
                tl.grades.append(grade)
                claimed.add(n)
        out.append(RoadmapHistory(roadmap_id, versions, goals))
    return out


def roadmap_findings(roadmaps: Iterable[Roadmap], records: Sequence[Any]) -> list[RawFinding]:
    """`warning` findings for every goal (see the module's docstring). `records` are the
    facts' time-ordered records (only `roadmap` grades are read)."""
    grades = [r for r in records if r.kind == "roadmap"]
    out: list[RawFinding] = []
    for history in roadmap_history(roadmaps, grades):
        for tl in history.goals.values():
            out += _goal_findings(tl)
    return out


def _goal_findings(tl: GoalTimeline) -> list[RawFinding]:
    out: list[RawFinding] = []
    goal, address = tl.goal, tl.address
    steps = tl.grade_steps()
    target = goal.target
    late = intersect(intersect(tl.listed, [(target, END)]),
                     steps.where(lambda s: s not in ("met", "missed", "dropped")))
    if late:
        out.append(RawFinding(
            "warning", address, None, late,
            lambda m, g=goal: f"roadmap goal {g.id} ({g.area}): its target {iso(g.target)} passed "
                              f"without the goal being met — {g.title}",
            due=target, obligation="target"))
    for grade, verb in (("missed", "was graded missed"), ("dropped", "was dropped")):
        spans = intersect(tl.listed, steps.where(lambda s, grade=grade: s == grade))
        if spans:
            out.append(RawFinding(
                "warning", address, None, spans,
                lambda m, g=goal, verb=verb, grade=grade: _graded(g, verb, grade, tl, m),
                obligation=grade))
    if tl.removed is not None:
        disclosed = tl.disclosure()
        start = tl.removed
        end = disclosed.at if disclosed is not None else END
        if end > start:
            out.append(RawFinding(
                "warning", address, None, [(start, end)],
                lambda m, g=goal, tl=tl: f"roadmap goal {g.id} ({g.area}) was removed from the roadmap in "
                                         f"version {tl.removed_in} without a `dropped` grade with a note "
                                         f"(an undisclosed change) — {g.title}",
                obligation="removed"))
    return out


def _graded(goal: RoadmapGoal, verb: str, grade: str, tl: GoalTimeline, moment: datetime) -> str:
    last = next((g for g in reversed(tl.grades) if g.at <= moment and g.status == grade), None)
    note = f": {last.note.strip()}" if last is not None and last.note.strip() else ""
    return f"roadmap goal {goal.id} ({goal.area}) {verb} on {iso(last.at) if last else '?'}{note} — {goal.title}"
