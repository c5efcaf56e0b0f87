"""`build_report(frameworks, records, audience, as_of, since) -> Report`: pure.

The report is built from the redacted view (`mast.reports.redaction.make_view`) and from the
assessment of that view, never from the workspace itself: what is above the edition's
audience is not there to leak.
"""

from __future__ import annotations

import importlib
from collections import Counter, defaultdict
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any, Sequence

from mast.engine import Assessment, assess
from mast.engine.facts import Facts
from mast.errors import InvalidInput
from mast.evidence.show import lines_of
from mast.framework.diff import Change, FrameworkDiff, diff_frameworks
from mast.framework.expressions import parse_expression
from mast.framework.model import Framework
from mast.framework.versions import framework_in_force, in_effect_order
from mast.reports import model as m
from mast.reports.redaction import SECTIONS, View, Withheld, counts, make_view, redact_framework
from mast.vocabulary import Audience

#: at most this many score charts in an edition (the most severe first)
MAX_CHARTS = 24
GATING = ("not_ruled_out", "crossed")
_SAFEGUARD_RANK = {"absent": 0, "partial": 1, "implemented": 2}
_STATUS_ORDER = {"crossed": 0, "not_ruled_out": 1, "ruled_out": 2, "untested": 3}


def build_report(frameworks: Sequence[Framework], records: Sequence[Any], audience: Audience | str,
                 as_of: datetime, since: datetime | None = None) -> m.Report:
    """The Risk Report for `audience` as of `as_of`, covering the period from `since` (default:
    the end of the previous report's period, else the first framework's `effective`)."""
    if as_of.tzinfo is None:
        raise InvalidInput("--as-of: expected a time with a zone")
    view = make_view(frameworks, records, audience)
    if not view.frameworks:
        raise InvalidInput("no framework published yet: run `mast framework publish FILE --approve ROLE=NAME`")
    facts = Facts(view.records, as_of)
    period_from = since if since is not None else previous_report_end(facts, view.frameworks, as_of)
    if period_from > as_of:
        raise InvalidInput(f"--since: {period_from.isoformat()} is after --as-of {as_of.isoformat()}")
    assessment = assess(view.frameworks, view.records, as_of, history=True)
    fw = framework_in_force(view.frameworks, as_of)
    assert fw is not None
    markers = _markers(view)
    findings = _findings(assessment, period_from)
    landscape = _landscape(facts, assessment, findings, period_from)
    roadmap, roadmap_changes = _roadmap(view, as_of, period_from)
    changes = _changes(view, frameworks, facts, period_from, as_of)
    changes.changes = sorted(changes.changes + roadmap_changes, key=lambda c: c.at)
    problems = []
    if landscape.missing:
        problems.append(m.ReportProblem(
            "missing-statement",
            "this report must include a statement on the competitive landscape and the steps taken to inform "
            "the public and policymakers (" + "; ".join(landscape.reasons) + "), and no `statement` record "
            "with topic competitive-landscape was made in the period"))
    report = m.Report(
        schema_version=m.SCHEMA_VERSION,
        title=f"{fw.framework.title} — Risk Report",
        audience=view.audience.value,
        as_of=as_of,
        period_from=period_from,
        period_to=as_of,
        framework={"id": fw.id, "version": fw.version, "title": fw.framework.title},
        scope=_scope(facts, assessment),
        thresholds=_thresholds(fw, facts, assessment),
        safeguards=_safeguards(fw, facts, assessment, as_of),
        findings=findings,
        changes=changes,
        revisions=_revisions(frameworks, records, view.audience, period_from, as_of),
        escapes=_escapes(fw, facts, period_from, as_of),
        landscape=landscape,
        reviews=_reviews(facts, period_from),
        roadmap=roadmap,
        problems=problems,
        withheld=counts(view.withheld),
    )
    for name in SECTIONS:
        section = getattr(report, name)
        section.withheld = markers.get(name, []) + section.withheld
        section.withheld_count = sum(x.count for x in section.withheld)
    report.withheld["roadmap"] = report.roadmap.withheld_count
    report.withheld = _insert_after(report.withheld, "changes", "revisions", report.revisions.withheld_count)
    return report


