"""The Roadmap: roadmap.yaml loading (FILE:LINE:COL, exit 2), `mast roadmap publish|status`,
grade checks, and `roadmap_section` (plain data for reports)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cli_runner import Result, run
from mast.errors import InvalidInput
from mast.records.kinds import parse_record
from mast.reports.roadmap import load_roadmap, load_roadmap_text, publish_roadmap, roadmap_section
from mast.workspace import Workspace

ROADMAP = """\
mast: 1
roadmap:
  id: lab-roadmap
  version: "1"
  effective: 2025-01-01T00:00:00Z
goals:
  - id: weights
    area: security
    title: Weights behind two-party control
    target: 2025-06-01T00:00:00Z
  - id: bounty
    area: safeguards
    title: A public jailbreak bounty
    target: 2025-12-01T00:00:00Z
  - id: audit
    area: alignment
    title: An alignment audit of every model
    target: 2026-06-01T00:00:00Z
  - id: secret-goal
    area: security
    title: CANARY-internal-goal
    target: 2026-06-01T00:00:00Z
    audience: internal
"""

# version 2 leaves out `bounty` (dropped with a note) and `audit` (silently)
ROADMAP_V2 = ROADMAP.replace('version: "1"', 'version: "2"').replace(
    "effective: 2025-01-01T00:00:00Z", "effective: 2025-09-01T00:00:00Z").split("  - id: bounty")[0] + """\
  - id: secret-goal
    area: security
    title: CANARY-internal-goal
    target: 2026-06-01T00:00:00Z
    audience: internal
