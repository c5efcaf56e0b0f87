"""Gates from a threshold's `requires` (DESIGN §4 "Gates"), safeguard coverage, exemptions
and the per-model `standards` state."""

import pytest

from engine_builders import (
    US, deployed_model, det, ev, exemption, found, fw, model, only, run, sg, stage, standard,
    standard_state, t, threshold,
)

HIGH = ev("m1", "bio", "2025-02-10", acc=0.6)  # cbrn-3 not ruled out from 2025-02-10


def test_violation_while_deployed_not_ruled_out_and_unmet():
    a = run(fw(), deployed_model() + [HIGH], "2025-03-01")
    v = only(a, "violation")
    assert (v.commitment, v.standard, v.model, v.since, v.until) == ("cbrn-3", "asl3", "m1", t("2025-02-10"), None)
    assert "asl3/guard" in v.message
    assert a.summary["violation"] == 1


@pytest.mark.parametrize("events, since", [
    # the latest of: at the stage, threshold binding, safeguard missing
    ([stage("m1", "deployed", "2025-02-01"), HIGH], "2025-02-10"),
    ([HIGH, stage("m1", "deployed", "2025-02-20")], "2025-02-20"),
    ([sg("asl3/guard", "implemented", "2025-01-01"), stage("m1", "deployed", "2025-02-01"), HIGH,
      sg("asl3/guard", "absent", "2025-02-25")], "2025-02-25"),
])
def test_since_is_when_all_three_held(events, since):
    a = run(fw(), [model("m1")] + events, "2025-03-01")
    assert only(a, "violation").since == t(since)


def test_no_violation_before_the_gated_stage():
    a = run(fw(), [model("m1"), stage("m1", "internal", "2025-02-01"), HIGH], "2025-03-01")
    assert not found(a, "violation")


def test_later_stage_is_gated_too():
    framework = fw(thresholds=[threshold(nro='score("bio", "acc") >= 0.5', requires=[("asl3", "internal")])])
    a = run(framework, deployed_model() + [HIGH], "2025-03-01")
    assert only(a, "violation").since == t("2025-02-10")


def test_no_violation_when_ruled_out_or_untested():
    low = ev("m1", "bio", "2025-02-10", acc=0.4)  # a warning, still ruled out
    assert not found(run(fw(), deployed_model() + [low], "2025-03-01"), "violation")
    assert not found(run(fw(), deployed_model(), "2025-03-01"), "violation")


def test_crossed_gates_too():
    a = run(fw(), deployed_model() + [det("m1", "cbrn-3", "crossed", "2025-02-10")], "2025-03-01")
    assert only(a, "violation").since == t("2025-02-10")


def test_retired_model_is_not_gated():
    records = deployed_model() + [HIGH, stage("m1", "retired", "2025-02-20")]
    a = run(fw(), records, "2025-03-01", history=True)
    assert not found(a, "violation", current=True)
    assert only(a, "violation").until == t("2025-02-20")


def test_implemented_safeguard_meets_the_gate():
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-01-15")]
    assert not found(run(fw(), records, "2025-03-01"), "violation")


def test_implementing_the_safeguard_resolves_the_violation():
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-02-15")]
    a = run(fw(), records, "2025-03-01", history=True)
    v = only(a, "violation")
    assert (v.since, v.until) == (t("2025-02-10"), t("2025-02-15"))
    assert a.summary["violation"] == 0


@pytest.mark.parametrize("status", ["partial", "absent"])
def test_partial_or_absent_counts_as_unmet(status):
    records = deployed_model() + [HIGH, sg("asl3/guard", status, "2025-01-15")]
    assert only(run(fw(), records, "2025-03-01"), "violation").since == t("2025-02-10")


def test_every_safeguard_of_the_standard_is_needed():
    framework = fw(standards=[standard("asl3", "guard", "bounty")])
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-01-15")]
    v = only(run(framework, records, "2025-03-01"), "violation")
    assert "asl3/bounty" in v.message and "asl3/guard" not in v.message.split("missing")[1]


def test_scoped_implemented_overrides_global_absent_for_that_model_only():
    records = deployed_model("m1") + deployed_model("m2") + [
        HIGH, ev("m2", "bio", "2025-02-10", acc=0.6),
        sg("asl3/guard", "absent", "2025-01-15"),
        sg("asl3/guard", "implemented", "2025-01-20", scope="m1"),
    ]
    a = run(fw(), records, "2025-03-01")
    assert [f.model for f in found(a, "violation")] == ["m2"]


def test_scoped_absent_overrides_global_implemented_for_that_model_only():
    records = deployed_model("m1") + deployed_model("m2") + [
        HIGH, ev("m2", "bio", "2025-02-10", acc=0.6),
        sg("asl3/guard", "absent", "2025-01-15", scope="m1"),
        sg("asl3/guard", "implemented", "2025-01-20"),  # later, but the scoped record still wins for m1
    ]
    a = run(fw(), records, "2025-03-01")
    assert [f.model for f in found(a, "violation")] == ["m1"]


