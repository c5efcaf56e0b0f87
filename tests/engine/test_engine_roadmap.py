"""Roadmap findings (docs/roadmap.md): missed targets, `missed`/`dropped` grades and goals that
a new version leaves out without disclosure are warnings, never violations; and `action:
review` commitments of every shape accept `review` records."""

from __future__ import annotations

from typing import Any

from engine_builders import EPOCH, fw, kinds, model, only, rec, review, run, stage, t, found

from mast.records.kinds import Roadmap


def roadmap(version: str, effective: str, *goals: tuple[str, str], rid: str = "rm") -> Roadmap:
    """A roadmap whose goals are (id, target) pairs."""
    return Roadmap.model_validate({
        "mast": 1, "roadmap": {"id": rid, "version": version, "effective": t(effective)},
        "goals": [{"id": g, "area": "security", "title": f"Goal {g}", "target": t(target)} for g, target in goals],
    })


def published(r: Roadmap, at: str | None = None) -> Any:
    from mast.reports.roadmap import roadmap_record

    return roadmap_record(r, t(at or r.effective))


def grade(goal: str, status: str, at: str, note: str = "a note") -> Any:
    return rec("roadmap", at, goal=goal, status=status, note=note)


V1 = roadmap("1", "2025-01-01", ("g1", "2025-06-01"), ("g2", "2025-12-01"))
NO_FW = fw(thresholds=[], standards=[])


def roadmap_findings(a) -> list[tuple[str, str, str | None]]:
    return [k for k in kinds(a) if k[1].startswith("rm/")]


def test_no_roadmap_no_findings() -> None:
    assert kinds(run(NO_FW, [grade("g1", "missed", "2025-03-01")], "2025-04-01")) == []


def test_a_passed_target_without_met_is_a_warning_until_met() -> None:
    records = [published(V1), grade("g1", "on_track", "2025-02-01"), grade("g1", "met", "2025-07-01")]
    assert roadmap_findings(run(NO_FW, records, "2025-05-31")) == []
    f = only(run(NO_FW, records, "2025-06-15"), "warning", commitment="rm/g1")
    assert f.since == t("2025-06-01") and f.model is None and f.due == t("2025-06-01")
    assert "target" in f.message and "passed" in f.message
    a = run(NO_FW, records, "2025-08-01", history=True)
    assert not found(a, "warning", current=True, commitment="rm/g1")
    assert found(a, "warning", current=False, commitment="rm/g1", until="2025-07-01")


def test_met_before_the_target_gives_nothing() -> None:
    records = [published(V1), grade("g1", "met", "2025-05-01")]
    assert roadmap_findings(run(NO_FW, records, "2025-09-01")) == []


def test_missed_and_dropped_grades_are_warnings_not_violations() -> None:
    records = [published(V1), grade("g1", "missed", "2025-03-01", "vendor slipped"),
               grade("g2", "dropped", "2025-04-01", "no longer needed")]
    a = run(NO_FW, records, "2025-05-01")
    assert sorted(roadmap_findings(a)) == [("warning", "rm/g1", None), ("warning", "rm/g2", None)]
    missed = only(a, "warning", commitment="rm/g1")
    assert missed.since == t("2025-03-01") and "missed" in missed.message and "vendor slipped" in missed.message
    assert "dropped" in only(a, "warning", commitment="rm/g2").message
    assert a.summary["violation"] == 0 and a.summary["warning"] == 2
    # a target passing while graded missed is not counted twice
    assert len(found(run(NO_FW, records, "2025-07-01"), "warning", commitment="rm/g1")) == 1


def test_a_goal_left_out_of_a_new_version_without_a_dropped_note_is_undisclosed() -> None:
    v2 = roadmap("2", "2025-03-01", ("g1", "2025-06-01"))
    records = [published(V1), published(v2), grade("g2", "on_track", "2025-02-01")]
    f = only(run(NO_FW, records, "2025-04-01"), "warning", commitment="rm/g2")
    assert f.since == t("2025-03-01") and "undisclosed" in f.message and "version 2" in f.message
    # disclosed late: the finding ends when the dropped grade with a note is recorded
    late = records + [grade("g2", "dropped", "2025-05-01", "folded into g1")]
    a = run(NO_FW, late, "2025-06-01", history=True)
    assert found(a, "warning", current=False, commitment="rm/g2", since="2025-03-01", until="2025-05-01")
    assert not found(a, "warning", current=True, commitment="rm/g2")


