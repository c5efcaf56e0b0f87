"""The assessment: what the framework requires of each model at one moment, and whether it
is met (DESIGN §5). Plain data: the CLI, web, reports and red lines all read these.

Slotted dataclasses rather than pydantic models: an assessment of a large workspace holds
tens of thousands of findings, and constructing them is on the engine's hot path. pydantic
still serialises them (`to_json_data`), in Rust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter

FindingKind = Literal["violation", "overdue", "due", "escape", "warning"]
FINDING_KINDS: tuple[FindingKind, ...] = ("violation", "overdue", "due", "escape", "warning")


@dataclass(frozen=True, slots=True)
class ThresholdState:
    id: str
    status: Literal["untested", "ruled_out", "not_ruled_out", "crossed"]
    basis: Literal["indicator", "determination", "inherited"] | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class StandardState:
    id: str
    required_before: str
    status: Literal["met", "unmet", "not_required"]
    missing: list[str] = field(default_factory=list)
    exempted: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModelState:
    id: str
    stage: str | None
    thresholds: list[ThresholdState]
    standards: list[StandardState]
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    commitment: str
    since: datetime
    message: str
    standard: str | None = None
    model: str | None = None
    until: datetime | None = None
    due: datetime | None = None


@dataclass(frozen=True, slots=True)
class FrameworkRef:
    id: str
    version: str


@dataclass(frozen=True, slots=True)
class Assessment:
    as_of: datetime
    framework: FrameworkRef
    models: list[ModelState]
    #: current findings first; with `history`, resolved ones (each with `until`) follow
    findings: list[Finding]
    summary: dict[str, int]

    def to_json_data(self) -> dict[str, Any]:
        """The JSON of DESIGN §5 (absent optionals omitted, times as ISO 8601)."""
        data = _ADAPTER.dump_python(self, mode="json", exclude_none=True)
        for f in data["findings"]:
            _order(f)
        return data

    def model(self, model_id: str) -> ModelState | None:
        return next((m for m in self.models if m.id == model_id), None)


_FINDING_KEYS = ("kind", "commitment", "standard", "model", "since", "until", "due", "message")


def _order(finding: dict[str, Any]) -> None:
    """Keys in the order DESIGN §5 prints them (dicts keep insertion order)."""
    items = [(k, finding[k]) for k in _FINDING_KEYS if k in finding]
    finding.clear()
    finding.update(items)


_ADAPTER: TypeAdapter[Assessment] = TypeAdapter(Assessment)
