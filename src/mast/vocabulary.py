"""The words DESIGN §2–§4 defines, as types every layer shares: stages, audiences,
threshold statuses, zoned times and ISO 8601 durations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

import isodate
from pydantic import AwareDatetime, GetCoreSchemaHandler
from pydantic_core import core_schema

UTC = timezone.utc

#: A timestamp that must carry a zone (naive times are input errors, DESIGN §2.6).
ZonedTime = AwareDatetime


#: Every record kind (DESIGN §4). Framework files name them in `after:` and `action:`.
RECORD_KINDS: tuple[str, ...] = (
    "model", "stage", "eval", "determination", "safeguard", "exemption", "incident",
    "notice", "report", "review", "escape", "roadmap", "statement", "framework",
    "roadmap_version", "reviewer",
)


class Stage(str, Enum):
    """Model stages in order. `before: X` applies at X or later, `retired` excepted."""

    training = "training"
    internal = "internal"
    deployed = "deployed"
    retired = "retired"

    @property
    def rank(self) -> int:
        return _STAGE_RANK[self]


_STAGE_RANK = {Stage.training: 0, Stage.internal: 1, Stage.deployed: 2, Stage.retired: 3}


def stage_reaches(current: Stage | None, gated: Stage) -> bool:
    """True when a model at `current` is subject to a gate `before: gated`."""
    if current is None or current is Stage.retired:
        return False
    return current.rank >= gated.rank


class Audience(str, Enum):
    """Who may see an element: public < reviewer < internal."""

    public = "public"
    reviewer = "reviewer"
    internal = "internal"

    @property
    def rank(self) -> int:
        return {"public": 0, "reviewer": 1, "internal": 2}[self.value]


class ThresholdStatus(str, Enum):
    untested = "untested"
    ruled_out = "ruled_out"
    not_ruled_out = "not_ruled_out"
    crossed = "crossed"

    @property
    def rank(self) -> int:
        return {"untested": 0, "ruled_out": 1, "not_ruled_out": 2, "crossed": 3}[self.value]

    @property
    def gates(self) -> bool:
        """Whether this status makes a threshold's required standards binding."""
        return self in (ThresholdStatus.not_ruled_out, ThresholdStatus.crossed)


class Duration:
    """An ISO 8601 duration (`P6M`, `P7D`, `PT72H`) that can be added to a zoned time.

    Calendar units (months, years) are kept as such: `P6M` after 31 August is 28/29 February,
    not 182 days later. Stored and printed as the text the author wrote.
    """

    __slots__ = ("text", "_value")

    def __init__(self, text: str):
        if not isinstance(text, str) or not text.startswith("P"):
            raise ValueError(f"expected an ISO 8601 duration such as P6M, P7D or PT72H, got {text!r}")
        try:
            value = isodate.parse_duration(text)
        except (isodate.ISO8601Error, ValueError):
            raise ValueError(f"expected an ISO 8601 duration such as P6M, P7D or PT72H, got {text!r}") from None
        if isinstance(value, timedelta):
            if value <= timedelta(0):
                raise ValueError(f"duration must be positive, got {text!r}")
        elif value.years < 0 or value.months < 0 or value.tdelta < timedelta(0):
            raise ValueError(f"duration must be positive, got {text!r}")
        self.text = text
        self._value = value

    def after(self, moment: datetime) -> datetime:
        """`moment + self`, respecting calendar months."""
        return moment + self._value

    def before(self, moment: datetime) -> datetime:
        return moment - self._value

    def approx(self) -> timedelta:
        """A comparable length (months as 30.44 days), used only to order durations."""
        v = self._value
        if isinstance(v, timedelta):
            return v
        return v.tdelta + timedelta(days=float(v.years) * 365.25 + float(v.months) * 30.436875)

    def calendar(self) -> tuple[float, timedelta]:
        """(months, the rest): the calendar part (years as 12 months) apart from the fixed
        one, for comparisons that must hold whatever a month's length."""
        v = self._value
        if isinstance(v, timedelta):
            return 0.0, v
        return float(v.years) * 12 + float(v.months), v.tdelta

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and self.approx() == other.approx()

    def __hash__(self) -> int:
        return hash(self.approx())

    def __repr__(self) -> str:
        return f"Duration({self.text!r})"

    def __str__(self) -> str:
        return self.text

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> "Duration":
            if isinstance(value, Duration):
                return value
            return Duration(value)

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda d: d.text),
            json_schema_input_schema=core_schema.str_schema(),
        )


def iso(moment: datetime) -> str:
    """The canonical text of a zoned time: UTC moments end in `Z`."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def minute(moment: datetime) -> str:
    """A zoned time as tables and reports show it, to the minute: `2025-06-01 00:00` for UTC
    (the tables say "times in UTC unless marked"), `2025-06-01 02:00+02:00` otherwise."""
    text = moment.strftime("%Y-%m-%d %H:%M")
    return text if not moment.utcoffset() else text + moment.isoformat()[-6:]


