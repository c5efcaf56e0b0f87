"""The HTML edition: Jinja2 (autoescaped) with print-friendly CSS and inline SVG charts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape
from importlib.resources import files
from typing import Any

from mast.reports import charts
from mast.reports.model import Report
from mast.vocabulary import minute


def _day(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d}"


def _when(value: datetime | None) -> str:
    return "—" if value is None else minute(value)


def generic_html(value: Any) -> str:
    """Plain data (a section another module provides) as HTML: dicts as definition lists,
    lists of dicts as tables; every string escaped."""
    if isinstance(value, dict):
        return "<dl>" + "".join(f"<dt>{escape(str(k))}</dt><dd>{generic_html(v)}</dd>" for k, v in value.items()) + "</dl>"
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value):
            keys = list(dict.fromkeys(k for v in value for k in v))
            head = "".join(f"<th>{escape(str(k))}</th>" for k in keys)
            rows = "".join("<tr>" + "".join(f"<td>{generic_html(v.get(k, ''))}</td>" for k in keys) + "</tr>"
                           for v in value)
            return f"<table><tr>{head}</tr>{rows}</table>"
        return ", ".join(generic_html(v) for v in value) or "—"
    return escape("—" if value is None else str(value))


#: lists longer than this are printed compactly (grouped findings, models as running text);
#: nothing is left out — the JSON edition has every row in full
COMPACT_OVER = 60


@dataclass(frozen=True)
class FindingGroup:
    kind: str
    commitment: str
    standard: str | None
    count: int
    since: datetime
    models: list[str]


def group_findings(rows: list[Any]) -> list[FindingGroup]:
    """Findings grouped by (kind, commitment, standard), in first-seen order, every model kept."""
    groups: dict[tuple, list[Any]] = {}
    for f in rows:
        groups.setdefault((f.kind, f.commitment, f.standard), []).append(f)
    return [FindingGroup(k[0], k[1], k[2], len(v), min(f.since for f in v),
                         [f.model or "all models" for f in v]) for k, v in groups.items()]


def compact_model(x: Any) -> str:
    """One model's status on a threshold as running text."""
    parts = [f"{x.model}: {x.status.replace('_', ' ')}"]
    if x.basis:
        parts.append(f" ({x.basis}{', since ' + _day(x.since) if x.since else ''})")
    scores = [f"{e.task}·{e.metric} {e.value:.3g}" for e in x.evidence if e.value is not None]
    if scores:
        parts.append(" — " + ", ".join(scores))
    if x.determination:
        d = x.determination
        parts.append(f"; determined {d.status.replace('_', ' ')} {_day(d.at)}: {d.rationale}")
    return "".join(parts)


def compact_groups(models: list[Any]) -> tuple[list[tuple[str, list[str]]], list[Any]]:
    """A long per-threshold list, compactly: models without a determination as ids grouped
    by status and basis (their evidence is in the JSON edition), and those with one, each."""
    groups: dict[str, list[str]] = {}
    determined = []
    for x in models:
        if x.determination is not None:
            determined.append(x)
        else:
            label = x.status.replace("_", " ") + (f" ({x.basis})" if x.basis else "")
            groups.setdefault(label, []).append(x.model)
    return list(groups.items()), determined


ROADMAP_COLUMNS = ("id", "area", "title", "target", "grade", "note")


def roadmap_rows(data: dict[str, Any]) -> list[list[str]]:
    """The Roadmap's goals as rows of ROADMAP_COLUMNS (+ a flags column), plain text."""
    rows = []
    for goal in data.get("goals", []):
        flags = [name.replace("_", " ") for name in ("missed", "dropped", "undisclosed_removal") if goal.get(name)]
        cells = [str(goal.get(c) or "—") for c in ROADMAP_COLUMNS]
        cells[3] = cells[3][:10]
        rows.append(cells + [", ".join(flags)])
    return rows


def roadmap_html(data: dict[str, Any] | None) -> str:
    if not data:
        return ""
    if "goals" not in data:
        return generic_html(data)
    head = "".join(f"<th>{c}</th>" for c in (*ROADMAP_COLUMNS, ""))
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row[:-1])
                   + f'<td class="problem">{escape(row[-1])}</td></tr>' for row in roadmap_rows(data))
    versions = ", ".join(f"{escape(str(v[0]))} {escape(str(v[1]))}" for v in data.get("versions", []))
    return (f'<p class="small">roadmap versions: {versions or "none"}</p>'
            f"<table><tr>{head}</tr>{body}</table>")


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("mast.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=False)
    env.filters.update(day=_day, when=_when, score_chart=charts.score_chart, roadmap_html=roadmap_html,
                       timeline=charts.findings_timeline, group_findings=group_findings,
                       compact_model=compact_model)
    env.globals.update(COMPACT_OVER=COMPACT_OVER, compact_groups=compact_groups)
    return env


def _css() -> str:
    return files("mast.reports").joinpath("templates/report.css").read_text(encoding="utf-8")


def render_html(report: Report) -> str:
    return _environment().get_template("risk.html.j2").render(r=report, css=_css())
