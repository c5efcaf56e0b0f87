"""The Example Lab (`mast demo`): the workspace builds, and at the moments the demo shows,
the engine finds what the lab's story was written to produce (docs/example-lab.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from cli_runner import Result, run
from mast.demo import ASSESSMENT_FILE, build_demo, demo_assessment, demo_views, prepare_directory
from mast.engine import Assessment, Finding
from mast.errors import InvalidInput
from mast.workspace import Workspace

VIOLATION_AT = datetime.fromisoformat("2025-09-25T12:00:00+00:00")
ESCAPE_AT = datetime.fromisoformat("2026-03-25T12:00:00+00:00")
PRESENT = datetime.fromisoformat("2026-11-30T12:00:00+00:00")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = build_demo(tmp_path_factory.mktemp("demo") / "example-lab")
    yield ws
    ws.close()


def at(ws: Workspace, moment: datetime, *, history: bool = False) -> Assessment:
    return demo_assessment(ws, moment, history=history)


def find(assessment: Assessment, kind: str, commitment: str, model: str | None, *,
         current: bool = True) -> Finding:
    matches = [f for f in assessment.findings
               if f.kind == kind and f.commitment == commitment and f.model == model
               and (f.until is None) == current]
    assert matches, (f"no {'current' if current else 'resolved'} {kind} {commitment} for {model}; found: "
                     + "; ".join(f"{f.kind} {f.commitment} {f.model}" for f in assessment.findings))
    return matches[0]


def model_state(assessment: Assessment, model_id: str):
    return next(m for m in assessment.models if m.id == model_id)


# -- the build ---------------------------------------------------------------------------------

def test_the_views_are_the_dates_the_tests_check() -> None:
    assert [v.as_of for v in demo_views()] == [VIOLATION_AT, ESCAPE_AT, PRESENT]
    assert all(v.caption.strip() for v in demo_views())


def test_the_lab_is_eighteen_months_of_records_under_two_versions(lab: Workspace) -> None:
    assert [(f.id, f.version) for f in lab.frameworks()] == [("example-lab-rsp", "2.2"), ("example-lab-rsp", "2.3")]
    records = [r for r in lab.store.records() if r.kind != "framework"]
    times = [r.at for r in records]
    assert min(times) <= t("2025-06-01T00:00:00Z") and max(times) >= t("2026-11-01T00:00:00Z")
    kinds = {r.kind for r in records}
    assert kinds >= {"model", "stage", "eval", "determination", "safeguard", "exemption", "incident",
                     "notice", "report", "review", "escape", "roadmap"}
    models = {r.id: r for r in records if r.kind == "model"}
    assert models["atlas-1.1"].parent == "atlas-1" and models["atlas-2-internal"].parent == "atlas-2"
    # the framework versions were published before they took effect, with every sign-off
    for entry in lab.store.entries(kind="framework"):
        assert entry.record.at < t(entry.record.framework["framework"]["effective"])
        assert set(entry.record.approved_by) == {"rso", "ceo", "board"}


def test_the_child_shipped_before_its_parents_determination(lab: Workspace) -> None:
    records = lab.store.records()
    shipped = next(r for r in records if r.kind == "stage" and r.model == "atlas-1.1" and r.stage.value == "deployed")
    determined = next(r for r in records if r.kind == "determination" and r.model == "atlas-1")
    assert shipped.at < determined.at


# -- 25 September 2025: the violation ------------------------------------------------------------

def test_child_deployed_without_classifiers_is_a_violation(lab: Workspace) -> None:
    a = at(lab, VIOLATION_AT)
    v = find(a, "violation", "cbrn-3", "atlas-1.1")
    assert v.standard == "asl3-deployment"
    assert v.since == t("2025-09-08T16:00:00Z")
    assert "asl3-deployment" in v.message
    child = model_state(a, "atlas-1.1")
    assert child.stage == "deployed" and child.parent == "atlas-1"
    cbrn3 = next(s for s in child.thresholds if s.id == "cbrn-3")
    assert (cbrn3.status, cbrn3.basis) == ("not_ruled_out", "inherited")
    standard = next(s for s in child.standards if s.id == "asl3-deployment")
    assert standard.status == "unmet" and standard.required_before == "deployed"
    assert standard.missing == ["asl3-deployment/classifier-guards"]
    # the parent, internal only, meets what binds it
    assert not [f for f in a.findings if f.kind == "violation" and f.model == "atlas-1"]


def test_late_board_notice_is_overdue(lab: Workspace) -> None:
    f = find(at(lab, VIOLATION_AT), "overdue", "board-notice", "atlas-1")
    assert f.since == t("2025-09-23T15:00:00Z") and f.due == t("2025-09-23T15:00:00Z")


def test_the_violation_ends_when_the_classifiers_reach_the_child(lab: Workspace) -> None:
    a = at(lab, PRESENT, history=True)
    v = find(a, "violation", "cbrn-3", "atlas-1.1", current=False)
    assert (v.since, v.until) == (t("2025-09-08T16:00:00Z"), t("2025-09-29T20:00:00Z"))
    late = find(a, "overdue", "board-notice", "atlas-1", current=False)
    assert late.until == t("2025-10-01T09:30:00Z")


# -- 25 March 2026: the escape --------------------------------------------------------------------

def test_gate_broken_under_the_escape_clause_is_an_escape(lab: Workspace) -> None:
    a = at(lab, ESCAPE_AT)
    e = find(a, "escape", "cbrn-4", "atlas-2")
    assert e.standard == "asl4-security" and e.since == t("2026-03-12T18:00:00Z")
    assert not [f for f in a.findings if f.kind == "violation"]
    assert not [f for f in a.findings if f.commitment == "competitor-parity"]  # notices all made
    atlas2 = model_state(a, "atlas-2")
    cbrn4 = next(s for s in atlas2.thresholds if s.id == "cbrn-4")
    assert (cbrn4.status, cbrn4.basis, cbrn4.since) == ("not_ruled_out", "indicator", t("2026-03-10T09:00:00Z"))


def test_before_the_escape_it_was_a_violation_and_it_ends_with_asl4(lab: Workspace) -> None:
    a = at(lab, PRESENT, history=True)
    v = find(a, "violation", "cbrn-4", "atlas-2", current=False)
    assert (v.since, v.until) == (t("2026-03-10T09:00:00Z"), t("2026-03-12T18:00:00Z"))
    e = find(a, "escape", "cbrn-4", "atlas-2", current=False)
    assert e.until == t("2026-06-26T18:00:00Z")


def test_escape_date_warnings_and_overdue_determination(lab: Workspace) -> None:
    a = at(lab, ESCAPE_AT)
    fired = find(a, "warning", "cbrn-4", "atlas-2")
    assert fired.due == t("2026-04-09T09:00:00Z")
    override = find(a, "warning", "cyber-3", "atlas-2")
    assert override.since == t("2026-01-20T16:00:00Z") and "overrides" in override.message
    find(a, "overdue", "ai-rnd-4", "atlas-1")


# -- 30 November 2026: the present ----------------------------------------------------------------

def test_present_lapsed_exemption(lab: Workspace) -> None:
    a = at(lab, PRESENT)
    assert (a.framework.id, a.framework.version) == ("example-lab-rsp", "2.3")
    for threshold in ("cbrn-3", "ai-rnd-4"):
        v = find(a, "violation", threshold, "atlas-2-internal")
        assert v.standard == "asl3-security" and v.since == t("2026-11-01T00:00:00Z")
    w = find(a, "warning", "asl3-security", "atlas-2-internal")
    assert w.since == t("2026-11-01T00:00:00Z") and "expired" in w.message
    internal = model_state(a, "atlas-2-internal")
    security = next(s for s in internal.standards if s.id == "asl3-security")
    assert security.status == "unmet" and security.missing == ["asl3-security/egress-bandwidth"]
    # while the exemption ran, the same model was covered
    before = model_state(at(lab, t("2026-10-15T00:00:00Z")), "atlas-2-internal")
    covered = next(s for s in before.standards if s.id == "asl3-security")
    assert covered.status == "met" and covered.exempted == ["asl3-security/egress-bandwidth"]


def test_present_unreported_incident_is_overdue(lab: Workspace) -> None:
    f = find(at(lab, PRESENT), "overdue", "incident-72h", "atlas-2-internal")
    assert f.since == t("2026-11-29T09:00:00Z")


def test_present_risk_report_is_due(lab: Workspace) -> None:
    f = find(at(lab, PRESENT), "due", "risk-report", None)
    assert f.due == t("2026-12-12T15:00:00Z") and f.since == t("2026-11-28T15:00:00Z")


def test_present_early_warning_awaits_a_determination(lab: Workspace) -> None:
    f = find(at(lab, PRESENT), "warning", "cbrn-3", "atlas-3")
    assert f.since == t("2026-11-18T18:00:00Z") and f.due == t("2026-12-18T18:00:00Z")


def test_missed_report_and_late_incident_notice_in_history(lab: Workspace) -> None:
    a = at(lab, PRESENT, history=True)
    missed = find(a, "overdue", "risk-report", None, current=False)
    assert (missed.since, missed.until) == (t("2026-05-24T17:00:00Z"), t("2026-06-12T15:00:00Z"))
    late = find(a, "overdue", "incident-72h", "atlas-2", current=False)
    assert (late.since, late.until) == (t("2026-04-17T08:00:00Z"), t("2026-04-18T10:00:00Z"))
    # the first incident was reported in time: due, never overdue
    assert not [f for f in a.findings if f.commitment == "incident-72h" and f.model == "atlas-1.1"
                and f.kind == "overdue"]


def test_every_finding_kind_appears_at_the_demo_dates(lab: Workspace) -> None:
    seen = {f.kind for moment in (VIOLATION_AT, ESCAPE_AT, PRESENT) for f in at(lab, moment).findings}
    assert seen == {"violation", "overdue", "due", "escape", "warning"}


# What the story intends, exactly: no finding more, none less. (A battery of evals recorded
# at one instant is judged as one round, so an `||` of two tasks is never half-evaluated.)
def test_the_demo_dates_show_exactly_the_designed_findings(lab: Workspace) -> None:
    designed = {
        VIOLATION_AT: {("violation", "cbrn-3", "atlas-1.1"), ("overdue", "board-notice", "atlas-1")},
        ESCAPE_AT: {("escape", "cbrn-4", "atlas-2"), ("warning", "cbrn-4", "atlas-2"),
                    ("warning", "cyber-3", "atlas-2"), ("overdue", "ai-rnd-4", "atlas-1"),
                    # the roadmap (docs/roadmap.md): the jailbreak bounty, dropped with a note
                    ("warning", "example-lab-roadmap/jailbreak-bounty", None)},
        PRESENT: {("violation", "cbrn-3", "atlas-2-internal"), ("violation", "ai-rnd-4", "atlas-2-internal"),
                  ("overdue", "incident-72h", "atlas-2-internal"), ("due", "risk-report", None),
                  ("warning", "cyber-3", "atlas-2"), ("warning", "asl3-security", "atlas-2-internal"),
                  ("warning", "cbrn-3", "atlas-3"),
                  # the roadmap: single-region training graded missed; the alignment audit left
                  # out of version 2026.2 without a `dropped` grade (an undisclosed change)
                  ("warning", "example-lab-roadmap/single-region-training", None),
                  ("warning", "example-lab-roadmap/alignment-audit", None)},
    }
    for moment, expected in designed.items():
        assert {(f.kind, f.commitment, f.model) for f in at(lab, moment).findings} == expected, moment
    overdue = find(at(lab, ESCAPE_AT), "overdue", "ai-rnd-4", "atlas-1")
    assert overdue.since == t("2026-03-12T18:00:00Z")


# -- the directory ----------------------------------------------------------------------------------

def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        prepare_directory(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_another_workspace_is_replaced_only_with_force(tmp_path: Path) -> None:
    Workspace.init(tmp_path).close()
    with pytest.raises(InvalidInput, match="--force"):
        prepare_directory(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="did not make"):
        prepare_directory(tmp_path, replace=True)
    (tmp_path / "notes.txt").unlink()
    assert prepare_directory(tmp_path, replace=True)
    assert list(tmp_path.iterdir()) == []


# -- the command ------------------------------------------------------------------------------------

def _run(*args: str, cwd: Path) -> Result:
    return run(*args, cwd=cwd)


def test_mast_demo_builds_reports_and_writes_the_assessment(tmp_path: Path) -> None:
    target = tmp_path / "lab"
    result = _run("demo", str(target), cwd=tmp_path)
    assert result.code == 0, result.stderr
    for view in demo_views():
        assert view.as_of.strftime("%Y-%m-%dT%H:%M:%SZ") in result.stdout
    assert "atlas-1.1" in result.stdout and "escape" in result.stdout
    data = json.loads((target / ASSESSMENT_FILE).read_text())
    assert set(data) == {"as_of", "framework", "models", "findings", "summary"}
    assert data["as_of"] == "2026-11-30T12:00:00Z"
    assert data["framework"] == {"id": "example-lab-rsp", "version": "2.3"}
    violation = next(f for f in data["findings"] if f["kind"] == "violation" and f["commitment"] == "cbrn-3")
    assert violation["model"] == "atlas-2-internal" and violation["standard"] == "asl3-security"
    assert violation["since"] == "2026-11-01T00:00:00Z" and violation["message"]
    assert set(data["summary"]) == {"violation", "overdue", "due", "escape", "warning"}
    ws = Workspace.open(target)
    try:
        assert data == demo_assessment(ws, PRESENT).to_json_data()
    finally:
        ws.close()

    # running it again rebuilds the previous demo (and nothing else)
    again = _run("demo", str(target), cwd=tmp_path)
    assert again.code == 0, again.stderr
    assert "replacing the previous demo" in again.stderr
    (target / "notes.txt").write_text("mine")
    refused = _run("demo", str(target), "--force", cwd=tmp_path)
    assert refused.code == 2 and "did not make" in refused.stderr
    assert (target / "notes.txt").read_text() == "mine"


def test_mast_demo_defaults_to_example_lab_here(tmp_path: Path) -> None:
    result = _run("demo", cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert (tmp_path / "example-lab" / ASSESSMENT_FILE).is_file()
    assert (tmp_path / "example-lab" / "mast.toml").is_file()
