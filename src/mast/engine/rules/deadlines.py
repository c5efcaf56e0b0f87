"""Deadlines (`after`+`within`) and cadences (`every`), DESIGN §4."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mast.engine.cel import Undecided, compile_expression, holds
from mast.engine.context import DUE_WINDOW_DAYS, Judgement, RawFinding
from mast.engine.rules._match import action_records
from mast.engine.timeline import END
from mast.framework.expressions import parse_expression
from mast.vocabulary import iso

DUE = timedelta(days=DUE_WINDOW_DAYS)


class _RecordContext:
    """CEL context for `where`: the trigger record's fields are the variables."""

    def __init__(self, variables: dict[str, Any]):
        self.variables = variables

    def score(self, task: str, metric: str) -> float:
        raise Undecided("score() is not available in where")

    def threshold(self, threshold_id: str) -> str:
        raise Undecided("threshold() is not available in where")


def _obligation(commitment: str, model: str | None, opened: datetime, deadline: datetime,
                done: datetime, what: str, label: str) -> list[RawFinding]:
    """`due` in the last 14 days before `deadline`, `overdue` after it, until `done`."""
    out = []
    due_from = max(opened, deadline - DUE)
    if due_from < min(done, deadline):
        out.append(RawFinding("due", commitment, model, [(due_from, min(done, deadline))],
                              lambda m: f"{what} is due by {iso(deadline)}", due=deadline, obligation=label))
    if deadline < done:
        out.append(RawFinding("overdue", commitment, model, [(deadline, done)],
                              lambda m: f"{what} was due by {iso(deadline)}", due=deadline, obligation=label))
    return out


def _answers_another(j: Judgement, response: Any, commitment_id: str) -> bool:
    """A response `about` something other than this commitment (by any id it has had)
    answers that, not this one."""
    about = getattr(response, "about", None)
    return about is not None and j.names.resolve("commitment", about, response.at) != commitment_id


def deadline_findings(j: Judgement, first_effective: datetime) -> list[RawFinding]:
    out: list[RawFinding] = []
    facts = j.facts
    for c in j.framework.commitments:
        if c.kind != "deadline" or c.after is None or c.within is None:
            continue
        where = compile_expression(parse_expression(c.where)) if c.where else None
        responses = action_records(facts, c)
        elsewhere = [_answers_another(j, r, c.id) for r in responses]
        used: set[int] = set()
        # a promise binds the events that happen while it is in force: from the `effective`
        # of the earliest consecutive version that has it (the first version's, usually)
        since = j.anchors.get(c.id, first_effective)
        for trigger in facts.kind(c.after):
            if trigger.at < since:
                continue  # before this commitment was in force
            if where is not None and not holds(where, _RecordContext(j.names.variables(trigger)), undecided=True):
                continue
            names = facts.names(trigger)
            models = trigger.models()
            done_record = next((r for r in responses if getattr(r, "about", None) in names and r.at >= trigger.at), None)
            if done_record is None:
                for i, r in enumerate(responses):
                    if i in used or r.at < trigger.at or elsewhere[i]:
                        continue
                    named = r.models()
                    if named and models and not set(named) & set(models):
                        continue
                    done_record = r
                    used.add(i)
                    break
            done = done_record.at if done_record is not None else END
            label = trigger.ref or facts.id_of(trigger)[:12]
            model = models[0] if models else None
            to = f" to {c.to}" if c.to else ""
            what = f"the {c.action}{to} after {c.after} {label}"
            out += _obligation(c.id, model, trigger.at, c.within.after(trigger.at), done, what, label)
    return out


def cadence_findings(j: Judgement) -> list[RawFinding]:
    out: list[RawFinding] = []
    for c in j.framework.commitments:
        if c.kind != "cadence" or c.every is None:
            continue
        anchor = j.anchors.get(c.id, j.framework.effective)
        actions = [r.at for r in action_records(j.facts, c) if r.at > anchor]
        last = anchor
        for nxt in actions + [END]:
            deadline = c.every.after(last)
            label = iso(deadline)
            out += _obligation(c.id, None, last, deadline, nxt,
                               f"the {c.action} every {c.every} ({c.id})", label)
            last = nxt
            if nxt == END:
                break
    return out