def test_a_disclosed_removal_gives_no_undisclosed_finding_and_ends_the_dropped_one() -> None:
    v2 = roadmap("2", "2025-03-01", ("g1", "2025-06-01"))
    records = [published(V1), grade("g2", "dropped", "2025-02-15", "folded into g1"), published(v2)]
    assert only(run(NO_FW, records, "2025-02-20"), "warning", commitment="rm/g2")
    a = run(NO_FW, records, "2025-04-01", history=True)
    assert not found(a, current=True, commitment="rm/g2")
    assert found(a, "warning", current=False, commitment="rm/g2", until="2025-03-01")


def test_a_dropped_grade_without_a_note_does_not_disclose() -> None:
    v2 = roadmap("2", "2025-03-01", ("g1", "2025-06-01"))
    records = [published(V1), grade("g2", "dropped", "2025-02-15", "  "), published(v2)]
    f = only(run(NO_FW, records, "2025-04-01"), "warning", commitment="rm/g2")
    assert "undisclosed" in f.message


def test_a_goal_is_graded_by_its_title_too() -> None:
    records = [published(V1), grade("Goal g1", "missed", "2025-03-01")]
    assert only(run(NO_FW, records, "2025-04-01"), "warning", commitment="rm/g1")


def test_roadmaps_can_be_passed_explicitly_or_switched_off() -> None:
    from mast.engine import assess

    records = [grade("g1", "missed", "2025-03-01")]
    a = assess(NO_FW, records, t("2025-04-01"), roadmaps=[V1])
    assert [(f.kind, f.commitment) for f in a.findings] == [("warning", "rm/g1")]
    off = assess(NO_FW, [published(V1)] + records, t("2025-04-01"), roadmaps=())
    assert off.findings == []


def test_a_version_published_after_as_of_is_not_yet_known() -> None:
    records = [published(V1, "2025-09-01"), grade("g1", "missed", "2025-03-01")]
    assert roadmap_findings(run(NO_FW, records, "2025-08-01")) == []
    assert roadmap_findings(run(NO_FW, records, "2025-09-02")) == [("warning", "rm/g1", None)]


# ------------------------------------------------------------------------- action: review

REVIEW_GATE = {"id": "review-before-deploy", "before": "deployed", "when": 'model == "m1"', "action": "review"}


def test_before_when_accepts_a_review_record() -> None:
    framework = fw(thresholds=[], standards=[], commitments=[REVIEW_GATE])
    records = [model("m1", EPOCH), stage("m1", "deployed", "2025-03-01")]
    assert only(run(framework, records, "2025-03-15"), "violation", commitment="review-before-deploy")
    assert kinds(run(framework, records + [review("2025-02-01", model="m1")], "2025-03-15")) == []


def test_every_accepts_review_records() -> None:
    framework = fw(thresholds=[], standards=[],
                   commitments=[{"id": "annual-review", "every": "P12M", "action": "review"}])
    assert only(run(framework, [], "2026-01-02"), "overdue", commitment="annual-review")
    reviewed = [review("2025-11-01")]
    assert kinds(run(framework, reviewed, "2026-01-02")) == []
    assert only(run(framework, reviewed, "2026-10-25"), "due", commitment="annual-review").due == t("2026-11-01")


def test_after_within_accepts_a_review_record() -> None:
    framework = fw(thresholds=[], standards=[],
                   commitments=[{"id": "review-each-report", "after": "report", "within": "P30D", "action": "review"}])
    rep = rec("report", "2025-03-01", ref="rr-1", period={"from": t(EPOCH), "to": t("2025-03-01")},
              edition="reviewer", sha256="0" * 64)
    assert only(run(framework, [rep], "2025-04-15"), "overdue", commitment="review-each-report")
    assert kinds(run(framework, [rep, review("2025-03-20")], "2025-04-15")) == []