def _insert_after(counts_: dict[str, int], after: str, key: str, value: int) -> dict[str, int]:
    """`counts_` with `key: value` placed right after `after` (the header lists sections in order)."""
    out: dict[str, int] = {}
    for name, n in counts_.items():
        out[name] = n
        if name == after:
            out[key] = value
    return out


def previous_report_end(facts: Facts, frameworks: Sequence[Framework], as_of: datetime) -> datetime:
    reports = [r for r in facts.kind("report") if r.period.end <= as_of]
    if reports:
        return max(r.period.end for r in reports)
    return min(f.effective for f in frameworks)


def _markers(view: View) -> dict[str, list[m.Marker]]:
    grouped: Counter[tuple[str, str, str]] = Counter((w.section, w.kind, w.reason) for w in view.withheld)
    out: dict[str, list[m.Marker]] = defaultdict(list)
    for (section, kind, reason), n in sorted(grouped.items()):
        out[section].append(m.Marker(kind, reason, n))
    return out


# -- scope -----------------------------------------------------------------------------------

def _scope(facts: Facts, assessment: Assessment) -> m.ScopeSection:
    stages: dict[str, list[m.StageChange]] = defaultdict(list)
    for r in facts.kind("stage"):
        stages[r.model].append(m.StageChange(r.stage.value, r.at))
    children: dict[str, list[str]] = defaultdict(list)
    for mid, rec in facts.models.items():
        if rec.parent:
            children[rec.parent].append(mid)
    entries = []
    for state in assessment.models:
        rec = facts.models.get(state.id)
        entries.append(m.ModelEntry(id=state.id, name=rec.name if rec else state.id, stage=state.stage,
                                    parent=state.parent, children=sorted(children.get(state.id, [])),
                                    stages=stages.get(state.id, [])))
    return m.ScopeSection(models=entries)


# -- thresholds ------------------------------------------------------------------------------

def _thresholds(fw: Framework, facts: Facts, assessment: Assessment) -> m.ThresholdSection:
    best = {mid: _best_scores(evals) for mid, evals in facts.evals.items()}
    states = {ms.id: {x.id: x for x in ms.thresholds} for ms in assessment.models}
    domains: dict[str, m.Domain] = {}
    candidates: list[tuple[int, str, str, m.ModelThreshold]] = []
    lines_by: dict[str, list[m.IndicatorLine]] = {}
    for t in fw.thresholds:
        pairs: set[tuple[str, str]] = set()
        lines: list[m.IndicatorLine] = []
        for level, text in t.indicators.levels():
            pairs |= set(parse_expression(text).scores)
            lines += [m.IndicatorLine(level, x.task, x.metric, x.op, x.value) for x in lines_of(text)]
        lines_by[t.id] = lines
        listed: list[m.ModelThreshold] = []
        tally: Counter[str] = Counter()
        others: dict[str, list[str]] = defaultdict(list)
        for state in assessment.models:
            ts = states[state.id].get(t.id)
            status = ts.status if ts else "untested"
            tally[status] += 1
            dets = facts.determinations.get((state.id, t.id), [])
            if status not in GATING and not dets:
                others[status].append(state.id)
                continue
            det = dets[-1] if dets else None
            scores = best.get(state.id, {})
            evidence = [_score(scores.get(p), p) for p in sorted(pairs)]
            entry = m.ModelThreshold(
                model=state.id, status=status, basis=ts.basis if ts else None, since=ts.since if ts else None,
                evidence=evidence,
                determination=m.Determination(det.status, det.at, det.rationale, dict(det.approved_by)) if det else None)
            listed.append(entry)
            candidates.append((_STATUS_ORDER[status], state.id, t.id, entry))
        listed.sort(key=lambda x: (_STATUS_ORDER[x.status], x.model))
        entry_t = m.ThresholdEntry(
            id=t.id, title=t.title, description=t.description,
            indicators={level: text for level, text in t.indicators.levels()}, lines=lines,
            requires=[{"standard": r.standard, "before": r.before.value} for r in t.requires],
            recommendations=[{"standard": r.standard, "before": r.before.value} for r in t.recommendations],
            models=listed, counts=dict(tally), others=dict(others))
        domains.setdefault(t.domain, m.Domain(t.domain)).thresholds.append(entry_t)
    candidates.sort(key=lambda c: c[:3])
    charts = []
    for _, model_id, tid, entry in candidates[:MAX_CHARTS]:
        chart = _chart(facts, model_id, tid, entry.status, lines_by[tid])
        if chart.series:
            charts.append(chart)
    return m.ThresholdSection(domains=list(domains.values()), charts=charts,
                              charts_omitted=max(0, len(candidates) - MAX_CHARTS))


