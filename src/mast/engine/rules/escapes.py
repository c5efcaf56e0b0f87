"""Escape clauses (DESIGN §4): an invoked clause turns gate violations into `escape` findings,
provided its notices are made in time; otherwise the clause itself is violated."""

from __future__ import annotations

from datetime import datetime, timedelta

from mast.engine.context import DUE_WINDOW_DAYS, Judgement, RawFinding
from mast.engine.timeline import END, Intervals, intersect, normalize, subtract
from mast.vocabulary import iso


def apply_escapes(j: Judgement, gate_findings: list[RawFinding]) -> list[RawFinding]:
    """Split gate violations into those protected by an escape and the rest, and add the
    clauses' own `due`/`violation` findings for their notices."""
    protected: dict[str, Intervals] = {}
    clause_findings: list[RawFinding] = []
    as_of = j.facts.as_of
    for escape in j.facts.escapes:
        clause_id = j.names.resolve("escape_clause", escape.clause, escape.at)  # maybe renamed since
        clause = j.framework.escape_clause(clause_id) if clause_id else None
        if clause is None:
            continue
        names = j.facts.names(escape)
        deadline = clause.within.after(escape.at)
        made: dict[str, datetime] = {}
        for notice in j.facts.kind("notice"):
            if notice.about in names and notice.to in clause.notify and notice.to not in made:
                made[notice.to] = notice.at
        missing = [t for t in clause.notify if t not in made]
        complete = END if missing else max(made.values())
        window_end = escape.until or END
        if complete <= deadline or deadline > as_of:
            start = escape.at  # in time, or still within the grace period
        else:
            start = complete  # late notices protect only from when they were all made
        for model in escape.models():
            protected[model] = normalize(protected.get(model, []) + [(start, window_end)])
        label = escape.ref or j.facts.id_of(escape)[:12]
        if min(complete, deadline) > escape.at:
            due_from = max(escape.at, deadline - timedelta(days=DUE_WINDOW_DAYS))
            clause_findings.append(RawFinding(
                "due", clause.id, None, [(due_from, min(complete, deadline))],
                lambda m, label=label, clause=clause, deadline=deadline, made=made:
                    f"notices for escape {label} are due by {iso(deadline)}: "
                    f"{', '.join(t for t in clause.notify if t not in made or made[t] > m)} not yet notified",
                due=deadline, obligation=label))
        if complete > deadline:
            clause_findings.append(RawFinding(
                "violation", clause.id, None, [(deadline, complete)],
                lambda m, label=label, clause=clause, deadline=deadline, made=made:
                    f"escape {label} under {clause.id}: "
                    f"{', '.join(t for t in clause.notify if t not in made or made[t] > m)} not notified "
                    f"within {clause.within} (due {iso(deadline)})",
                due=deadline, obligation=label))

    out: list[RawFinding] = []
    for f in gate_findings:
        cover = protected.get(f.model or "", [])
        if not cover:
            out.append(f)
            continue
        under = intersect(f.spans, cover)
        rest = subtract(f.spans, cover)
        if rest:
            out.append(RawFinding(f.kind, f.commitment, f.model, rest, f.describe, f.standard, f.due, f.obligation))
        if under:
            out.append(RawFinding("escape", f.commitment, f.model, under,
                                  lambda m, d=f.describe: f"{d(m)} — under an invoked escape clause",
                                  f.standard, f.due, f.obligation))
    return out + clause_findings