"""

GRADES = """\
- {kind: roadmap, at: 2025-02-01T00:00:00Z, goal: weights, status: on_track, note: Vendor chosen.}
- {kind: roadmap, at: 2025-02-01T00:00:00Z, goal: audit, status: on_track, note: Pilot running.}
- {kind: roadmap, at: 2025-08-01T00:00:00Z, goal: bounty, status: dropped, note: Folded into the red-team contract.}
"""


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def mast(*args: str, cwd: Path) -> Result:
    return run(*args, cwd=cwd)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("roadmap")
    (tmp_path / "roadmap.yaml").write_text(ROADMAP)
    (tmp_path / "roadmap-v2.yaml").write_text(ROADMAP_V2)
    (tmp_path / "grades.yaml").write_text(GRADES)
    ws = tmp_path / "ws"
    assert mast("init", str(ws), cwd=tmp_path).code == 0
    for args in (("roadmap", "publish", "../roadmap.yaml", "--at", "2024-12-20T00:00:00Z"),
                 ("record", "add", "../grades.yaml"),
                 ("roadmap", "publish", "../roadmap-v2.yaml", "--at", "2025-08-20T00:00:00Z")):
        done = mast(*args, cwd=ws)
        assert done.code == 0, done.stderr
    return ws


# -- the file ------------------------------------------------------------------------------------

def test_the_file_loads_with_defaults() -> None:
    roadmap = load_roadmap_text(ROADMAP)
    assert (roadmap.id, roadmap.version) == ("lab-roadmap", "1")
    assert [g.id for g in roadmap.goals] == ["weights", "bounty", "audit", "secret-goal"]
    assert roadmap.goals[0].grades == ("on_track", "at_risk", "met", "missed", "dropped")
    assert roadmap.goal("A public jailbreak bounty").id == "bounty"


@pytest.mark.parametrize("change, where, expected", [
    ("target: 2025-06-01T00:00:00Z", "target: 2025-06-01T00:00:00", "goals[0].target: expected a time with a zone"),
    ("  - id: bounty", "  - id: weights", "duplicate goal id 'weights'"),
    ("    area: security\n    title: Weights", "    title: Weights", "missing required field 'area'"),
    ("target: 2025-06-01T00:00:00Z", "target: 2025-06-01T00:00:00Z\n    grades: [on_track, finished]",
     "goals[0].grades[1]"),
    ("version: \"1\"", "version: \"1\"\n  colour: blue", "unknown field 'colour'"),
])
def test_problems_are_positioned(tmp_path: Path, change: str, where: str, expected: str) -> None:
    path = tmp_path / "roadmap.yaml"
    path.write_text(ROADMAP.replace(change, where, 1))
    with pytest.raises(InvalidInput) as caught:
        load_roadmap(path)
    text = str(caught.value)
    assert expected in text, text
    first = str(caught.value.problems[0])
    file, line, col, _ = first.split(":", 3)
    assert file == str(path) and int(line) > 1 and int(col) >= 1


def test_check_exits_2_with_file_line_col(tmp_path: Path) -> None:
    (tmp_path / "r.yaml").write_text(ROADMAP.replace("target: 2025-12-01T00:00:00Z", "target: soon"))
    done = mast("roadmap", "check", "r.yaml", cwd=tmp_path)
    assert done.code == 2
    assert "r.yaml:14:13: goals[1].target: expected a time with a zone" in done.stderr
    (tmp_path / "ok.yaml").write_text(ROADMAP)
    ok = mast("roadmap", "check", "ok.yaml", cwd=tmp_path)
    assert ok.code == 0 and "ok: lab-roadmap 1 — 4 goals (alignment, safeguards, security)" in ok.stdout


# -- publishing ------------------------------------------------------------------------------------

def test_publish_appends_a_roadmap_version_record(lab: Path) -> None:
    ws = Workspace.open(lab)
    try:
        versions = ws.store.records(kind="roadmap_version")
    finally:
        ws.close()
    assert [(r.roadmap.id, r.roadmap.version) for r in versions] == [("lab-roadmap", "1"), ("lab-roadmap", "2")]
    assert versions[0].at == t("2024-12-20T00:00:00Z") and len(versions[0].sha256) == 64


def test_republishing_a_version_is_refused_and_nothing_is_written(lab: Path) -> None:
    before = (lab / ".mast" / "mast.db").read_bytes()
    done = mast("roadmap", "publish", "../roadmap.yaml", cwd=lab)
    assert done.code == 2
    assert "roadmap.yaml:4:12: roadmap.version: lab-roadmap 1 is already published" in done.stderr
    assert (lab / ".mast" / "mast.db").read_bytes() == before


def test_a_grade_must_name_a_goal_and_one_of_its_grades(lab: Path) -> None:
    (lab / "bad.yaml").write_text(
        "- {kind: roadmap, at: 2025-10-01T00:00:00Z, goal: nonsense, status: met, note: x}\n")
    done = mast("record", "add", "bad.yaml", cwd=lab)
    assert done.code == 2 and "bad.yaml:1:51: records[0].goal: unknown roadmap goal 'nonsense'" in done.stderr
    assert "weights" in done.stderr


def test_a_roadmap_version_record_must_carry_its_documents_hash(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    try:
        from mast.reports.roadmap import roadmap_data

        data = roadmap_data(load_roadmap_text(ROADMAP))
        record = parse_record({"kind": "roadmap_version", "at": "2025-01-01T00:00:00Z", "roadmap": data,
                               "sha256": "0" * 64})
        with pytest.raises(InvalidInput, match="does not match the roadmap's canonical JSON"):
            ws.add([record])
        assert ws.store.count() == 0
        entry = publish_roadmap(ws, load_roadmap_text(ROADMAP), t("2025-01-01T00:00:00Z"))
        assert entry.index == 0
    finally:
        ws.close()


# -- status and the section -------------------------------------------------------------------------

def test_status_json_shows_missed_dropped_and_the_undisclosed_removal(lab: Path) -> None:
    done = mast("roadmap", "status", "--as-of", "2025-10-01T00:00:00Z", "--json", cwd=lab)
    assert done.code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["versions"] == [{"id": "lab-roadmap", "version": "2"}]
    goals = {g["id"]: g for g in data["goals"]}
    assert set(goals) == {"weights", "bounty", "audit", "secret-goal"}
    assert goals["weights"]["grade"] == "on_track" and goals["weights"]["missed"] is True
    assert goals["audit"]["undisclosed_removal"] is True and goals["audit"]["listed"] is False
    assert goals["bounty"]["dropped"] is True and goals["bounty"]["undisclosed_removal"] is False
    assert data["missed"] == ["weights"] and data["dropped"] == ["bounty"]
    findings = {f["commitment"]: f for f in data["findings"]}
    assert set(findings) == {"lab-roadmap/weights", "lab-roadmap/audit"}
    assert findings["lab-roadmap/weights"]["since"] == "2025-06-01T00:00:00Z"
    assert "undisclosed" in findings["lab-roadmap/audit"]["message"]
    removed = [c for c in data["changes"] if c["kind"] == "removed"]
    assert {(c["goal"], c["disclosed"]) for c in removed} == {("audit", False), ("bounty", True)}


def test_status_json_since_lists_only_later_changes(lab: Path) -> None:
    data = json.loads(mast("roadmap", "status", "--as-of", "2025-10-01T00:00:00Z", "--since",
                           "2025-07-01T00:00:00Z", "--json", cwd=lab).stdout)
    assert all(c["at"] > "2025-07-01T00:00:00Z" for c in data["changes"])
    assert {c["kind"] for c in data["changes"]} == {"graded", "published", "removed"}


def test_status_table(lab: Path) -> None:
    done = mast("roadmap", "status", "--as-of", "2025-10-01T00:00:00Z", cwd=lab)
    assert done.code == 0, done.stderr
    for text in ("lab-roadmap 2", "weights", "target passed", "removed", "undisclosed"):
        assert text in done.stdout, done.stdout


def test_mast_status_includes_roadmap_warnings_with_a_framework(lab: Path, tmp_path: Path) -> None:
    import shutil

    lab = Path(shutil.copytree(lab, tmp_path / "copy"))
    (tmp_path / "fw.yaml").write_text("mast: 1\nframework: {id: f, title: F, version: '1', "
                                      "effective: 2025-01-01T00:00:00Z}\n")
    assert mast("framework", "publish", "../fw.yaml", cwd=lab).code == 0
    data = json.loads(mast("status", "--as-of", "2025-10-01T00:00:00Z", "--json", cwd=lab).stdout)
    assert {(f["kind"], f["commitment"]) for f in data["findings"]} == {
        ("warning", "lab-roadmap/weights"), ("warning", "lab-roadmap/audit")}
    assert data["summary"]["warning"] == 2 and data["summary"]["violation"] == 0


def test_section_is_cut_to_the_audience(lab: Path) -> None:
    ws = Workspace.open(lab)
    try:
        internal = roadmap_section(ws, t("2025-10-01T00:00:00Z"))
        public = roadmap_section(ws, t("2025-10-01T00:00:00Z"), audience="public")
        records = ws.store.records()
    finally:
        ws.close()
    assert "secret-goal" in {g.id for g in internal.goals} and internal.withheld == 0
    assert "secret-goal" not in {g.id for g in public.goals}
    assert public.withheld >= 1 and public.withheld_reasons == {"unstated": public.withheld}
    assert "CANARY-internal-goal" not in repr(public)
    # the same from plain records
    assert roadmap_section(records, t("2025-10-01T00:00:00Z")) == internal
