"""The HTML edition: Jinja2 (autoescaped) with print-friendly CSS and inline SVG charts."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from html import escape
from importlib.resources import files
from typing import Any

from mast.reports import charts
from mast.reports.model import Report
from mast.vocabulary import iso


def _day(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d}"


def _when(value: datetime | None) -> str:
    return "—" if value is None else iso(value)[:16].replace("T", " ")


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


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("mast.reports", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=False)
    env.filters.update(day=_day, when=_when, score_chart=charts.score_chart, roadmap_html=generic_html,
                       timeline=charts.findings_timeline)
    return env


def _css() -> str:
    return files("mast.reports").joinpath("templates/report.css").read_text(encoding="utf-8")


def render_html(report: Report) -> str:
    return _environment().get_template("risk.html.j2").render(r=report, css=_css())
