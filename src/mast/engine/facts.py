"""The records the engine reads, indexed once per assessment.

Only records with `at <= as_of` exist for an assessment, and a record corrected by a later
`supersedes` record is replaced by it. Everything is sorted by time, ties broken by position
in the log, so every rule sees events in the order they happened.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Iterable, Sequence

from mast.records.canonical import record_data, record_id
from mast.records.kinds import (
    DeterminationRecord,
    EscapeRecord,
    EvalRecord,
    ExemptionRecord,
    ModelRecord,
    SafeguardRecord,
    StageRecord,
)
from mast.engine.timeline import Steps
from mast.vocabulary import Stage


class Facts:
    """Indexed, time-ordered view of a workspace's records as of one moment."""

    def __init__(self, records: Sequence[Any], as_of: datetime):
        self.as_of = as_of
        visible = [r for r in records if r.at <= as_of and r.kind != "framework"]
        self._ids: dict[int, str] = {}
        superseded = {r.supersedes for r in visible if r.supersedes}
        if superseded:
            visible = [r for r in visible if not ({r.ref, self.id_of(r)} & superseded)]
        # stable sort: equal times keep log order
        self.records: list[Any] = sorted(visible, key=lambda r: r.at)

        self.models: dict[str, ModelRecord] = {}
        self.by_kind: dict[str, list[Any]] = defaultdict(list)
        self.evals: dict[str, list[EvalRecord]] = defaultdict(list)
        self.determinations: dict[tuple[str, str], list[DeterminationRecord]] = defaultdict(list)
        self.safeguards: dict[str, list[SafeguardRecord]] = defaultdict(list)
        self.exemptions: dict[str, list[ExemptionRecord]] = defaultdict(list)
        self.escapes: list[EscapeRecord] = []
        stages: dict[str, list[StageRecord]] = defaultdict(list)
        for r in self.records:
            kind = r.kind
            self.by_kind[kind].append(r)
            if kind == "eval":
                self.evals[r.model].append(r)
            elif kind == "model":
                self.models.setdefault(r.id, r)
            elif kind == "stage":
                stages[r.model].append(r)
            elif kind == "determination":
                self.determinations[(r.model, r.threshold)].append(r)
            elif kind == "safeguard":
                self.safeguards[r.safeguard].append(r)
            elif kind == "exemption":
                self.exemptions[r.safeguard].append(r)
            elif kind == "escape":
                self.escapes.append(r)
        # models named only by other records still get assessed
        for r in self.records:
            for m in r.models():
                if m not in self.models:
                    self.models[m] = ModelRecord(kind="model", at=r.at, id=m, name=m)
        self.stage: dict[str, Steps[Stage]] = {
            m: Steps([(s.at, s.stage) for s in stages.get(m, [])]) for m in self.models
        }

    def id_of(self, record: Any) -> str:
        """A record's id (SHA-256 of its canonical JSON), computed only when a rule needs it."""
        key = id(record)
        if key not in self._ids:
            self._ids[key] = record_id(record)
        return self._ids[key]

    def names(self, record: Any) -> set[str]:
        """The ways another record may point at `record`: its ref and its id."""
        out = {self.id_of(record)}
        if record.ref:
            out.add(record.ref)
        return out

    def kind(self, kind: str) -> list[Any]:
        return self.by_kind.get(kind, [])

    def lineage_order(self) -> list[str]:
        """Model ids with every parent before its children (cycles are broken arbitrarily)."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(m: str, path: set[str]) -> None:
            if m in seen or m in path:
                return
            parent = self.models[m].parent if m in self.models else None
            if parent and parent in self.models:
                visit(parent, path | {m})
            seen.add(m)
            order.append(m)

        for m in self.models:
            visit(m, set())
        return order

    @staticmethod
    def variables(record: Any) -> dict[str, Any]:
        """A record's fields as CEL variables (for `where`)."""
        return record_data(record)


def latest(records: Iterable[Any], moment: datetime) -> Any | None:
    """The last of time-ordered `records` at or before `moment`."""
    found = None
    for r in records:
        if r.at > moment:
            break
        found = r
    return found
