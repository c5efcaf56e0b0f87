"""What every importer reads from a source, before names are mapped and a model is chosen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Score:
    """One metric value; `scorer` is set by sources that have several scorers (Inspect)."""

    scorer: str | None
    metric: str
    value: float


@dataclass(frozen=True)
class Result:
    """One evaluation of one task, as the source describes it."""

    task: str
    scores: tuple[Score, ...]
    at: datetime
    #: the model the source names (an Inspect log's `eval.model`, lm-eval's `model_name`, the
    #: CSV's `model` column); None when it names none
    model: str | None
    #: provenance kept in the record's `source` beside format, sha256 and path
    extra: dict[str, Any] = field(default_factory=dict)
    #: the line the result starts on (CSV), for problems
    line: int | None = None
    #: several scorers: metrics are named `<scorer>/<metric>` (DESIGN §4)
    prefixed: bool = False