def _best_scores(evals: Sequence[Any]) -> dict[tuple[str, str], tuple[float, Any, int]]:
    """(task, metric) -> (best value, the eval that recorded it first, number of evals): as
    `mast.evidence.show.best_scores`, without naming sources until a row is shown."""
    best: dict[tuple[str, str], tuple[float, Any, int]] = {}
    for record in evals:
        for metric, value in record.metrics.items():
            key = (record.task, metric)
            old = best.get(key)
            if old is None or value > old[0]:
                best[key] = (value, record, (old[2] if old else 0) + 1)
            else:
                best[key] = (old[0], old[1], old[2] + 1)
    return best


def _source(record: Any) -> str | None:
    if record.source is not None:
        return f"{record.source.path} ({record.source.format})" if record.source.path else record.source.format
    return f"record {record.ref}" if record.ref else None


def _score(best: tuple[float, Any, int] | None, pair: tuple[str, str]) -> m.Score:
    if best is None:
        return m.Score(pair[0], pair[1], None)
    value, record, count = best
    return m.Score(pair[0], pair[1], value, record.at, _source(record), count)


def _chart(facts: Facts, model_id: str, threshold: str, status: str, lines: list[m.IndicatorLine]) -> m.Chart:
    pairs = sorted({(x.task, x.metric) for x in lines})
    evals = facts.evals.get(model_id, [])
    series = []
    for task, metric in pairs:
        points = [m.Point(e.at, float(e.metrics[metric])) for e in evals if e.task == task and metric in e.metrics]
        if points:
            series.append(m.Series(task, metric, points))
    return m.Chart(model_id, threshold, status, series, lines)


# -- safeguards ------------------------------------------------------------------------------

def _safeguards(fw: Framework, facts: Facts, assessment: Assessment, as_of: datetime) -> m.SafeguardSection:
    required_by: dict[str, list[dict[str, str]]] = defaultdict(list)
    for t in fw.thresholds:
        for r in t.requires:
            required_by[r.standard].append({"threshold": t.id, "before": r.before.value})
    standards = []
    for s in fw.standards:
        entries = []
        for g in s.safeguards:
            address = f"{s.id}/{g.id}"
            recs = facts.safeguards.get(address, [])
            general = [r for r in recs if not r.scope]
            latest = general[-1] if general else None
            scoped: dict[str, str] = {}
            for r in recs:
                if r.scope:
                    scoped[r.scope] = r.status
            entries.append(m.SafeguardEntry(
                id=address, title=g.title, status=latest.status if latest else "unrecorded",
                since=latest.at if latest else None, note=latest.note if latest else None, scoped=scoped))
        standards.append(m.StandardEntry(s.id, s.title, required_by.get(s.id, []), entries))
    gaps = [m.Gap(ms.id, st.id, st.required_before, list(st.missing), list(st.exempted))
            for ms in assessment.models for st in ms.standards if st.status == "unmet" or st.exempted]
    exemptions = [m.ExemptionEntry(r.safeguard, r.scope, r.reason, r.at, r.expires, dict(r.approved_by))
                  for r in facts.kind("exemption") if r.at <= as_of < r.expires]
    return m.SafeguardSection(standards=standards, gaps=gaps, exemptions=exemptions)


# -- findings --------------------------------------------------------------------------------

