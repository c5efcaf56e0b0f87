"""One pydantic model per record kind (DESIGN §4).

Records are immutable facts. Their id is the SHA-256 of their canonical JSON (see
`mast.records.canonical`), so a model here must serialise deterministically: optional fields
that are unset are omitted, never written as null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, StrictInt, TypeAdapter

from mast.vocabulary import RECORD_KINDS, Audience, Stage, ZonedTime  # noqa: F401  (re-exported)

#: A metric value: a finite JSON number, never a boolean or a numeric string (NaN and
#: infinities have no canonical JSON form, so they could not be logged).
Number = StrictInt | Annotated[float, Strict(), AllowInfNan(False)]
Role = str


class RecordBase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    at: ZonedTime
    ref: str | None = Field(default=None, min_length=1)
    audience: Audience = Audience.public
    redaction_reason: Literal["legal", "intellectual-property", "public-safety", "privacy"] | None = None
    supersedes: str | None = None

    #: fields (besides `supersedes`) that name a model; used by the engine and reference checks
    def models(self) -> list[str]:
        return []


class ModelRecord(RecordBase):
    kind: Literal["model"]
    id: str = Field(min_length=1)
    name: str
    parent: str | None = None


class StageRecord(RecordBase):
    kind: Literal["stage"]
    model: str
    stage: Stage

    def models(self) -> list[str]:
        return [self.model]


class EvalSource(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    format: str
    sha256: str | None = None
    path: str | None = None


class EvalRecord(RecordBase):
    kind: Literal["eval"]
    model: str
    task: str = Field(min_length=1)
    metrics: dict[str, Number] = Field(min_length=1)
    source: EvalSource | None = None

    def models(self) -> list[str]:
        return [self.model]


class DeterminationRecord(RecordBase):
    kind: Literal["determination"]
    model: str
    threshold: str
    status: Literal["ruled_out", "not_ruled_out", "crossed"]
    rationale: str
    approved_by: dict[Role, str] = Field(default_factory=dict)

    def models(self) -> list[str]:
        return [self.model]


class SafeguardRecord(RecordBase):
    kind: Literal["safeguard"]
    safeguard: str
    status: Literal["implemented", "partial", "absent"]
    scope: str | None = None
    note: str | None = None

    def models(self) -> list[str]:
        return [self.scope] if self.scope else []


class ExemptionRecord(RecordBase):
    kind: Literal["exemption"]
    safeguard: str
    scope: str | None = None
    reason: str
    approved_by: dict[Role, str] = Field(default_factory=dict)
    expires: ZonedTime

    def models(self) -> list[str]:
        return [self.scope] if self.scope else []


class IncidentRecord(RecordBase):
    kind: Literal["incident"]
    model: str | None = None
    severity: str
    description: str

    def models(self) -> list[str]:
        return [self.model] if self.model else []


class NoticeRecord(RecordBase):
    kind: Literal["notice"]
    to: str
    about: str | None = None
    text: str
    model: str | None = None

    def models(self) -> list[str]:
        return [self.model] if self.model else []


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # `from` is a Python keyword, hence the alias.
    start: ZonedTime = Field(alias="from")
    end: ZonedTime = Field(alias="to")


class ReportRecord(RecordBase):
    kind: Literal["report"]
    period: Period
    edition: Audience
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ReviewRecord(RecordBase):
    kind: Literal["review"]
    reviewer: str
    report: str = Field(pattern=r"^[0-9a-f]{64}$")
    verdict: str
    text: str
    signature: str
    model: str | None = None

    def models(self) -> list[str]:
        return [self.model] if self.model else []


class EscapeRecord(RecordBase):
    kind: Literal["escape"]
    clause: str
    models_: list[str] = Field(alias="models", min_length=1)
    rationale: str
    until: ZonedTime | None = None

    def models(self) -> list[str]:
        return list(self.models_)


class RoadmapRecord(RecordBase):
    kind: Literal["roadmap"]
    goal: str
    status: Literal["on_track", "at_risk", "met", "missed", "dropped"]
    note: str


class StatementRecord(RecordBase):
    """What the developer has said in public: on the competitive landscape (required in a Risk
    Report whenever a gate is under escape or a model is deployed with a threshold not ruled
    out), on steps taken to inform the public and policymakers, or anything else."""

    kind: Literal["statement"]
    topic: Literal["competitive-landscape", "public-policy", "other"]
    text: str = Field(min_length=1)
    models_: list[str] | None = Field(default=None, alias="models")

    def models(self) -> list[str]:
        return list(self.models_ or [])


class FrameworkRecord(RecordBase):
    """A published framework version and the SHA-256 of its canonical JSON.

    A small document is carried whole in `framework`; one that would push the record past
    the 64 KiB leaf limit is stored once as a content-addressed blob (DESIGN §6) and the
    record carries only `sha256` and the version's `id`, `version` and `effective`.
    """

    kind: Literal["framework"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    framework: dict[str, Any] | None = None
    id: str | None = None
    version: str | None = None
    effective: ZonedTime | None = None
    approved_by: dict[Role, str] = Field(default_factory=dict)


Record = Annotated[
    Union[
        ModelRecord,
        StageRecord,
        EvalRecord,
        DeterminationRecord,
        SafeguardRecord,
        ExemptionRecord,
        IncidentRecord,
        NoticeRecord,
        ReportRecord,
        ReviewRecord,
        EscapeRecord,
        RoadmapRecord,
        StatementRecord,
        FrameworkRecord,
    ],
    Field(discriminator="kind"),
]

record_adapter: TypeAdapter[Record] = TypeAdapter(Record)


def parse_record(data: Any) -> Record:
    """Validate one record's data (raises pydantic.ValidationError)."""
    return record_adapter.validate_python(data)
