"""The Roadmap: `roadmap.yaml` files, their publication, and the Roadmap section every Risk
Report includes (docs/roadmap.md).

A roadmap file (`mast: 1`) is loaded with positions, so every problem reads FILE:LINE:COL, and
published into the log as a `roadmap_version` record carrying the whole document and its
SHA-256. Goals are graded by `roadmap` records. `roadmap_section` is plain data for reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from pydantic import ValidationError

from mast.engine.rules.roadmap import GoalTimeline, roadmap_findings, roadmap_history
from mast.errors import InvalidInput, Problem
from mast.records.canonical import canonical_bytes, sha256_hex
from mast.records.kinds import Roadmap, RoadmapRecord, RoadmapVersionRecord
from mast.records.loader import Batch, LoadedRecord
from mast.sourcemap import ZONED_EXAMPLE, SourceDocument, load_file, parse_text, problems_from_validation
from mast.vocabulary import Audience, iso

__all__ = [
    "GoalState", "RoadmapChange", "RoadmapSection", "load_roadmap", "load_roadmap_text", "publish_roadmap",
    "roadmap_data", "roadmap_record", "roadmap_section", "roadmap_versions",
]


# ------------------------------------------------------------------------------ the file


def load_roadmap(path: str | Path) -> Roadmap:
    """Read and validate a roadmap file; `InvalidInput` (exit 2) lists every problem."""
    return roadmap_from_document(load_file(path))


def load_roadmap_text(text: str, name: str = "<roadmap>") -> Roadmap:
    return roadmap_from_document(parse_text(text, name))


def roadmap_from_document(doc: SourceDocument) -> Roadmap:
    data = doc.data
    if not isinstance(data, dict):
        found = "the file is empty" if data is None else "expected a mapping"
        raise InvalidInput(doc.problem((), f"{found}; a roadmap starts with 'mast: 1', a 'roadmap:' header "
                                           "and a 'goals:' list"))
    problems: list[Problem] = []
    for path in _time_paths(data):
        value = _at(data, path)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            problems.append(doc.problem(path, f"{_name(path)}: expected a time with a zone, e.g. "
                                              f"{ZONED_EXAMPLE}, got the number {value}"))
    try:
        roadmap = Roadmap.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(_ordered(problems + problems_from_validation(doc, exc))) from None
    first: dict[str, int] = {}
    for i, goal in enumerate(roadmap.goals):
        if goal.id in first:
            line, _ = doc.position(("goals", first[goal.id], "id"))
            problems.append(doc.problem(("goals", i, "id"), f"goals[{i}].id: duplicate goal id '{goal.id}'"
                                                             + (f" (first at line {line})" if line else "")))
        else:
            first[goal.id] = i
        if not goal.grades:
            problems.append(doc.problem(("goals", i, "grades"), f"goals[{i}].grades: expected at least one grade"))
        elif len(set(goal.grades)) != len(goal.grades):
            problems.append(doc.problem(("goals", i, "grades"), f"goals[{i}].grades: a grade is listed twice"))
    if problems:
        raise InvalidInput(_ordered(problems))
    return roadmap


def _time_paths(data: dict[str, Any]) -> list[tuple[str | int, ...]]:
    paths: list[tuple[str | int, ...]] = [("roadmap", "effective")]
    goals = data.get("goals")
    if isinstance(goals, list):
        paths += [("goals", i, "target") for i in range(len(goals))]
    return [p for p in paths if _at(data, p) is not None]


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _name(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(path))


def _ordered(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.col or 0))


# ------------------------------------------------------------------------------ publishing


def roadmap_data(roadmap: Roadmap) -> dict[str, Any]:
    """The roadmap as the JSON data its `roadmap_version` record carries."""
    return roadmap.model_dump(mode="json", by_alias=True, exclude_none=True)


def roadmap_record(roadmap: Roadmap, at: datetime) -> RoadmapVersionRecord:
    """The `roadmap_version` record that publishes `roadmap` at `at`."""
    data = roadmap_data(roadmap)
    return RoadmapVersionRecord(kind="roadmap_version", at=at, roadmap=data,
                                sha256=sha256_hex(canonical_bytes(data)))


def publish_roadmap(ws: Any, roadmap: Roadmap, at: datetime, source: SourceDocument | str | None = None):
    """Append `roadmap` to the workspace's log as a `roadmap_version` record; returns the
    entry. A version already published (same id and version) is invalid input (exit 2)."""
    name = source.name if isinstance(source, SourceDocument) else (source or "<roadmap>")
    if at.utcoffset() is None:
        raise InvalidInput(Problem(name, None, None, f"--at: expected a time with a zone, e.g. {ZONED_EXAMPLE}"))
    for published in roadmap_versions(ws.store.records(kind="roadmap_version")):
        if (published.id, published.version) == (roadmap.id, roadmap.version):
            message = (f"roadmap.version: {roadmap.id} {roadmap.version} is already published; "
                       "give the new version a new version number")
            if isinstance(source, SourceDocument):
                raise InvalidInput(source.problem(("roadmap", "version"), message))
            raise InvalidInput(Problem(name, None, None, message))
    record = roadmap_record(roadmap, at)
    [entry] = ws.add(Batch(name, (LoadedRecord(record, None, (), "roadmap"),)))
    return entry


def roadmap_versions(records: Sequence[Any]) -> list[Roadmap]:
    """The roadmap versions `roadmap_version` records among `records` published."""
    return [r.roadmap for r in records if r.kind == "roadmap_version"]


# ------------------------------------------------------------------------------ the section


@dataclass(frozen=True)
class GoalState:
    """One goal as of the section's moment."""

    roadmap: str
    id: str
    area: str
    title: str
    target: datetime
    grades: list[str]
    #: the latest grade at or before `as_of` (None: never graded)
    grade: str | None = None
    graded_at: datetime | None = None
    note: str | None = None
    #: the goal is on the roadmap in force (False: a later version left it out)
    listed: bool = True
    #: its target passed without a `met` grade
    missed: bool = False
    dropped: bool = False
    #: it was left out of a new version without a `dropped` grade with a note
    undisclosed_removal: bool = False
    audience: str = "public"
    redaction_reason: str | None = None


