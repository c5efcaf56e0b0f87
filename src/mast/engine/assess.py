"""`assess(framework, records, as_of) -> Assessment`: the engine's one entry point.

Pure: no I/O, no clock. Each framework version judges the moments it was in force (from its
`effective` to the next version's); the rules compute, for every promise, the intervals of
time in which it is broken, and findings are those intervals as seen from `as_of`: current
ones contain `as_of`, resolved ones (`history=True`) ended before it. Each version reads the
records in its own ids, following renames (`mast.engine.renames`), and a finding that
continues across versions is one finding, named by its element's latest id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from mast.gcpause import gc_paused
from mast.engine.assessment import (
    FINDING_KINDS,
    Assessment,
    Finding,
    FrameworkRef,
    ModelState,
    StandardState,
    ThresholdState,
)
from mast.engine.context import Judgement, RawFinding
from mast.engine.facts import Facts
from mast.engine.renames import Lineages
from mast.engine.rules.deadlines import cadence_findings, deadline_findings
from mast.engine.rules.determinations import determination_findings, exemption_findings
from mast.engine.rules.escapes import apply_escapes
from mast.engine.rules.gates import commitment_gates, threshold_gates
from mast.engine.rules.invariants import invariant_findings
from mast.engine.rules.roadmap import roadmap_findings
from mast.engine.timeline import END, clip
from mast.framework.model import Framework
from mast.framework.versions import in_effect_order
from mast.vocabulary import Stage

_KIND_ORDER = {k: i for i, k in enumerate(FINDING_KINDS)}


def assess(
    framework: Framework | Sequence[Framework],
    records: Sequence[Any],
    as_of: datetime,
    *,
    history: bool = False,
    roadmaps: Sequence[Any] | None = None,
) -> Assessment:
    """Judge `records` against the framework version(s) as of `as_of`.

    `framework` is one version or every published version (any order); `records` are in log
    order (ties in time keep it). Records after `as_of` are ignored, as are `framework`
    records (pass versions explicitly). Callers may rely on findings being sorted by kind
    (violation first), then model, commitment and time.

    `roadmaps` are the Roadmap versions to judge (`mast.records.kinds.Roadmap`); by default
    those that `roadmap_version` records among `records` published (at or before `as_of`).
    Pass `()` to judge none. Roadmap findings are warnings only (docs/roadmap.md).
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must carry a zone")
    # The engine allocates many small, acyclic objects; the cyclic collector would scan the
    # caller's (large) record list over and over for nothing. Nothing here creates cycles.
    with gc_paused():
        return _assess(framework, records, as_of, history, roadmaps)


def _assess(framework: Framework | Sequence[Framework], records: Sequence[Any], as_of: datetime,
            history: bool, roadmaps: Sequence[Any] | None = None) -> Assessment:
    versions = in_effect_order([framework] if isinstance(framework, Framework) else framework)
    if not versions:
        raise ValueError("assess needs at least one framework version")
    facts = Facts(records, as_of)
    in_force = [v for v in versions if v.effective <= as_of] or versions[:1]
    lineages = Lineages(in_force)
    current: Judgement | None = None
    raw: list[tuple[tuple, RawFinding]] = []
    anchors: dict[str, datetime] = {}
    first_effective = versions[0].effective
    for i, version in enumerate(versions):
        if version.effective > as_of:
            break
        carried: dict[str, datetime] = {}
        for c in version.commitments:  # a commitment kept, or renamed, keeps its clock
            before = lineages.previous_id(i, "commitment", c.id)
            carried[c.id] = anchors[before] if before in anchors else version.effective
        anchors = carried
        judgement = Judgement.build(version, facts, dict(anchors), lineages.names(i))
        window_end = versions[i + 1].effective if i + 1 < len(versions) else END
        judged = []
        for f in _judge(judgement, first_effective):
            spans = clip(f.spans, version.effective, window_end)
            if spans:
                f.spans = spans
                judged.append(f)
        raw += lineages.keyed(i, judged)
        current = judgement
    if current is None:  # as_of precedes every version: show statuses, judge nothing
        current = Judgement.build(in_force[0], facts, {}, lineages.names(0))
    if roadmaps is None:
        roadmaps = [r.roadmap for r in facts.kind("roadmap_version")]
    if roadmaps:
        raw += [(f.key, f) for f in roadmap_findings(roadmaps, facts.kind("roadmap"))]
    findings = _findings(raw, as_of, history)
    summary = {k: 0 for k in FINDING_KINDS}
    for f in findings:
        if f.until is None:
            summary[f.kind] += 1
    return Assessment(
        as_of=as_of,
        framework=FrameworkRef(id=current.framework.id, version=current.framework.version),
        models=_model_states(current, as_of),
        findings=findings,
        summary=summary,
    )


