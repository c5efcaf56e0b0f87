"""`before`+`when` commitments and `holds` invariants (DESIGN §3, §4)."""

from engine_builders import CBRN, deployed_model, det, ev, found, fw, model, only, review, run, stage, t, threshold

AI_RND_5 = threshold("ai-rnd-5", nro='score("re", "x") >= 0.8', crossed='score("re", "x") >= 0.95', requires=())
REVIEW = {"id": "review-at-ai-rnd-5", "before": "deployed", "when": 'threshold("ai-rnd-5") == "crossed"',
          "action": "review"}
CROSSED = ev("m1", "re", "2025-02-10", x=0.97)


def gate_fw(**extra):
    return fw(thresholds=[AI_RND_5], standards=[], commitments=[REVIEW], **extra)


def test_violation_while_deployed_without_a_review_after_when():
    a = run(gate_fw(), deployed_model() + [CROSSED], "2025-03-01")
    v = only(a, "violation", commitment="review-at-ai-rnd-5")
    assert (v.model, v.since, v.standard) == ("m1", t("2025-02-10"), None)


def test_since_is_the_later_of_when_and_the_stage():
    records = [model("m1"), CROSSED, stage("m1", "deployed", "2025-02-20")]
    assert only(run(gate_fw(), records, "2025-03-01"), "violation").since == t("2025-02-20")


def test_no_violation_while_when_is_false():
    records = deployed_model() + [ev("m1", "re", "2025-02-10", x=0.85)]  # not ruled out, not crossed
    assert not found(run(gate_fw(), records, "2025-03-01"), "violation")


def test_no_violation_before_the_stage():
    records = [model("m1"), stage("m1", "internal", "2025-02-01"), CROSSED]
    assert not found(run(gate_fw(), records, "2025-03-01"), "violation")


def test_review_before_when_does_not_count():
    records = deployed_model() + [review("2025-02-05", model="m1"), CROSSED]
    assert only(run(gate_fw(), records, "2025-03-01"), "violation").since == t("2025-02-10")


def test_review_after_when_before_the_stage_satisfies_it():
    records = [model("m1"), CROSSED, review("2025-02-15", model="m1"), stage("m1", "deployed", "2025-02-20")]
    assert not found(run(gate_fw(), records, "2025-03-01", history=True), "violation")


def test_review_afterwards_resolves_the_violation():
    records = deployed_model() + [CROSSED, review("2025-02-20")]  # a review naming no model covers all
    a = run(gate_fw(), records, "2025-03-01", history=True)
    v = only(a, "violation")
    assert (v.since, v.until) == (t("2025-02-10"), t("2025-02-20"))
    assert a.summary["violation"] == 0


def test_review_of_another_model_does_not_count():
    records = deployed_model() + [model("m2"), CROSSED, review("2025-02-20", model="m2")]
    assert only(run(gate_fw(), records, "2025-03-01"), "violation").until is None


def test_when_becomes_true_through_a_determination():
    records = deployed_model() + [det("m1", "ai-rnd-5", "crossed", "2025-02-12")]
    assert only(run(gate_fw(), records, "2025-03-01"), "violation").since == t("2025-02-12")


def test_when_that_becomes_true_again_needs_a_new_review():
    records = deployed_model() + [CROSSED, review("2025-02-15", model="m1"),
                                  det("m1", "ai-rnd-5", "not_ruled_out", "2025-02-20"),
                                  det("m1", "ai-rnd-5", "crossed", "2025-03-01")]
    a = run(gate_fw(), records, "2025-03-10", history=True)
    assert [(f.since, f.until) for f in found(a, "violation")] == [
        (t("2025-03-01"), None), (t("2025-02-10"), t("2025-02-15"))]


# -------------------------------------------------------------------------- invariants

NO_CROSSED_DEPLOYMENT = {"id": "no-crossed-deployment",
                         "holds": '!(threshold("cbrn-3") == "crossed" && stage == "deployed")'}


def inv_fw(holds=NO_CROSSED_DEPLOYMENT):
    return fw(thresholds=[threshold(nro='score("bio", "acc") >= 0.5', crossed='score("bio", "acc") >= 0.9')],
              commitments=[holds])


def test_invariant_holds():
    records = deployed_model() + [ev("m1", "bio", "2025-02-10", acc=0.6)]
    assert not found(run(inv_fw(), records, "2025-03-01"), commitment="no-crossed-deployment")


def test_invariant_broken_from_the_moment_it_stops_holding():
    records = deployed_model() + [ev("m1", "bio", "2025-02-10", acc=0.95)]
    v = only(run(inv_fw(), records, "2025-03-01"), "violation", commitment="no-crossed-deployment")
    assert (v.model, v.since) == ("m1", t("2025-02-10"))


def test_invariant_resolved_when_it_holds_again():
    records = deployed_model() + [ev("m1", "bio", "2025-02-10", acc=0.95), stage("m1", "retired", "2025-02-20")]
    a = run(inv_fw(), records, "2025-03-01", history=True)
    v = only(a, "violation", commitment="no-crossed-deployment")
    assert (v.since, v.until) == (t("2025-02-10"), t("2025-02-20"))


def test_invariant_that_cannot_be_evaluated_does_not_hold():
    holds = {"id": "bio-tested", "holds": 'score("bio", "acc") < 0.99'}
    records = [model("m1", "2025-01-10")]
    v = only(run(inv_fw(holds), records, "2025-03-01"), "violation", commitment="bio-tested")
    assert v.since == t("2025-01-10")  # from when the model exists, not before
    records.append(ev("m1", "bio", "2025-02-01", acc=0.5))
    a = run(inv_fw(holds), records, "2025-03-01", history=True)
    assert only(a, "violation", commitment="bio-tested").until == t("2025-02-01")


def test_invariant_reads_the_model_id():
    holds = {"id": "only-m1-deploys", "holds": 'model == "m1" || stage != "deployed"'}
    records = deployed_model("m1") + deployed_model("m2", "2025-02-03")
    v = only(run(fw(thresholds=[CBRN], commitments=[holds]), records, "2025-03-01"), "violation")
    assert (v.model, v.since) == ("m2", t("2025-02-03"))
