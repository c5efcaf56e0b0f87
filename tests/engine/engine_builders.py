"""Tiny frameworks and records for the engine tests.

Every test builds just what its rule needs:

    framework = fw(thresholds=[threshold("cbrn-3", nro='score("bio", "acc") >= 0.5')])
    records = [model("m1", "2025-01-01"), ev("m1", "bio", "2025-02-01", acc=0.7)]
    a = run(framework, records, "2025-03-01")
    assert state(a, "m1", "cbrn-3").status == "not_ruled_out"

Times are written as short ISO strings (`"2025-03-01"`, `"2025-03-01T12:00"`) and read as UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from mast.engine import Assessment, Finding, StandardState, ThresholdState, assess
from mast.framework.model import Framework
from mast.records.kinds import parse_record
from mast.vocabulary import UTC

EPOCH = "2025-01-01"
SHA = "0" * 64
US = timedelta(microseconds=1)


def t(text: str | datetime) -> datetime:
    """`"2025-03-01"` or `"2025-03-01T12:00"` -> that moment in UTC (datetimes pass through)."""
    if isinstance(text, datetime):
        return text
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------------- frameworks

def threshold(id: str = "cbrn-3", *, warning: str | None = None, nro: str | None = None,
              crossed: str | None = None, within: str | None = "P30D",
              requires: Iterable[tuple[str, str]] = (("asl3", "deployed"),), **extra: Any) -> dict:
    """A threshold; `requires` is (standard, before) pairs."""
    indicators = {k: v for k, v in (("warning", warning), ("not_ruled_out", nro), ("crossed", crossed)) if v}
    out: dict[str, Any] = {"id": id, "domain": "test", "indicators": indicators,
                           "requires": [{"standard": s, "before": b} for s, b in requires]}
    if within:
        out["determination_within"] = within
    out.update(extra)
    return out


def standard(id: str = "asl3", *safeguards: str) -> dict:
    return {"id": id, "safeguards": [{"id": g} for g in (safeguards or ("guard",))]}


#: the default threshold: not ruled out at bio/acc >= 0.5, an early warning at 0.3
CBRN = threshold("cbrn-3", warning='score("bio", "acc") >= 0.3', nro='score("bio", "acc") >= 0.5')


def fw(*, version: str = "1", effective: str = EPOCH, thresholds: list[dict] | None = None,
       standards: list[dict] | None = None, commitments: list[dict] | None = None,
       escape_clauses: list[dict] | None = None) -> Framework:
    """A framework: by default one threshold (`CBRN`) requiring standard `asl3` (one safeguard,
    `asl3/guard`) before `deployed`, and no commitments."""
    return Framework.model_validate({
        "mast": 1,
        "framework": {"id": "test-fw", "title": "Test framework", "version": version,
                      "effective": t(effective)},
        "thresholds": [CBRN] if thresholds is None else thresholds,
        "standards": [standard()] if standards is None else standards,
        "commitments": commitments or [],
        "escape_clauses": escape_clauses or [],
    })


# ---------------------------------------------------------------------------- records

def rec(kind: str, at: str | datetime, **fields: Any) -> Any:
    """Any record; keyword `models_` or `models` for an escape's models."""
    if "models_" in fields:
        fields["models"] = fields.pop("models_")
    return parse_record({"kind": kind, "at": t(at), **fields})


def model(id: str, at: str = EPOCH, parent: str | None = None, **fields: Any) -> Any:
    return rec("model", at, id=id, name=id, **({"parent": parent} if parent else {}), **fields)


def stage(m: str, s: str, at: str) -> Any:
    return rec("stage", at, model=m, stage=s)


def ev(m: str, task: str, at: str, **metrics: float) -> Any:
    return rec("eval", at, model=m, task=task, metrics=metrics)


def det(m: str, th: str, status: str, at: str, **fields: Any) -> Any:
    return rec("determination", at, model=m, threshold=th, status=status, rationale="because",
               approved_by={"rso": "Jane Roe"}, **fields)


def sg(address: str, status: str, at: str, scope: str | None = None) -> Any:
    return rec("safeguard", at, safeguard=address, status=status, **({"scope": scope} if scope else {}))


def exemption(address: str, at: str, expires: str, scope: str | None = None) -> Any:
    return rec("exemption", at, safeguard=address, reason="vendor delay", approved_by={"rso": "Jane Roe"},
               expires=t(expires), **({"scope": scope} if scope else {}))


def notice(to: str, at: str, about: str | None = None, **fields: Any) -> Any:
    return rec("notice", at, to=to, text="notified", **({"about": about} if about else {}), **fields)


def incident(at: str, ref: str | None = None, model: str | None = None, severity: str = "critical") -> Any:
    return rec("incident", at, severity=severity, description="something happened",
               **({"ref": ref} if ref else {}), **({"model": model} if model else {}))


def report(at: str, frm: str = EPOCH) -> Any:
    return rec("report", at, period={"from": t(frm), "to": t(at)}, edition="public", sha256=SHA)


def review(at: str, model: str | None = None) -> Any:
    return rec("review", at, reviewer="Ext Reviewer", report=SHA, verdict="ok", text="fine",
               signature="sig", **({"model": model} if model else {}))


def escape(clause: str, at: str, models: list[str], ref: str = "esc-1", until: str | None = None) -> Any:
    return rec("escape", at, clause=clause, models=models, rationale="competitor shipped", ref=ref,
               **({"until": t(until)} if until else {}))


def deployed_model(m: str = "m1", deployed_at: str = "2025-02-01", created: str = EPOCH) -> list[Any]:
    """A model created at `created` and deployed at `deployed_at`."""
    return [model(m, created), stage(m, "deployed", deployed_at)]


# ------------------------------------------------------------------------------ reading

def run(framework: Framework | list[Framework], records: list[Any], as_of: str | datetime,
        *, history: bool = False) -> Assessment:
    return assess(framework, records, t(as_of), history=history)


def state(a: Assessment, model_id: str, threshold_id: str = "cbrn-3") -> ThresholdState:
    m = next(m for m in a.models if m.id == model_id)
    return next(s for s in m.thresholds if s.id == threshold_id)


def standard_state(a: Assessment, model_id: str, standard_id: str = "asl3") -> StandardState:
    m = next(m for m in a.models if m.id == model_id)
    return next(s for s in m.standards if s.id == standard_id)


def found(a: Assessment, kind: str | None = None, *, current: bool | None = None, **match: Any) -> list[Finding]:
    """Findings of `kind` whose fields equal `match` (`current=True`: no `until`;
    `current=False`: resolved ones only)."""
    out = []
    for f in a.findings:
        if kind is not None and f.kind != kind:
            continue
        if current is True and f.until is not None:
            continue
        if current is False and f.until is None:
            continue
        if all(getattr(f, k) == (t(v) if k in ("since", "until", "due") and isinstance(v, str) else v)
               for k, v in match.items()):
            out.append(f)
    return out


def only(a: Assessment, kind: str | None = None, **match: Any) -> Finding:
    """The one finding matching; fails listing every finding otherwise."""
    hits = found(a, kind, **match)
    assert len(hits) == 1, f"expected one {kind} {match}, got {hits}\nall findings: {a.findings}"
    return hits[0]


def kinds(a: Assessment, *, current: bool = True) -> list[tuple[str, str, str | None]]:
    """(kind, commitment, model) of current findings (or all, with `current=False`)."""
    return [(f.kind, f.commitment, f.model) for f in a.findings if not current or f.until is None]
