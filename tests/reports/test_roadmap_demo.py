"""The Example Lab's roadmap (docs/roadmap.md): two versions, a missed goal, a goal dropped with
a note, one silently removed; and `mast roadmap status --json` on the demo workspace."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cli_runner import run
from mast.demo import EXAMPLE_LAB, build_demo
from mast.records.kinds import RoadmapVersionRecord
from mast.reports.roadmap import load_roadmap, roadmap_record, roadmap_section
from mast.workspace import Workspace

PRESENT = datetime.fromisoformat("2026-11-30T12:00:00+00:00")
SPRING = datetime.fromisoformat("2026-03-25T12:00:00+00:00")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo") / "lab"
    build_demo(directory).close()
    return directory


def test_the_published_versions_are_the_files(lab: Path) -> None:
    ws = Workspace.open(lab)
    try:
        versions = ws.store.records(kind="roadmap_version")
    finally:
        ws.close()
    files = [load_roadmap(EXAMPLE_LAB / "roadmap.yaml"), load_roadmap(EXAMPLE_LAB / "roadmap-v2.yaml")]
    assert [v.roadmap for v in versions] == files
    assert all(isinstance(v, RoadmapVersionRecord) for v in versions)
    assert [v.sha256 for v in versions] == [roadmap_record(f, v.at).sha256 for f, v in zip(files, versions)]


def test_the_section_at_the_present(lab: Path) -> None:
    ws = Workspace.open(lab)
    try:
        section = roadmap_section(ws, PRESENT, SPRING)
    finally:
        ws.close()
    assert section.versions == [("example-lab-roadmap", "2026.2")]
    goals = {g.id: g for g in section.goals}
    assert {g.area for g in section.goals} == {"security", "safeguards", "alignment", "policy"}
    assert [g.id for g in section.missed] == ["single-region-training"]
    assert [g.id for g in section.dropped] == ["jailbreak-bounty"]
    assert goals["alignment-audit"].undisclosed_removal and not goals["alignment-audit"].listed
    assert goals["asl4-security"].grade == "met"
    removed = {c.goal: c.disclosed for c in section.changes if c.kind == "removed"}
    assert removed == {"alignment-audit": False, "jailbreak-bounty": True}
    assert {f["commitment"] for f in section.findings} == {
        "example-lab-roadmap/alignment-audit", "example-lab-roadmap/single-region-training"}


def test_mast_roadmap_status_json_on_the_demo(lab: Path) -> None:
    done = run("-w", lab, "roadmap", "status", "--as-of", "2026-11-30T12:00:00Z", "--json", width=80)
    assert done.code == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"as_of", "versions", "goals", "missed", "dropped", "changes", "findings", "withheld",
                         "withheld_reasons"}
    assert data["as_of"] == "2026-11-30T12:00:00Z" and data["missed"] == ["single-region-training"]
    assert data["withheld"] == 0
    [audit] = [g for g in data["goals"] if g["id"] == "alignment-audit"]
    assert audit["undisclosed_removal"] is True and audit["grade"] == "at_risk"