@dataclass(frozen=True)
class RoadmapChange:
    """Something that happened to the roadmap in the period: `kind` is `published` (a new
    version), `added`, `removed`, `retargeted`, `retitled` (goals between versions) or
    `graded`."""

    kind: str
    at: datetime
    roadmap: str
    goal: str | None
    text: str
    disclosed: bool = True
    audience: str = "public"


@dataclass(frozen=True)
class RoadmapSection:
    """The Roadmap section of a report: plain data, already cut to `audience`."""

    as_of: datetime
    since: datetime | None
    #: (roadmap id, version) in force at `as_of`, one per roadmap
    versions: list[tuple[str, str]]
    goals: list[GoalState]
    missed: list[GoalState]
    dropped: list[GoalState]
    changes: list[RoadmapChange]
    #: the roadmap warnings current at `as_of` (kind, commitment, since, message)
    findings: list[dict[str, Any]] = field(default_factory=list)
    #: how many goals, grades and changes were left out for the audience
    withheld: int = 0
    #: the same count by `redaction_reason` (`unstated` when the element gives none)
    withheld_reasons: dict[str, int] = field(default_factory=dict)


def roadmap_section(ws_or_data: Any, as_of: datetime, since: datetime | None = None, *,
                    audience: Audience | str = Audience.internal) -> RoadmapSection:
    """The Roadmap as of `as_of`: every goal with its latest grade, the missed and the
    dropped ones, and what changed since `since` (a previous report's moment; None: from
    the start). `ws_or_data` is a `Workspace` or a sequence of records (log order).
    Goals and grades above `audience` are left out and counted in `withheld`."""
    records = ws_or_data.store.records() if hasattr(ws_or_data, "store") else list(ws_or_data)
    level = Audience(audience).rank
    visible = [r for r in records if r.at <= as_of]
    versions = [r for r in visible if r.kind == "roadmap_version"]
    grades = sorted((r for r in visible if r.kind == "roadmap"), key=lambda r: r.at)
    roadmaps = [v.roadmap for v in versions]
    histories = roadmap_history(roadmaps, grades)
    withheld = 0
    reasons: dict[str, int] = {}

    def shown(element: Any) -> bool:
        nonlocal withheld
        if Audience(element.audience).rank > level:
            withheld += 1
            reason = element.redaction_reason or "unstated"
            reasons[reason] = reasons.get(reason, 0) + 1
            return False
        return True

    goals: list[GoalState] = []
    for h in histories:
        for tl in h.goals.values():
            if not shown(tl.goal):
                continue
            goals.append(_goal_state(tl, as_of, [g for g in tl.grades if Audience(g.audience).rank <= level]))
    changes: list[RoadmapChange] = []
    for h in histories:
        for i, version in enumerate(h.versions):
            if version.effective > as_of or (since is not None and version.effective <= since):
                continue
            changes.append(RoadmapChange("published", version.effective, h.id, None,
                                         f"roadmap {h.id} version {version.version} took effect"))
            if i == 0:
                continue
            changes += _version_changes(h.id, h.versions[i - 1], version, h.goals, shown)
        for tl in h.goals.values():
            if Audience(tl.goal.audience).rank > level:
                continue
            for g in tl.grades:
                if since is not None and g.at <= since:
                    continue
                if not shown(g):
                    continue
                changes.append(RoadmapChange("graded", g.at, h.id, tl.goal.id,
                                             f"{tl.goal.id} graded {g.status}: {g.note.strip()}",
                                             audience=Audience(g.audience).value))
    changes.sort(key=lambda c: (c.at, c.kind != "published", c.goal or ""))
    # the findings an edition for `audience` shows come from what that audience may see
    raw = roadmap_findings(roadmaps, [g for g in grades if Audience(g.audience).rank <= level])
    hidden = {tl.address for h in histories for tl in h.goals.values() if Audience(tl.goal.audience).rank > level}
    findings = []
    for f in raw:
        if f.commitment in hidden:
            continue
        for start, end in f.spans:
            if start <= as_of < end:
                findings.append({"kind": f.kind, "commitment": f.commitment, "since": start,
                                 "message": f.describe(as_of)})
    findings.sort(key=lambda f: (f["commitment"], f["since"]))
    in_force = []
    for h in histories:
        current = h.in_force(as_of)
        if current is not None:
            in_force.append((h.id, current.version))
    return RoadmapSection(as_of=as_of, since=since, versions=in_force, goals=goals,
                          missed=[g for g in goals if g.missed], dropped=[g for g in goals if g.dropped],
                          changes=changes, findings=findings, withheld=withheld, withheld_reasons=reasons)


