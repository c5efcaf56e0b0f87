"""The Risk Report as data: what `build_report` produces and every format renders.

Plain dataclasses. The JSON edition is this model dumped by pydantic (`report_json_data`);
its JSON Schema is `report_json_schema()` (docs/report.schema.json is generated from it).
Nothing here is above the edition's audience: the model is built from a redacted view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Marker:
    """Items withheld from a section: how many, of which kind, for which reason."""

    kind: str
    reason: str
    count: int


@dataclass
class Section:
    """What every section carries: the markers of what it withholds, and their total."""

    withheld: list[Marker] = field(default_factory=list)
    withheld_count: int = 0


# -- scope ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StageChange:
    stage: str
    at: datetime


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    stage: str | None
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    stages: list[StageChange] = field(default_factory=list)


@dataclass
class ScopeSection(Section):
    models: list[ModelEntry] = field(default_factory=list)


# -- thresholds ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Score:
    """The best value of one (task, metric) a threshold reads, for one model."""

    task: str
    metric: str
    value: float | None
    at: datetime | None = None
    source: str | None = None
    evals: int = 0


@dataclass(frozen=True)
class Determination:
    status: str
    at: datetime
    rationale: str
    approved_by: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelThreshold:
    model: str
    status: str
    basis: str | None
    since: datetime | None
    evidence: list[Score] = field(default_factory=list)
    determination: Determination | None = None


@dataclass(frozen=True)
class IndicatorLine:
    level: str
    task: str
    metric: str
    op: str
    value: float


@dataclass(frozen=True)
class ThresholdEntry:
    id: str
    title: str | None
    description: str | None
    indicators: dict[str, str]
    lines: list[IndicatorLine]
    requires: list[dict[str, str]]
    recommendations: list[dict[str, str]]
    #: models whose status is `not_ruled_out` or `crossed`, or with a determination or an
    #: indicator warning: listed with their evidence
    models: list[ModelThreshold] = field(default_factory=list)
    #: status -> number of models at it (every model in scope)
    counts: dict[str, int] = field(default_factory=dict)
    #: models ruled out or untested with nothing more to say, by status
    others: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Domain:
    domain: str
    thresholds: list[ThresholdEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True)
class Series:
    task: str
    metric: str
    points: list[Point]


@dataclass(frozen=True)
class Chart:
    """One model's scores over time on the tasks a threshold reads, against its lines."""

    model: str
    threshold: str
    status: str
    series: list[Series]
    lines: list[IndicatorLine]


@dataclass
class ThresholdSection(Section):
    domains: list[Domain] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    #: charts not drawn (the edition draws at most MAX_CHARTS)
    charts_omitted: int = 0


# -- safeguards ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SafeguardEntry:
    id: str
    title: str | None
    status: str  # implemented | partial | absent | unrecorded
    since: datetime | None = None
    note: str | None = None
    #: model -> status, where a record scoped to the model overrides the all-models status
    scoped: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StandardEntry:
    id: str
    title: str | None
    required_by: list[dict[str, str]]
    safeguards: list[SafeguardEntry]


@dataclass(frozen=True)
class Gap:
    model: str
    standard: str
    required_before: str
    missing: list[str]
    exempted: list[str]


@dataclass(frozen=True)
class ExemptionEntry:
    safeguard: str
    scope: str | None
    reason: str
    at: datetime
    expires: datetime
    approved_by: dict[str, str] = field(default_factory=dict)


@dataclass
class SafeguardSection(Section):
    standards: list[StandardEntry] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    exemptions: list[ExemptionEntry] = field(default_factory=list)


# -- findings --------------------------------------------------------------------------------

@dataclass(frozen=True)
class FindingEntry:
    kind: str
    commitment: str
    since: datetime
    message: str
    model: str | None = None
    standard: str | None = None
    until: datetime | None = None
    due: datetime | None = None


@dataclass
class FindingSection(Section):
    summary: dict[str, int] = field(default_factory=dict)
    current: list[FindingEntry] = field(default_factory=list)
    #: findings that ended inside the period (resolved, with `until`)
    period: list[FindingEntry] = field(default_factory=list)


# -- changes since the previous report -------------------------------------------------------

@dataclass(frozen=True)
class Change:
    """One thing that happened in the period. `kind` is one of CHANGE_KINDS."""

    kind: str
    at: datetime
    text: str
    model: str | None = None
    subject: str | None = None