# ------------------------------------------------------------------------- exemptions

def test_exemption_covers_until_it_expires_then_violation_resumes_exactly_then():
    records = deployed_model() + [HIGH, exemption("asl3/guard", "2025-02-01", "2025-03-01", scope="m1")]
    during = run(fw(), records, "2025-02-28T23:59:59.999999")
    assert not found(during, "violation")
    assert standard_state(during, "m1").exempted == ["asl3/guard"]

    at_expiry = run(fw(), records, "2025-03-01")
    assert only(at_expiry, "violation").since == t("2025-03-01")
    w = only(at_expiry, "warning", commitment="asl3", standard="asl3")
    assert (w.model, w.since) == ("m1", t("2025-03-01"))
    assert "expired" in w.message


def test_exemption_granted_after_the_violation_began_splits_it():
    records = deployed_model() + [HIGH, exemption("asl3/guard", "2025-02-15", "2025-03-01", scope="m1")]
    a = run(fw(), records, "2025-03-10", history=True)
    spans = [(f.since, f.until) for f in found(a, "violation")]
    assert spans == [(t("2025-03-01"), None), (t("2025-02-10"), t("2025-02-15"))]


def test_all_models_exemption_covers_every_model():
    records = deployed_model() + [HIGH, exemption("asl3/guard", "2025-02-01", "2025-04-01")]
    assert not found(run(fw(), records, "2025-03-01"), "violation")


def test_exemption_for_another_model_does_not_cover():
    records = deployed_model() + [model("m2"), HIGH, exemption("asl3/guard", "2025-02-01", "2025-04-01", scope="m2")]
    assert only(run(fw(), records, "2025-03-01"), "violation").model == "m1"


def test_expired_exemption_warning_ends_when_the_safeguard_is_implemented():
    records = deployed_model() + [HIGH, exemption("asl3/guard", "2025-02-01", "2025-03-01", scope="m1"),
                                  sg("asl3/guard", "implemented", "2025-03-05")]
    a = run(fw(), records, "2025-03-10", history=True)
    assert not found(a, current=True, commitment="asl3")
    w = only(a, "warning", commitment="asl3")
    assert (w.since, w.until) == (t("2025-03-01"), t("2025-03-05"))


def test_exemption_renewed_in_time_gives_no_warning():
    records = deployed_model() + [HIGH, exemption("asl3/guard", "2025-02-01", "2025-03-01", scope="m1"),
                                  exemption("asl3/guard", "2025-02-25", "2025-04-01", scope="m1")]
    a = run(fw(), records, "2025-03-10", history=True)
    assert not found(a, commitment="asl3") and not found(a, "violation")


# ----------------------------------------------------------------- standards in the state

def test_standards_state_unmet_met_and_not_required():
    framework = fw(standards=[standard("asl3", "guard", "bounty")])
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-01-15")]
    s = standard_state(run(framework, records, "2025-03-01"), "m1")
    assert (s.required_before, s.status, s.missing, s.exempted) == ("deployed", "unmet", ["asl3/bounty"], [])

    records.append(sg("asl3/bounty", "implemented", "2025-03-02"))
    s = standard_state(run(framework, records, "2025-03-05"), "m1")
    assert (s.status, s.missing) == ("met", [])

    s = standard_state(run(framework, records, "2025-02-05"), "m1")  # before the eval: untested
    assert s.status == "not_required"


def test_standards_state_counts_exempted_safeguards_as_met():
    framework = fw(standards=[standard("asl3", "guard", "bounty")])
    records = deployed_model() + [HIGH, sg("asl3/guard", "implemented", "2025-01-15"),
                                  exemption("asl3/bounty", "2025-02-01", "2025-04-01", scope="m1")]
    s = standard_state(run(framework, records, "2025-03-01"), "m1")
    assert (s.status, s.missing, s.exempted) == ("met", [], ["asl3/bounty"])


def test_one_violation_per_required_standard():
    framework = fw(
        thresholds=[threshold(nro='score("bio", "acc") >= 0.5', requires=[("asl3", "deployed"), ("sec", "training")])],
        standards=[standard("asl3"), standard("sec", "egress")],
    )
    records = [model("m1"), stage("m1", "training", "2025-01-10"), stage("m1", "deployed", "2025-02-20"), HIGH]
    a = run(framework, records, "2025-03-01")
    assert sorted((f.standard, f.since) for f in found(a, "violation")) == [
        ("asl3", t("2025-02-20")), ("sec", t("2025-02-10"))]


def test_violation_ends_exactly_when_the_threshold_is_ruled_out():
    records = deployed_model() + [HIGH, det("m1", "cbrn-3", "ruled_out", "2025-02-20")]
    assert only(run(fw(), records, "2025-02-20T00:00:00", history=True), "violation").until == t("2025-02-20")
    assert only(run(fw(), records, t("2025-02-20") - US), "violation").until is None
