"""The Markdown edition (GitHub-flavoured tables), from a Jinja2 template without escaping:
every value goes through the `md` filter, which neutralises table pipes and newlines."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from mast.reports.model import Report
from mast.reports.render_html import (COMPACT_OVER, ROADMAP_COLUMNS, _day, _when, compact_groups, compact_model,
                                      group_findings,
                                      roadmap_rows)


def md(value: Any) -> str:
    text = " ".join(str(value).split())
    return text.replace("|", "\\|").replace("<", "&lt;")


def generic_md(value: Any) -> str:
    """The Roadmap's goals as a table; other data another module provides as fenced JSON."""
    if isinstance(value, dict) and "goals" in value:
        lines = ["| " + " | ".join((*ROADMAP_COLUMNS, "")) + " |", "|" + "---|" * (len(ROADMAP_COLUMNS) + 1)]
        lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in roadmap_rows(value)]
        return "\n".join(lines) + "\n"
    return "```json\n" + json.dumps(value, indent=2, ensure_ascii=False) + "\n```"


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("mast.reports", "templates"), autoescape=False,
                             keep_trailing_newline=True)
    env.filters.update(day=_day, when=_when, md=md, roadmap_md=generic_md, group_findings=group_findings,
                       compact_model=compact_model)
    env.globals.update(COMPACT_OVER=COMPACT_OVER, compact_groups=compact_groups)
    return env


def render_md(report: Report) -> str:
    return _environment().get_template("risk.md.j2").render(r=report)