def _finding(f: Any) -> m.FindingEntry:
    return m.FindingEntry(f.kind, f.commitment, f.since, f.message, f.model, f.standard, f.until, f.due)


def _findings(assessment: Assessment, period_from: datetime) -> m.FindingSection:
    current = [_finding(f) for f in assessment.findings if f.until is None]
    period = [_finding(f) for f in assessment.findings if f.until is not None and f.until > period_from]
    return m.FindingSection(summary=dict(assessment.summary), current=current, period=period)


# -- changes since the previous report -------------------------------------------------------

def _changes(view: View, frameworks: Sequence[Framework], facts: Facts, start: datetime,
             end: datetime) -> m.ChangeSection:
    """What happened in (start, end]. A safeguard the edition saw in a version and not in the
    next is "removed" only if the whole next version lacks it too: one merely withheld from
    the edition now (its audience raised) is a withheld change of "Framework revisions"."""
    out: list[m.Change] = []
    whole = {(f.id, f.version): f for f in frameworks}

    def within(at: datetime) -> bool:
        return start < at <= end

    versions = in_effect_order(view.frameworks)
    for i, fw in enumerate(versions):
        if not within(fw.effective):
            continue
        notes = "; ".join(c.text for c in fw.framework.changelog) or "no changelog"
        out.append(m.Change("framework-revision", fw.effective,
                            f"{fw.id} {fw.version} took effect: {notes}", subject=fw.version))
        if i:
            for address in sorted(versions[i - 1].safeguard_ids() - whole[(fw.id, fw.version)].safeguard_ids()):
                out.append(m.Change("safeguard-removed", fw.effective,
                                    f"{address} is no longer in the framework ({fw.id} {fw.version})",
                                    subject=address))
    last: dict[tuple[str, str | None], str] = {}
    for r in facts.kind("safeguard"):
        key = (r.safeguard, r.scope)
        before = last.get(key)
        last[key] = r.status
        if not within(r.at):
            continue
        where = f" for {r.scope}" if r.scope else ""
        was = f" (was {before})" if before else ""
        withdrawn = before is not None and _SAFEGUARD_RANK[r.status] < _SAFEGUARD_RANK[before]
        note = f": {r.note}" if r.note else ""
        out.append(m.Change("safeguard-withdrawn" if withdrawn else "safeguard-change", r.at,
                            f"{r.safeguard}{where} is {r.status}{was}{note}", model=r.scope, subject=r.safeguard))
    for r in facts.kind("exemption"):
        where = f" for {r.scope}" if r.scope else " for all models"
        if within(r.at):
            by = ", ".join(f"{k}: {v}" for k, v in r.approved_by.items())
            out.append(m.Change("exemption-granted", r.at,
                                f"exemption from {r.safeguard}{where} until {r.expires.isoformat()}: {r.reason}"
                                + (f" (approved by {by})" if by else ""), model=r.scope, subject=r.safeguard))
        if within(r.expires):
            out.append(m.Change("exemption-expired", r.expires, f"the exemption from {r.safeguard}{where} expired",
                                model=r.scope, subject=r.safeguard))
    for r in facts.kind("determination"):
        if within(r.at):
            out.append(m.Change("determination", r.at, f"{r.threshold} for {r.model}: {r.status} — {r.rationale}",
                                model=r.model, subject=r.threshold))
    for r in facts.kind("incident"):
        if within(r.at):
            out.append(m.Change("incident", r.at, f"{r.severity} incident: {r.description}", model=r.model))
    for r in facts.kind("stage"):
        if within(r.at):
            out.append(m.Change("stage", r.at, f"{r.model} entered {r.stage.value}", model=r.model))
    for r in facts.kind("escape"):
        if within(r.at):
            out.append(m.Change("escape", r.at, f"escape clause {r.clause} invoked for {', '.join(r.models())}",
                                subject=r.clause))
    for r in facts.kind("notice"):
        if within(r.at):
            out.append(m.Change("notice", r.at, f"notice to {r.to}: {r.text}", model=r.model, subject=r.about))
    for r in facts.kind("report"):
        if within(r.at) and r.period.end > start:  # not the previous report itself
            out.append(m.Change("report", r.at, f"{r.edition.value} Risk Report published (sha256 {r.sha256[:16]}…)",
                                subject=r.sha256))
    out.sort(key=lambda c: c.at)
    return m.ChangeSection(changes=out)