def _judge(j: Judgement, first_effective: datetime) -> list[RawFinding]:
    gates = threshold_gates(j) + commitment_gates(j)
    return (apply_escapes(j, gates) + determination_findings(j) + exemption_findings(j)
            + deadline_findings(j, first_effective) + cadence_findings(j) + invariant_findings(j))


def _findings(raw: list[tuple[tuple, RawFinding]], as_of: datetime, history: bool) -> list[Finding]:
    """Merge findings that continue across a change of version (equal keys), then cut them
    at `as_of`."""
    merged: dict[tuple, RawFinding] = {}
    for key, f in raw:
        if key in merged:
            prior = merged[key]
            prior.spans = sorted(prior.spans + f.spans)
            joined: list = []
            for s, e in prior.spans:
                if joined and s <= joined[-1][1]:
                    joined[-1] = (joined[-1][0], max(e, joined[-1][1]))
                else:
                    joined.append((s, e))
            prior.spans = joined
            prior.describe = f.describe
        else:
            merged[key] = f
    now, past = [], []
    for f in merged.values():
        for start, end in f.spans:
            if start > as_of:
                continue
            if end > as_of:
                now.append(_finding(f, start, None, f.describe(as_of)))
            elif history:
                past.append(_finding(f, start, end, f.describe(start)))

    def order(x: Finding) -> tuple:
        return (_KIND_ORDER[x.kind], x.model or "", x.commitment, x.since)

    return sorted(now, key=order) + sorted(past, key=lambda x: (x.until, x.since, x.commitment))


def _finding(f: RawFinding, since: datetime, until: datetime | None, message: str) -> Finding:
    return Finding(kind=f.kind, commitment=f.commitment, standard=f.standard, model=f.model,
                   since=since, until=until, due=f.due, message=message)


def _model_states(j: Judgement, as_of: datetime) -> list[ModelState]:
    out = []
    for model_id in sorted(j.models):
        view = j.models[model_id]
        stage = view.stage.value(as_of)
        thresholds = []
        # per standard: (binding now?, earliest gated stage); binding requirements win
        required: dict[str, tuple[bool, Stage]] = {}
        for ct in j.thresholds:
            steps = view.status[ct.threshold.id]
            status, basis = steps.value(as_of)
            since = steps.since(as_of) if status != "untested" else None
            thresholds.append(ThresholdState(id=ct.threshold.id, status=status, basis=basis, since=since))
            binding = status in ("not_ruled_out", "crossed")
            for req in ct.threshold.requires:
                prior = required.get(req.standard)
                if prior is None or (binding, -req.before.rank) > (prior[0], -prior[1].rank):
                    required[req.standard] = (binding, req.before)
        standards = []
        for standard_id, (binding, before) in sorted(required.items()):
            standard = j.framework.standard(standard_id)
            if standard is None:
                continue
            states = {f"{standard.id}/{g.id}": j.coverage.coverage(f"{standard.id}/{g.id}", model_id).value(as_of)
                      for g in standard.safeguards}
            missing = [a for a, s in states.items() if s == "missing"]
            exempted = [a for a, s in states.items() if s == "exempt"]
            status_text = ("unmet" if missing else "met") if binding else "not_required"
            standards.append(StandardState(id=standard_id, required_before=before.value, status=status_text,
                                           missing=missing, exempted=exempted))
        out.append(ModelState(id=model_id, stage=stage.value if stage else None, parent=view.parent,
                              thresholds=thresholds, standards=standards))
    return out
