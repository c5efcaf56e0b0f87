"""Gates: a threshold's `requires` and `before`+`when` commitments (DESIGN §4 "Gates")."""

from __future__ import annotations

from datetime import datetime

from mast.engine.context import Judgement, RawFinding, condition_timeline
from mast.engine.rules._match import action_records
from mast.engine.timeline import END, intersect, normalize

GATING = ("not_ruled_out", "crossed")


def threshold_gates(j: Judgement) -> list[RawFinding]:
    """A violation while a model is at the gated stage or later, the threshold is not ruled
    out, and some safeguard of the required standard neither is implemented nor exempted."""
    out: list[RawFinding] = []
    for ct in j.thresholds:
        threshold = ct.threshold
        for req in threshold.requires:
            standard = j.framework.standard(req.standard)
            if standard is None:
                continue
            addresses = [f"{standard.id}/{g.id}" for g in standard.safeguards]
            if not addresses:
                continue
            for view in j.models.values():
                status = view.status[threshold.id]
                binding = status.where(lambda s: s is not None and s[0] in GATING)
                if not binding:
                    continue
                spans = intersect(binding, view.at_stage(req.before))
                if spans:
                    spans = intersect(spans, j.coverage.unmet(addresses, view.id))
                if not spans:
                    continue

                def describe(moment: datetime, view=view, status=status, standard=standard,
                             addresses=addresses, threshold=threshold) -> str:
                    stage = view.stage.value(moment)
                    missing = [a for a in addresses if j.coverage.coverage(a, view.id).value(moment) == "missing"]
                    return (f"{view.id} is {stage.value if stage else 'staged'} while {standard.id} is unmet "
                            f"({threshold.id} is {status.value(moment)[0]}; missing {', '.join(missing)})")

                out.append(RawFinding("violation", threshold.id, view.id, spans, describe, standard=standard.id))
    return out


def commitment_gates(j: Judgement) -> list[RawFinding]:
    """`before`+`when`: once `when` holds, an `action` record is needed before the model is at
    the stage; while it is there without one, that is a violation (resolved by the record)."""
    out: list[RawFinding] = []
    for c in j.framework.commitments:
        if c.kind != "gate" or c.before is None or c.when is None:
            continue
        for view in j.models.values():
            staged = view.at_stage(c.before)
            if not staged:
                continue
            when = condition_timeline(j, view, c.when, undecided=True).where(lambda v: bool(v))
            if not when:
                continue
            actions = action_records(j.facts, c, view.id)
            spans = []
            for start, end in when:
                done = next((r.at for r in actions if r.at >= start), END)
                spans.extend(intersect(staged, [(start, min(end, done))]))
            spans = normalize(spans)
            if not spans:
                continue

            def describe(moment: datetime, view=view, c=c) -> str:
                stage = view.stage.value(moment)
                return (f"{view.id} is {stage.value if stage else 'staged'} without the {c.action} "
                        f"that {c.id} requires once {c.when}")

            out.append(RawFinding("violation", c.id, view.id, spans, describe))
    return out