def _goal_state(tl: GoalTimeline, as_of: datetime, grades: list[RoadmapRecord]) -> GoalState:
    goal = tl.goal
    last = next((g for g in reversed(grades) if g.at <= as_of), None)
    listed = any(s <= as_of < e for s, e in tl.listed)
    grade = last.status if last else None
    ever_met = any(g.status == "met" and g.at <= goal.target for g in grades)
    missed = grade == "missed" or (goal.target <= as_of and grade != "met" and not ever_met and grade != "dropped")
    removed = tl.removed is not None and tl.removed <= as_of
    disclosure = tl.disclosure()
    undisclosed = removed and (disclosure is None or disclosure.at > as_of)
    return GoalState(
        roadmap=tl.roadmap, id=goal.id, area=goal.area, title=goal.title, target=goal.target,
        grades=list(goal.grades), grade=grade, graded_at=last.at if last else None,
        note=last.note if last else None, listed=listed, missed=missed,
        dropped=grade == "dropped" or (removed and not undisclosed), undisclosed_removal=undisclosed,
        audience=Audience(goal.audience).value, redaction_reason=goal.redaction_reason)


def _version_changes(roadmap_id: str, old: Roadmap, new: Roadmap, timelines: dict[str, GoalTimeline],
                     shown: Any) -> list[RoadmapChange]:
    out: list[RoadmapChange] = []
    at = new.effective
    before = {g.id: g for g in old.goals}
    after = {g.id: g for g in new.goals}
    for gid, g in after.items():
        if not shown(g):
            continue
        prior = before.get(gid)
        if prior is None:
            out.append(RoadmapChange("added", at, roadmap_id, gid, f"{gid} added: {g.title} (target {iso(g.target)})"))
            continue
        if prior.target != g.target:
            out.append(RoadmapChange("retargeted", at, roadmap_id, gid,
                                     f"{gid} target moved from {iso(prior.target)} to {iso(g.target)}"))
        if prior.title != g.title:
            out.append(RoadmapChange("retitled", at, roadmap_id, gid, f"{gid} retitled: {prior.title!r} → {g.title!r}"))
    for gid, g in before.items():
        if gid in after or not shown(g):
            continue
        disclosure = timelines[gid].disclosure()
        disclosed = disclosure is not None and disclosure.at <= at
        text = (f"{gid} removed: {g.title}" + (f" (dropped: {disclosure.note.strip()})" if disclosure else "")
                + ("" if disclosed else " — not disclosed by a `dropped` grade with a note"))
        out.append(RoadmapChange("removed", at, roadmap_id, gid, text, disclosed=disclosed))
    return out

