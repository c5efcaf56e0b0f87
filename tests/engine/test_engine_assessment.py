"""What `assess` reads and what it returns: `as_of`, `supersedes`, history, summary, JSON."""

from datetime import datetime

import pytest

from engine_builders import (
    deployed_model, det, ev, found, fw, model, only, rec, report, run, sg, stage, state, t,
)
from mast.engine import assess
from mast.records.canonical import record_id

HIGH = ev("m1", "bio", "2025-02-10", acc=0.6)


def test_records_after_as_of_are_ignored():
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-03-10")]
    a = run(fw(), records, "2025-03-01")
    assert only(a, "violation").until is None
    records = deployed_model() + [ev("m1", "bio", "2025-03-10", acc=0.9)]
    assert state(run(fw(), records, "2025-03-01"), "m1").status == "untested"
    assert [m.id for m in run(fw(), [model("m1"), model("m2", "2025-04-01")], "2025-03-01").models] == ["m1"]


def test_input_order_does_not_matter():
    records = deployed_model() + [HIGH, det("m1", "cbrn-3", "ruled_out", "2025-02-20")]
    assert run(fw(), records, "2025-03-01", history=True) == run(fw(), records[::-1], "2025-03-01", history=True)


def test_supersedes_by_ref_replaces_the_corrected_record():
    wrong = rec("eval", "2025-02-10", ref="e1", model="m1", task="bio", metrics={"acc": 0.6})
    fix = rec("eval", "2025-02-10", model="m1", task="bio", metrics={"acc": 0.06}, supersedes="e1")
    records = [model("m1"), wrong, fix]
    s = state(run(fw(), records, "2025-03-01"), "m1")
    assert (s.status, s.since) == ("ruled_out", t("2025-02-10"))


def test_supersedes_by_id_replaces_the_corrected_record():
    wrong = sg("asl3/guard", "absent", "2025-01-15")
    fix = rec("safeguard", "2025-01-15", safeguard="asl3/guard", status="implemented", supersedes=record_id(wrong))
    assert not found(run(fw(), deployed_model() + [HIGH, wrong, fix], "2025-03-01"), "violation")


def test_a_correction_is_only_seen_from_its_own_at():
    wrong = rec("stage", "2025-02-01", ref="s1", model="m1", stage="deployed")
    fix = rec("stage", "2025-03-05", model="m1", stage="internal", supersedes="s1")
    records = [model("m1"), wrong, HIGH, fix]
    assert only(run(fw(), records, "2025-03-01"), "violation").since == t("2025-02-10")
    later = run(fw(), records, "2025-03-10", history=True)
    assert not found(later, "violation")  # the correction rewrites the past
    assert later.models[0].stage == "internal"


def test_history_lists_resolved_findings_with_until_after_current_ones():
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-02-15"),
                                  sg("asl3/guard", "absent", "2025-02-20")]
    plain = run(fw(), records, "2025-03-01")
    assert all(f.until is None for f in plain.findings)
    full = run(fw(), records, "2025-03-01", history=True)
    assert full.findings[:len(plain.findings)] == plain.findings
    resolved = full.findings[len(plain.findings):]
    assert resolved and all(f.until is not None for f in resolved)
    assert [(f.kind, f.since, f.until) for f in resolved] == [("violation", t("2025-02-10"), t("2025-02-15"))]


def test_summary_counts_only_current_findings():
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-02-15"),
                                  sg("asl3/guard", "absent", "2025-02-20")]
    a = run(fw(), records, "2025-03-01", history=True)
    assert len(found(a, "violation")) == 2
    assert a.summary == {"violation": 1, "overdue": 0, "due": 0, "escape": 0, "warning": 1}
    assert a.summary == run(fw(), records, "2025-03-01").summary


def test_findings_are_sorted_violation_first():
    framework = fw(commitments=[{"id": "risk-report", "every": "P1M", "action": "report"}])
    a = run(framework, deployed_model() + [HIGH], "2025-06-01")
    order = [f.kind for f in a.findings]
    assert order == sorted(order, key=["violation", "overdue", "due", "escape", "warning"].index)
    assert order[0] == "violation" and "overdue" in order


def test_json_has_exactly_the_design_keys():
    a = run(fw(), deployed_model() + [HIGH], "2025-03-01")
    data = a.to_json_data()
    assert set(data) == {"as_of", "framework", "models", "findings", "summary"}
    assert data["as_of"] == "2025-03-01T00:00:00Z"
    assert data["framework"] == {"id": "test-fw", "version": "1"}
    assert set(data["summary"]) == {"violation", "overdue", "due", "escape", "warning"}
    m = data["models"][0]
    assert (m["id"], m["stage"]) == ("m1", "deployed")
    assert m["thresholds"] == [{"id": "cbrn-3", "status": "not_ruled_out", "basis": "indicator",
                                "since": "2025-02-10T00:00:00Z"}]
    assert m["standards"][0] == {"id": "asl3", "required_before": "deployed", "status": "unmet",
                                 "missing": ["asl3/guard"], "exempted": []}
    v = data["findings"][0]
    assert {k: v[k] for k in ("kind", "commitment", "standard", "model", "since")} == {
        "kind": "violation", "commitment": "cbrn-3", "standard": "asl3", "model": "m1",
        "since": "2025-02-10T00:00:00Z"}
    assert "until" not in v and isinstance(v["message"], str)


def test_models_named_only_by_other_records_are_assessed():
    a = run(fw(), [stage("m9", "deployed", "2025-02-01"), ev("m9", "bio", "2025-02-10", acc=0.6)], "2025-03-01")
    assert [m.id for m in a.models] == ["m9"]
    assert only(a, "violation").model == "m9"


def test_framework_records_are_ignored():
    framework_record = rec("framework", "2025-02-01", framework={"mast": 1}, sha256="0" * 64)
    assert run(fw(), [framework_record], "2025-03-01").findings == []


def test_as_of_must_carry_a_zone():
    with pytest.raises(ValueError):
        assess(fw(), [], datetime(2025, 3, 1))


def test_assess_needs_a_framework():
    with pytest.raises(ValueError):
        assess([], [], t("2025-03-01"))


def test_report_record_covers_every_model():
    framework = fw(commitments=[{"id": "risk-report", "every": "P6M", "action": "report"}])
    a = run(framework, deployed_model() + [report("2025-06-01")], "2025-08-01")
    assert not found(a, commitment="risk-report")
