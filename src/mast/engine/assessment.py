"""The assessment: what the framework requires of each model at one moment, and whether it
is met (DESIGN §5). Plain data models: the CLI, web, reports and red lines all read these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_serializer

from mast.vocabulary import iso

FindingKind = Literal["violation", "overdue", "due", "escape", "warning"]
FINDING_KINDS: tuple[FindingKind, ...] = ("violation", "overdue", "due", "escape", "warning")


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True)

    @field_serializer("*", when_used="json")
    def _times(self, value: Any) -> Any:
        return iso(value) if isinstance(value, datetime) else value


class ThresholdState(_Data):
    id: str
    status: Literal["untested", "ruled_out", "not_ruled_out", "crossed"]
    basis: Literal["indicator", "determination", "inherited"] | None = None
    since: datetime | None = None


class StandardState(_Data):
    id: str
    required_before: str
    status: Literal["met", "unmet", "not_required"]
    missing: list[str] = []
    exempted: list[str] = []


class ModelState(_Data):
    id: str
    stage: str | None
    parent: str | None = None
    thresholds: list[ThresholdState]
    standards: list[StandardState]


class Finding(_Data):
    kind: FindingKind
    commitment: str
    standard: str | None = None
    model: str | None = None
    since: datetime
    until: datetime | None = None
    due: datetime | None = None
    message: str


class FrameworkRef(_Data):
    id: str
    version: str


class Assessment(_Data):
    as_of: datetime
    framework: FrameworkRef
    models: list[ModelState]
    #: current findings first; with `history`, resolved ones (each with `until`) follow
    findings: list[Finding]
    summary: dict[str, int]

    def to_json_data(self) -> dict[str, Any]:
        """The JSON of DESIGN §5 (absent optionals omitted)."""
        return self.model_dump(mode="json", exclude_none=True)