# -- framework revisions in the period ------------------------------------------------------

#: the marker kind of a revision's change withheld from an edition
WITHHELD_CHANGE = "framework change"


def _revisions(frameworks: Sequence[Framework], records: Sequence[Any], audience: Audience,
               start: datetime, end: datetime) -> m.RevisionSection:
    """Every version whose `framework` record's `at` is in (start, end], with its diff against
    the version published before it (log order).

    Redaction by construction: the changes shown are those of the diff between the two
    versions as redacted for `audience` (`redact_framework`), so no value, reason or id above
    the audience is there to show. A change about an element above the audience in either
    version (its audience raised or lowered across it included) is not shown; it is counted,
    from the diff of the whole versions, in a marker with the element's redaction reason.
    """
    by_key = {(f.id, f.version): f for f in frameworks}
    published = [(r, key) for r in records if r.kind == "framework" and (key := _version_key(r)) in by_key]
    out: list[m.Revision] = []
    for i, (record, key) in enumerate(published):
        if not start < record.at <= end:
            continue
        new = by_key[key]
        shown_new, gone_new = redact_framework(new, audience)
        revision = m.Revision(
            framework=new.id, version=new.version, title=shown_new.framework.title, published_at=record.at,
            effective=new.effective, approved_by=dict(record.approved_by),
            emergency=getattr(record, "emergency", None),
            changelog=[entry.text for entry in shown_new.framework.changelog])
        if i:
            old = by_key[published[i - 1][1]]
            shown_old, gone_old = redact_framework(old, audience)
            gone = {**gone_old, **gone_new}
            acknowledged = {a for entry in shown_new.framework.changelog for a in entry.acknowledges}
            visible = tuple(c for c in diff_frameworks(shown_old, shown_new).changes if _withheld_by(c, gone) is None)
            hidden = Counter(reason for c in diff_frameworks(old, new).changes
                             if (reason := _withheld_by(c, gone)) is not None)
            shown = FrameworkDiff((old.id, old.version), (new.id, new.version), visible)
            revision.previous = {"id": old.id, "version": old.version}
            revision.summary = shown.summary()
            revision.counts = dict(shown.counts())
            revision.changes = [_revision_change(c, acknowledged) for c in visible]
            revision.withheld = [m.Marker(WITHHELD_CHANGE, reason, n) for reason, n in sorted(hidden.items())]
            revision.withheld_count = sum(hidden.values())
        out.append(revision)
    totals: Counter[str] = Counter()
    for revision in out:
        for marker in revision.withheld:
            totals[marker.reason] += marker.count
    section = m.RevisionSection(revisions=out)
    section.withheld = [m.Marker(WITHHELD_CHANGE, reason, n) for reason, n in sorted(totals.items())]
    section.withheld_count = sum(totals.values())
    return section


def _version_key(record: Any) -> tuple[str | None, str | None]:
    """(framework id, version) of a `framework` record, whole or naming its document by hash."""
    if record.framework is not None:
        info = record.framework.get("framework", {})
        return info.get("id"), info.get("version")
    return record.id, record.version


def _withheld_by(change: Change, gone: dict[str, str]) -> str | None:
    """The redaction reason of the withheld element `change` is about — by its id or old id
    (a safeguard by its standard too), or by a segment of its field (a requirement naming a
    withheld standard) — or None when it is about nothing withheld."""
    names = [change.id, change.id.split("/", 1)[0]]
    if change.old_id:
        names += [change.old_id, change.old_id.split("/", 1)[0]]
    if change.field:
        names += change.field.split(".")
    return next((gone[n] for n in names if n in gone), None)


def _revision_change(c: Change, acknowledged: set[str]) -> m.RevisionChange:
    return m.RevisionChange(id=c.id, element=c.element, change=c.change, field=c.field, old=c.old, new=c.new,
                            reason=c.reason, old_id=c.old_id, weakens=c.weakens,
                            acknowledged=c.acknowledged_by(acknowledged) if c.weakens else None)


