"""The JSON edition: the report model as JSON (schema: `report_json_schema()`, docs/reports.md)."""

from __future__ import annotations

import json

from mast.reports.model import Report, report_json_data


def render_json(report: Report) -> str:
    return json.dumps(report_json_data(report), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
