"""Builders for the framework diff tests: a small valid framework as plain data, edited per test."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from mast.framework.diff import FrameworkDiff, diff_frameworks
from mast.framework.loader import framework_from_data
from mast.framework.model import Framework

BIO = 'score("bio", "acc")'
CYBER = 'score("cyber", "acc")'

_BASE: dict[str, Any] = {
    "mast": 1,
    "framework": {"id": "lab", "title": "Lab Policy", "version": "1", "effective": "2025-05-14T00:00:00Z"},
    "thresholds": [
        {"id": "cbrn", "domain": "cbrn", "title": "CBRN uplift",
         "indicators": {"warning": f"{BIO} >= 0.5", "not_ruled_out": f"{BIO} >= 0.6"},
         "determination_within": "P30D",
         "requires": [{"standard": "deploy", "before": "deployed"}, {"standard": "secure", "before": "training"}]},
        {"id": "cyber", "domain": "cyber", "indicators": {"not_ruled_out": f"{CYBER} >= 0.7"},
         "recommendations": [{"standard": "deploy", "before": "deployed"}]},
    ],
    "standards": [
        {"id": "deploy", "title": "Deployment Standard", "safeguards": [{"id": "guards", "title": "Classifiers"}]},
        {"id": "secure", "title": "Security Standard",
         "safeguards": [{"id": "egress"}, {"id": "insider", "audience": "reviewer"}]},
    ],
    "commitments": [
        {"id": "report", "every": "P6M", "action": "report"},
        {"id": "board", "after": "determination", "where": 'status != "ruled_out"', "within": "P7D",
         "action": "notice", "to": "board"},
        {"id": "review", "before": "deployed", "when": 'threshold("cbrn") == "crossed"', "action": "review"},
        {"id": "no-crossed", "holds": '!(threshold("cbrn") == "crossed" && stage == "deployed")'},
    ],
    "escape_clauses": [{"id": "parity", "notify": ["board", "public"], "within": "P3D"}],
    "amendment": {"approvals": ["rso", "ceo"], "notice": "P30D"},
    "determinations": {"approvals": ["rso"]},
}


def base() -> dict[str, Any]:
    """A fresh copy of the base framework's data (valid: it loads)."""
    return copy.deepcopy(_BASE)


def load(data: dict[str, Any]) -> Framework:
    """Validate `data` as a framework file would be (shape and every check)."""
    return framework_from_data(data)


def edited(edit: Callable[[dict[str, Any]], Any]) -> Framework:
    """The base framework with `edit` applied to a copy of its data."""
    data = base()
    edit(data)
    return load(data)


def diff_edit(edit: Callable[[dict[str, Any]], Any]) -> FrameworkDiff:
    """diff(base, base edited)."""
    return diff_frameworks(load(base()), edited(edit))


def rows(diff: FrameworkDiff) -> list[tuple[str, str, str, str | None]]:
    """(change, element, id, field) of every change, in the diff's order."""
    return [(c.change, c.element, c.id, c.field) for c in diff.changes]


def threshold(data: dict[str, Any], threshold_id: str) -> dict[str, Any]:
    return next(t for t in data["thresholds"] if t["id"] == threshold_id)


def standard(data: dict[str, Any], standard_id: str) -> dict[str, Any]:
    return next(s for s in data["standards"] if s["id"] == standard_id)


def commitment(data: dict[str, Any], commitment_id: str) -> dict[str, Any]:
    return next(c for c in data["commitments"] if c["id"] == commitment_id)