# -- escapes, landscape, reviews, roadmap ----------------------------------------------------

def _escapes(fw: Framework, facts: Facts, start: datetime, as_of: datetime) -> m.EscapeSection:
    out = []
    for r in facts.kind("escape"):
        in_force = r.until is None or r.until > as_of
        if not in_force and r.until is not None and r.until <= start:
            continue
        names = facts.names(r)
        notified = sorted({n.to for n in facts.kind("notice") if n.about in names})
        clause = fw.escape_clause(r.clause)
        required = list(clause.notify) if clause else []
        out.append(m.EscapeEntry(r.clause, r.models(), r.rationale, r.at, r.until, notified,
                                 [x for x in required if x not in notified], in_force))
    return m.EscapeSection(escapes=out)


def _landscape(facts: Facts, assessment: Assessment, findings: m.FindingSection,
               start: datetime) -> m.LandscapeSection:
    reasons = []
    for f in findings.current + findings.period:
        if f.kind == "escape":
            reasons.append(f"{f.model}: the {f.commitment} gate ({f.standard}) is under an escape clause")
    deployed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for state in assessment.models:
        if state.stage == "deployed":
            for t in state.thresholds:
                if t.status in GATING:
                    deployed[(t.id, t.status)].append(state.id)
    for (tid, status), models in deployed.items():
        who = f"{models[0]} is" if len(models) == 1 else f"{len(models)} models are"
        reasons.append(f"{who} deployed with {tid} {status.replace('_', ' ')}"
                       + (f" ({', '.join(models)})" if len(models) > 1 else ""))
    reasons = list(dict.fromkeys(reasons))
    statements = [m.Statement(r.topic, r.at, r.text, r.models()) for r in facts.kind("statement") if r.at > start]
    required = bool(reasons)
    missing = required and not any(s.topic == "competitive-landscape" for s in statements)
    return m.LandscapeSection(required=required, reasons=reasons, statements=statements, missing=missing)


def _reviews(facts: Facts, start: datetime) -> m.ReviewSection:
    return m.ReviewSection(reviews=[m.ReviewEntry(r.reviewer, r.report, r.verdict, r.text, r.at)
                                    for r in facts.kind("review") if r.at > start])


def _roadmap(view: View, as_of: datetime, start: datetime) -> tuple[m.RoadmapSlot, list[m.Change]]:
    """The Roadmap section, from `mast.reports.roadmap.roadmap_section(records, as_of, since,
    audience=...)` (given the same redacted view) once that module exists; and its changes in
    the period (missed and dropped goals, new versions) for "changes since"."""
    try:
        module = importlib.import_module("mast.reports.roadmap")
    except ImportError:
        return m.RoadmapSlot(), []
    fn = getattr(module, "roadmap_section", None)
    if fn is None:
        return m.RoadmapSlot(), []
    section = fn(view.records, as_of, start, audience=view.audience)
    if section is None:
        return m.RoadmapSlot(), []
    changes = [m.Change("roadmap", c.at, c.text + ("" if getattr(c, "disclosed", True) else " (undisclosed)"),
                        subject=getattr(c, "goal", None))
               for c in getattr(section, "changes", []) if start < c.at <= as_of]
    for goal in getattr(section, "missed", []):
        target = getattr(goal, "target", None)
        if target is not None and start < target <= as_of:
            changes.append(m.Change("roadmap-missed", target, f"goal {goal.id} ({goal.title}) missed its target",
                                    subject=goal.id))
    data = asdict(section) if is_dataclass(section) else dict(section)
    extra = int(getattr(section, "withheld", 0) or 0)
    slot = m.RoadmapSlot(available=True, data=_jsonable(data))
    slot.withheld_count = extra
    if extra:
        slot.withheld = [m.Marker("roadmap goal or grade", "unstated", extra)]
    return slot, changes


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, float, bool)):
        return value.value
    return value


__all__ = ["MAX_CHARTS", "Withheld", "build_report", "previous_report_end"]