CHANGE_KINDS = ("framework-revision", "safeguard-withdrawn", "safeguard-removed", "safeguard-change",
                "exemption-granted", "exemption-expired", "determination", "incident", "stage",
                "escape", "notice", "report", "roadmap", "roadmap-missed")


@dataclass
class ChangeSection(Section):
    changes: list[Change] = field(default_factory=list)


# -- framework revisions in the period -------------------------------------------------------

@dataclass(frozen=True)
class RevisionChange:
    """One change a published version made to the version before it, as
    `mast.framework.diff.Change` classifies it. `acknowledged` says whether a changelog entry
    of the new version `acknowledges` it (None unless the change weakens)."""

    id: str
    element: str
    change: str  # added | removed | strengthened | weakened | changed
    field: str | None
    old: Any
    new: Any
    reason: str
    old_id: str | None = None
    weakens: bool = False
    acknowledged: bool | None = None


@dataclass
class Revision:
    """A framework version published in the period (a `framework` record's `at` in it), with
    its diff against the version published before it (`previous`; None for the first)."""

    framework: str
    version: str
    title: str
    published_at: datetime
    effective: datetime
    approved_by: dict[str, str] = field(default_factory=dict)
    #: the reason given for publishing under emergency (the amendment notice bypassed)
    emergency: str | None = None
    changelog: list[str] = field(default_factory=list)
    previous: dict[str, str] | None = None
    #: the diff's summary line over the changes this edition shows
    summary: str = ""
    #: change kind -> number of shown changes of that kind (every kind, zero included)
    counts: dict[str, int] = field(default_factory=dict)
    #: every change this edition may show, weakened and removed first (the diff's order)
    changes: list[RevisionChange] = field(default_factory=list)
    #: markers for changes about elements above the edition's audience (old or new version)
    withheld: list[Marker] = field(default_factory=list)
    withheld_count: int = 0

    @property
    def weakenings(self) -> list[RevisionChange]:
        return [c for c in self.changes if c.weakens]


@dataclass
class RevisionSection(Section):
    revisions: list[Revision] = field(default_factory=list)


# -- escapes, landscape, reviews -------------------------------------------------------------

@dataclass(frozen=True)
class EscapeEntry:
    clause: str
    models: list[str]
    rationale: str
    at: datetime
    until: datetime | None
    notified: list[str]
    missing_notices: list[str]
    in_force: bool


@dataclass
class EscapeSection(Section):
    escapes: list[EscapeEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Statement:
    topic: str
    at: datetime
    text: str
    models: list[str] = field(default_factory=list)


@dataclass
class LandscapeSection(Section):
    #: whether the framework's rule requires this section in this edition
    required: bool = False
    #: why it is required (one line per gate under escape / model deployed not ruled out)
    reasons: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    #: required, but no competitive-landscape statement was made in the period
    missing: bool = False


@dataclass(frozen=True)
class ReviewEntry:
    reviewer: str
    report: str
    verdict: str
    text: str
    at: datetime


@dataclass
class ReviewSection(Section):
    reviews: list[ReviewEntry] = field(default_factory=list)


@dataclass
class RoadmapSlot(Section):
    """Filled by `mast.reports.roadmap.roadmap_section(...)` when that module exists."""

    available: bool = False
    data: dict[str, Any] | None = None


# -- the report ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportProblem:
    """Something the report itself finds wrong with what it must say."""

    kind: str
    message: str


@dataclass
class Report:
    schema_version: int
    title: str
    audience: str
    as_of: datetime
    period_from: datetime
    period_to: datetime
    framework: dict[str, str]
    scope: ScopeSection
    thresholds: ThresholdSection
    safeguards: SafeguardSection
    findings: FindingSection
    changes: ChangeSection
    revisions: RevisionSection
    escapes: EscapeSection
    landscape: LandscapeSection
    reviews: ReviewSection
    roadmap: RoadmapSlot
    problems: list[ReportProblem] = field(default_factory=list)
    #: section -> number of items withheld from this edition
    withheld: dict[str, int] = field(default_factory=dict)


SECTION_FIELDS = ("scope", "thresholds", "safeguards", "findings", "changes", "revisions", "escapes", "landscape",
                  "reviews", "roadmap")

_ADAPTER: TypeAdapter[Report] = TypeAdapter(Report)


def report_json_data(report: Report) -> dict[str, Any]:
    return _ADAPTER.dump_python(report, mode="json")


def report_json_schema() -> dict[str, Any]:
    schema = _ADAPTER.json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mast Risk Report"
    return schema
