"""`holds` commitments: a condition over each model that must be true at all times.
An invariant that cannot be evaluated does not count as holding (precaution)."""

from __future__ import annotations

from mast.engine.context import Judgement, RawFinding, condition_timeline
from mast.engine.timeline import END, clip


def invariant_findings(j: Judgement) -> list[RawFinding]:
    out: list[RawFinding] = []
    for c in j.framework.commitments:
        if c.kind != "invariant" or c.holds is None:
            continue
        for view in j.models.values():
            broken = condition_timeline(j, view, c.holds, undecided=False).where(lambda v: not v)
            broken = clip(broken, j.facts.models[view.id].at, END)  # not before the model exists
            if broken:
                out.append(RawFinding(
                    "violation", c.id, view.id, broken,
                    lambda m, v=view.id, c=c: f"{v}: {c.id} does not hold ({c.holds})"))
    return out
