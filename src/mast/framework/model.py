"""Pydantic models of a `mast: 1` framework file (DESIGN §3).

These models check shape only (types, required keys, known stages, zoned times, durations).
Cross-references and CEL are checked by `mast.framework.checks`, which needs the whole file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mast.vocabulary import Audience, Duration, Stage, ZonedTime


class Element(BaseModel):
    """Anything in a framework with an id, an audience and an optional redaction reason."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    id: str = Field(min_length=1)
    title: str | None = None
    description: str | None = None
    audience: Audience = Audience.public
    redaction_reason: Literal["legal", "intellectual-property", "public-safety", "privacy"] | None = None
    renamed_from: str | None = None


class Indicators(BaseModel):
    """CEL expressions over a model's evidence, one per level they raise a threshold to."""

    model_config = ConfigDict(extra="forbid")

    warning: str | None = None
    not_ruled_out: str | None = None
    crossed: str | None = None

    def levels(self) -> list[tuple[str, str]]:
        """(level, expression) pairs in ascending order of severity."""
        return [(k, v) for k, v in (("warning", self.warning), ("not_ruled_out", self.not_ruled_out),
                                    ("crossed", self.crossed)) if v]


class Requirement(BaseModel):
    """The if-then: `standard` must be met before a model reaches `before`."""

    model_config = ConfigDict(extra="forbid")

    standard: str
    before: Stage


class Threshold(Element):
    domain: str
    indicators: Indicators = Field(default_factory=Indicators)
    determination_within: Duration | None = None
    requires: list[Requirement] = Field(default_factory=list)
    recommendations: list[Requirement] = Field(default_factory=list)


class Safeguard(Element):
    pass


class Standard(Element):
    safeguards: list[Safeguard] = Field(default_factory=list)


class Commitment(Element):
    """One promise. Its kind follows from its keys: `every`, `after`+`within`,
    `before`+`when`, or `holds`."""

    every: Duration | None = None
    after: str | None = None
    where: str | None = None
    within: Duration | None = None
    before: Stage | None = None
    when: str | None = None
    holds: str | None = None
    action: str | None = None
    to: str | None = None

    @property
    def kind(self) -> Literal["cadence", "deadline", "gate", "invariant"]:
        if self.every is not None:
            return "cadence"
        if self.after is not None:
            return "deadline"
        if self.before is not None:
            return "gate"
        return "invariant"

    @model_validator(mode="after")
    def _one_shape(self) -> "Commitment":
        shapes = [
            ("every", self.every is not None),
            ("after", self.after is not None),
            ("before", self.before is not None),
            ("holds", self.holds is not None),
        ]
        present = [name for name, is_set in shapes if is_set]
        if len(present) != 1:
            raise ValueError(
                "a commitment needs exactly one of 'every', 'after'+'within', 'before'+'when' or 'holds'"
                + (f" (found {', '.join(present)})" if present else "")
            )
        if self.after is not None and self.within is None:
            raise ValueError("an 'after' commitment needs 'within'")
        if self.before is not None and self.when is None:
            raise ValueError("a 'before' commitment needs 'when'")
        if self.kind in ("cadence", "deadline", "gate") and not self.action:
            raise ValueError(f"a commitment with '{present[0]}' needs 'action' (the record kind that fulfils it)")
        if self.where is not None and self.after is None:
            raise ValueError("'where' only applies to an 'after' commitment")
        return self


class EscapeClause(Element):
    notify: list[str] = Field(min_length=1)
    within: Duration


class Amendment(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    approvals: list[str] = Field(default_factory=list)
    notice: Duration | None = None


class Determinations(BaseModel):
    """Who must sign a determination (issue 4 adds its enforcement)."""

    model_config = ConfigDict(extra="forbid")

    approvals: list[str] = Field(default_factory=list)


class ChangelogEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    acknowledges: list[str] = Field(default_factory=list)


class FrameworkInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    title: str
    version: str = Field(min_length=1)
    effective: ZonedTime
    changelog: list[ChangelogEntry] = Field(default_factory=list)


class Framework(BaseModel):
    """A whole framework file. Immutable once loaded: the engine may cache on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mast: Literal[1]
    framework: FrameworkInfo
    thresholds: list[Threshold] = Field(default_factory=list)
    standards: list[Standard] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    escape_clauses: list[EscapeClause] = Field(default_factory=list)
    amendment: Amendment = Field(default_factory=Amendment)
    determinations: Determinations = Field(default_factory=Determinations)

    @property
    def id(self) -> str:
        return self.framework.id

    @property
    def version(self) -> str:
        return self.framework.version

    @property
    def effective(self):  # -> datetime
        return self.framework.effective

    def threshold(self, threshold_id: str) -> Threshold | None:
        return next((t for t in self.thresholds if t.id == threshold_id), None)

    def standard(self, standard_id: str) -> Standard | None:
        return next((s for s in self.standards if s.id == standard_id), None)

    def safeguard_ids(self) -> set[str]:
        """Every safeguard address, `standard/safeguard`."""
        return {f"{s.id}/{g.id}" for s in self.standards for g in s.safeguards}

    def commitment(self, commitment_id: str) -> Commitment | None:
        return next((c for c in self.commitments if c.id == commitment_id), None)

    def escape_clause(self, clause_id: str) -> EscapeClause | None:
        return next((c for c in self.escape_clauses if c.id == clause_id), None)
