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
    """An external review of a report edition (`report`: the SHA-256 of the edition file's
    bytes), signed by a registered reviewer: `signature` is `ed25519:<base64>` over
    `signed_message()` (docs/roadmap.md, "External review")."""

    kind: Literal["review"]
    reviewer: str
    report: str = Field(pattern=r"^[0-9a-f]{64}$")
    verdict: str
    text: str
    signature: str
    model: str | None = None

    def models(self) -> list[str]:
        return [self.model] if self.model else []

    def signed_message(self) -> bytes:
        """What the reviewer signs: a domain line, then the RFC 8785 canonical JSON of the
        record without `signature` (so every other field, `at` included, is covered)."""
        from mast.records.canonical import canonical_bytes, record_data

        data = record_data(self)
        data.pop("signature", None)
        return REVIEW_SIGNATURE_DOMAIN + canonical_bytes(data)


#: The first line of every signed review message (keeps a review signature from being
#: mistaken for any other signature made with the same key).
REVIEW_SIGNATURE_DOMAIN = b"mast review v1\n"


class EscapeRecord(RecordBase):
    kind: Literal["escape"]
    clause: str
    models_: list[str] = Field(alias="models", min_length=1)
    rationale: str
    until: ZonedTime | None = None

    def models(self) -> list[str]:
        return list(self.models_)


#: The grades a roadmap goal can receive (a goal's `grades` is a subset of these).
GRADES: tuple[str, ...] = ("on_track", "at_risk", "met", "missed", "dropped")
Grade = Literal["on_track", "at_risk", "met", "missed", "dropped"]


class RoadmapRecord(RecordBase):
    """A grade for one goal of the roadmap: `goal` is the goal's id (or, for grades written
    before goals had ids, its exact title)."""

    kind: Literal["roadmap"]
    goal: str = Field(min_length=1)
    status: Grade
    note: str


class RoadmapGoal(BaseModel):
    """One goal of a roadmap (docs/roadmap.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    area: str = Field(min_length=1)
    title: str = Field(min_length=1)
    target: ZonedTime
    grades: tuple[Grade, ...] = GRADES
    description: str | None = None
    audience: Audience = Audience.public
    redaction_reason: Literal["legal", "intellectual-property", "public-safety", "privacy"] | None = None


class RoadmapInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    title: str | None = None
    version: str = Field(min_length=1)
    effective: ZonedTime
    changelog: list[str] = Field(default_factory=list)


class Roadmap(BaseModel):
    """A whole `roadmap.yaml` (`mast: 1`): the header and the goals, ids unique."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mast: Literal[1]
    roadmap: RoadmapInfo
    goals: list[RoadmapGoal] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.roadmap.id

    @property
    def version(self) -> str:
        return self.roadmap.version

    @property
    def effective(self):  # -> datetime
        return self.roadmap.effective

    def goal(self, name: str) -> RoadmapGoal | None:
        """The goal with id `name`, else the one titled exactly `name`."""
        return (next((g for g in self.goals if g.id == name), None)
                or next((g for g in self.goals if g.title == name), None))


class RoadmapVersionRecord(RecordBase):
    """A published roadmap version (whole) and the SHA-256 of its canonical JSON."""

    kind: Literal["roadmap_version"]
    roadmap: Roadmap
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ReviewerRecord(RecordBase):
    """An external reviewer and the Ed25519 key its reviews are signed with: `key` is a
    verifier key in signed-note form (`<name>+<hash hex>+<base64>`, as `mast review keygen`
    prints it)."""

    kind: Literal["reviewer"]
    name: str = Field(min_length=1)
    key: str = Field(min_length=1)


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
    #: the reason given with `--emergency`, which waives the notice period of the previous
    #: version's `amendment.notice` (and nothing else); None for an ordinary publication
    emergency: str | None = None


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
        RoadmapVersionRecord,
        ReviewerRecord,
    ],
    Field(discriminator="kind"),
]

record_adapter: TypeAdapter[Record] = TypeAdapter(Record)


def parse_record(data: Any) -> Record:
    """Validate one record's data (raises pydantic.ValidationError)."""
    return record_adapter.validate_python(data)
