"""Several framework versions: each moment is judged by the version in force."""

from engine_builders import (
    deployed_model, ev, found, fw, incident, model, only, report, review, run, state, t, threshold,
)

V2_AT = "2025-04-01"
STRICT = threshold(nro='score("bio", "acc") >= 0.5')
LENIENT = threshold(nro='score("bio", "acc") >= 0.7')  # v2 raises the line
RISK = {"id": "risk-report", "every": "P6M", "action": "report"}
MID = ev("m1", "bio", "2025-02-10", acc=0.6)  # not ruled out under v1, ruled out under v2


def versions(v1: dict | None = None, v2: dict | None = None):
    return [fw(version="2", effective=V2_AT, **(v2 or {})), fw(version="1", **(v1 or {}))]  # any order


def test_each_moment_is_judged_by_the_version_in_force():
    vs = versions({"thresholds": [STRICT]}, {"thresholds": [LENIENT]})
    records = [model("m1"), MID]
    before = run(vs, records, "2025-03-01")
    assert (before.framework.version, state(before, "m1").status) == ("1", "not_ruled_out")
    after = run(vs, records, "2025-05-01")
    assert (after.framework.version, state(after, "m1").status) == ("2", "ruled_out")


def test_a_gate_violation_under_v1_ends_at_v2s_effective():
    vs = versions({"thresholds": [STRICT]}, {"thresholds": [LENIENT]})
    a = run(vs, deployed_model() + [MID], "2025-05-01", history=True)
    assert not found(a, current=True)
    v = only(a, "violation")
    assert (v.since, v.until) == (t("2025-02-10"), t(V2_AT))


def test_a_stricter_v2_starts_a_violation_at_its_effective():
    vs = versions({"thresholds": [LENIENT]}, {"thresholds": [STRICT]})
    v = only(run(vs, deployed_model() + [MID], "2025-05-01"), "violation")
    assert v.since == t(V2_AT)


def test_a_finding_continuing_across_versions_keeps_its_original_since():
    vs = versions({"thresholds": [STRICT]}, {"thresholds": [STRICT], "commitments": [RISK]})
    a = run(vs, deployed_model() + [MID], "2025-05-01", history=True)
    v = only(a, "violation")
    assert (v.since, v.until) == (t("2025-02-10"), None)


def test_a_commitment_added_in_v2_applies_only_from_v2s_effective():
    vs = versions(v2={"commitments": [RISK]})
    assert not found(run(vs, [], "2025-09-01"))  # v1 (Jan) + P6M would be overdue in July
    assert only(run(vs, [], "2025-10-01"), "overdue").since == t("2025-10-01")


def test_a_gate_commitment_added_in_v2_is_broken_only_from_v2s_effective():
    ai = threshold("ai-rnd-5", crossed='score("re", "x") >= 0.95', requires=())
    gate = {"id": "review-at-ai-rnd-5", "before": "deployed", "when": 'threshold("ai-rnd-5") == "crossed"',
            "action": "review"}
    vs = versions({"thresholds": [ai]}, {"thresholds": [ai], "commitments": [gate]})
    records = deployed_model() + [ev("m1", "re", "2025-02-10", x=0.97)]
    assert not found(run(vs, records, "2025-03-01"), "violation")
    assert only(run(vs, records, "2025-05-01"), "violation").since == t(V2_AT)
    assert not found(run(vs, records + [review("2025-03-01")], "2025-05-01", history=True), "violation")


def test_a_commitment_removed_in_v2_stops_at_v2s_effective():
    vs = versions(v1={"commitments": [RISK]})
    a = run(vs, [], "2025-12-01", history=True)
    assert not found(a, current=True)
    assert not found(a)  # v1's first report was due 2025-07-01, after v1 ended


def test_a_cadence_is_not_restarted_by_a_revision_that_keeps_it():
    vs = versions({"commitments": [RISK]}, {"commitments": [RISK]})
    assert only(run(vs, [], "2025-08-01"), "overdue").since == t("2025-07-01")
    records = [report("2025-03-01")]
    assert only(run(vs, records, "2025-08-25"), "due").due == t("2025-09-01")


def test_a_cadence_re_added_after_a_gap_restarts():
    v3 = fw(version="3", effective="2025-06-01", commitments=[RISK])
    vs = [fw(version="1", commitments=[RISK]), fw(version="2", effective="2025-03-01"), v3]
    assert not found(run(vs, [], "2025-11-01"))
    assert only(run(vs, [], "2025-12-01"), "overdue").since == t("2025-12-01")


def test_as_of_before_every_version_shows_statuses_but_judges_nothing():
    records = deployed_model(created="2024-06-01", deployed_at="2024-07-01") + [
        ev("m1", "bio", "2024-08-01", acc=0.6)]
    a = run(fw(effective="2025-01-01"), records, "2024-09-01")
    assert state(a, "m1").status == "not_ruled_out"
    assert a.findings == [] and sum(a.summary.values()) == 0


def test_as_of_before_every_version_is_shown_under_the_first():
    assert run(versions(), [], "2024-12-01").framework.version == "1"


def test_violation_under_the_first_version_starts_at_its_effective():
    records = deployed_model(created="2024-06-01", deployed_at="2024-07-01") + [
        ev("m1", "bio", "2024-08-01", acc=0.6)]
    assert only(run(fw(effective="2025-01-01"), records, "2025-02-01"), "violation").since == t("2025-01-01")


INCIDENT = {"id": "incident-notice", "after": "incident", "within": "P7D", "action": "notice", "to": "authority"}


def test_a_deadline_running_across_versions_is_one_obligation():
    vs = versions({"commitments": [INCIDENT]}, {"commitments": [INCIDENT]})
    a = run(vs, [incident("2025-03-28")], "2025-04-02", history=True)
    assert [(f.kind, f.since, f.until, f.due) for f in a.findings] == [
        ("due", t("2025-03-28"), None, t("2025-04-04"))]
    assert only(run(vs, [incident("2025-03-28")], "2025-05-01"), "overdue").since == t("2025-04-04")


def test_a_deadline_commitment_added_in_v2_binds_only_later_triggers():
    vs = versions(v2={"commitments": [INCIDENT]})
    records = [incident("2025-03-01", ref="old"), incident("2025-04-10", ref="new")]
    a = run(vs, records, "2025-06-01", history=True)
    o = only(a, "overdue", commitment="incident-notice")
    assert (o.since, "new" in o.message) == (t("2025-04-17"), True)
