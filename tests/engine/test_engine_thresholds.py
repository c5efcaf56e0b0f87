"""Threshold status (DESIGN §4): indicators, precaution, best score, determinations."""

from engine_builders import CBRN, det, ev, found, fw, model, only, run, state, t, threshold

M = [model("m1")]


def test_untested_without_evidence_for_its_tasks():
    records = M + [ev("m1", "other_task", "2025-02-01", acc=0.9)]
    s = state(run(fw(), records, "2025-03-01"), "m1")
    assert (s.status, s.basis, s.since) == ("untested", None, None)


def test_ruled_out_when_no_indicator_fires():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.1)]
    s = state(run(fw(), records, "2025-03-01"), "m1")
    assert (s.status, s.basis, s.since) == ("ruled_out", "indicator", t("2025-02-01"))


def test_not_ruled_out_from_the_time_of_the_eval():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.1), ev("m1", "bio", "2025-02-10", acc=0.6)]
    before = state(run(fw(), records, "2025-02-09"), "m1")
    after = state(run(fw(), records, "2025-03-01"), "m1")
    assert before.status == "ruled_out"
    assert (after.status, after.basis, after.since) == ("not_ruled_out", "indicator", t("2025-02-10"))


def test_status_at_exactly_the_eval_time():
    records = M + [ev("m1", "bio", "2025-02-10", acc=0.6)]
    assert state(run(fw(), records, "2025-02-10"), "m1").status == "not_ruled_out"
    assert state(run(fw(), records, "2025-02-09T23:59:59.999999"), "m1").status == "untested"


def test_crossed_indicator():
    framework = fw(thresholds=[threshold(nro='score("bio", "acc") >= 0.5', crossed='score("bio", "acc") >= 0.8')])
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), ev("m1", "bio", "2025-02-10", acc=0.85)]
    assert state(run(framework, records, "2025-02-05"), "m1").status == "not_ruled_out"
    s = state(run(framework, records, "2025-03-01"), "m1")
    assert (s.status, s.since) == ("crossed", t("2025-02-10"))


def test_warning_indicator_leaves_status_ruled_out_but_warns():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.4)]  # >= 0.3 warning, < 0.5
    a = run(fw(), records, "2025-02-15")
    assert state(a, "m1").status == "ruled_out"
    w = only(a, "warning", commitment="cbrn-3", model="m1")
    assert w.since == t("2025-02-01")
    assert w.due == t("2025-03-03")  # determination_within P30D
    assert not found(a, "violation")


def test_score_is_the_best_value_so_far():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), ev("m1", "bio", "2025-02-10", acc=0.1)]
    s = state(run(fw(), records, "2025-03-01"), "m1")
    assert (s.status, s.since) == ("not_ruled_out", t("2025-02-01"))


def test_best_value_is_per_metric_not_per_eval():
    framework = fw(thresholds=[threshold(nro='score("bio", "acc") >= 0.5 && score("bio", "f1") >= 0.5')])
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.9, f1=0.1), ev("m1", "bio", "2025-02-10", acc=0.1, f1=0.9)]
    s = state(run(framework, records, "2025-03-01"), "m1")
    assert (s.status, s.since) == ("not_ruled_out", t("2025-02-10"))


# ------------------------------------------------------------------------- precaution

AND = fw(thresholds=[threshold(nro='score("a", "acc") >= 0.5 && score("b", "acc") >= 0.5',
                               crossed='score("a", "acc") >= 0.9 && score("b", "acc") >= 0.9')])


def test_missing_evidence_for_part_of_an_indicator_cannot_rule_it_out():
    records = M + [ev("m1", "a", "2025-02-01", acc=0.99)]  # only `a`, and high
    s = state(run(AND, records, "2025-03-01"), "m1")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "indicator", t("2025-02-01"))


def test_missing_evidence_never_makes_crossed():
    records = M + [ev("m1", "a", "2025-02-01", acc=0.99)]
    assert state(run(AND, records, "2025-03-01"), "m1").status != "crossed"
    records.append(ev("m1", "b", "2025-02-10", acc=0.95))
    s = state(run(AND, records, "2025-03-01"), "m1")
    assert (s.status, s.since) == ("crossed", t("2025-02-10"))


def test_a_low_score_rules_out_a_conjunction_even_with_the_other_part_missing():
    records = M + [ev("m1", "a", "2025-02-01", acc=0.1)]  # false && error == false in CEL
    assert state(run(AND, records, "2025-03-01"), "m1").status == "ruled_out"


def test_evidence_for_the_task_but_not_the_metric_counts_as_not_ruled_out():
    records = M + [ev("m1", "bio", "2025-02-01", f1=0.0)]
    s = state(run(fw(), records, "2025-03-01"), "m1")
    assert s.status == "not_ruled_out"


# ---------------------------------------------------------------------- determinations

def test_determination_sets_the_status_from_its_at():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "ruled_out", "2025-02-20")]
    before = state(run(fw(), records, "2025-02-19"), "m1")
    after = state(run(fw(), records, "2025-03-01"), "m1")
    assert (before.status, before.basis) == ("not_ruled_out", "indicator")
    assert (after.status, after.basis, after.since) == ("ruled_out", "determination", t("2025-02-20"))


def test_determination_without_any_eval():
    records = M + [det("m1", "cbrn-3", "crossed", "2025-02-20")]
    s = state(run(fw(), records, "2025-03-01"), "m1")
    assert (s.status, s.basis, s.since) == ("crossed", "determination", t("2025-02-20"))


def test_new_best_above_a_determination_raises_the_status_again():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "ruled_out", "2025-02-20"),
                   ev("m1", "bio", "2025-03-10", acc=0.7)]
    s = state(run(fw(), records, "2025-04-01"), "m1")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "indicator", t("2025-03-10"))


def test_eval_that_does_not_beat_the_best_leaves_the_determination():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "ruled_out", "2025-02-20"),
                   ev("m1", "bio", "2025-03-10", acc=0.55)]  # above the line, but not a new best
    s = state(run(fw(), records, "2025-04-01"), "m1")
    assert (s.status, s.basis, s.since) == ("ruled_out", "determination", t("2025-02-20"))


def test_new_best_that_stays_below_the_determined_status_does_not_change_it():
    framework = fw(thresholds=[threshold(nro='score("bio", "acc") >= 0.5', crossed='score("bio", "acc") >= 0.9')])
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "crossed", "2025-02-20"),
                   ev("m1", "bio", "2025-03-10", acc=0.7)]  # new best, indicator says not_ruled_out < crossed
    s = state(run(framework, records, "2025-04-01"), "m1")
    assert (s.status, s.basis, s.since) == ("crossed", "determination", t("2025-02-20"))


def test_new_best_at_the_determined_status_keeps_the_determination():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "not_ruled_out", "2025-02-20"),
                   ev("m1", "bio", "2025-03-10", acc=0.7)]  # a new best, but no higher status
    a = run(fw(), records, "2025-04-01")
    s = state(a, "m1")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "determination", t("2025-02-20"))
    assert not found(a, "warning") and not found(a, "overdue")  # no new determination is due


def test_a_later_determination_replaces_an_earlier_one():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "ruled_out", "2025-02-20"),
                   det("m1", "cbrn-3", "crossed", "2025-03-20")]
    s = state(run(fw(), records, "2025-04-01"), "m1")
    assert (s.status, s.basis, s.since) == ("crossed", "determination", t("2025-03-20"))


def test_determination_below_its_indicators_warns_that_it_overrides_them():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "ruled_out", "2025-02-20")]
    a = run(fw(), records, "2025-03-01")
    w = only(a, "warning", commitment="cbrn-3", model="m1")
    assert w.since == t("2025-02-20")
    assert "overrides" in w.message


def test_override_warning_ends_when_new_evidence_raises_the_status():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "ruled_out", "2025-02-20"),
                   ev("m1", "bio", "2025-03-10", acc=0.7)]
    a = run(fw(), records, "2025-03-15", history=True)
    override = [f for f in found(a, "warning") if "overrides" in f.message]
    assert [(f.since, f.until) for f in override] == [(t("2025-02-20"), t("2025-03-10"))]


def test_determination_agreeing_with_its_indicators_gives_no_warning():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), det("m1", "cbrn-3", "not_ruled_out", "2025-02-20")]
    a = run(fw(), records, "2025-03-01")
    assert not found(a, "warning")


def test_determination_above_its_indicators_is_no_override():
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.1), det("m1", "cbrn-3", "crossed", "2025-02-20")]
    a = run(fw(), records, "2025-03-01")
    assert not [f for f in a.findings if "overrides" in f.message]


# ----------------------------------------------------- indicators reading threshold(id)

AI_RND = [
    threshold("ai-rnd-4", nro='score("re", "x") >= 0.5', requires=()),
    threshold("ai-rnd-5", nro='threshold("ai-rnd-4") == "crossed" && score("re", "x") >= 0.8', requires=()),
]


def test_threshold_reads_another_thresholds_status():
    framework = fw(thresholds=[CBRN, threshold(
        "ai-rnd-5", nro='threshold("cbrn-3") == "not_ruled_out" && score("re", "x") >= 0.5', requires=())])
    records = M + [ev("m1", "bio", "2025-02-01", acc=0.6), ev("m1", "re", "2025-02-10", x=0.6)]
    s = state(run(framework, records, "2025-03-01"), "m1", "ai-rnd-5")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "indicator", t("2025-02-10"))


def test_a_change_in_the_status_read_is_judged_when_it_happens():
    records = M + [ev("m1", "re", "2025-02-01", x=0.85), det("m1", "ai-rnd-4", "crossed", "2025-03-01")]
    assert state(run(fw(thresholds=AI_RND), records, "2025-02-15"), "m1", "ai-rnd-5").status == "ruled_out"
    a = run(fw(thresholds=AI_RND), records, "2025-03-15")
    s = state(a, "m1", "ai-rnd-5")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "indicator", t("2025-03-01"))
    assert only(a, "warning", commitment="ai-rnd-5").since == t("2025-03-01")  # a determination is due


def test_the_status_read_going_down_rules_the_reader_out_again():
    records = M + [ev("m1", "re", "2025-02-01", x=0.85), det("m1", "ai-rnd-4", "crossed", "2025-03-01"),
                   det("m1", "ai-rnd-4", "not_ruled_out", "2025-04-01")]
    s = state(run(fw(thresholds=AI_RND), records, "2025-04-15"), "m1", "ai-rnd-5")
    assert (s.status, s.since) == ("ruled_out", t("2025-04-01"))


def test_the_status_read_is_the_models_own_including_inheritance():
    records = M + [model("m1-chat", parent="m1"), det("m1", "ai-rnd-4", "crossed", "2025-02-01"),
                   ev("m1-chat", "re", "2025-02-10", x=0.85)]
    a = run(fw(thresholds=AI_RND), records, "2025-03-01")
    assert state(a, "m1-chat", "ai-rnd-4").basis == "inherited"
    s = state(a, "m1-chat", "ai-rnd-5")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "indicator", t("2025-02-10"))


def test_thresholds_reading_each_other_in_a_cycle_do_not_hang():
    cycle = [threshold("a", nro='threshold("b") == "untested" && score("t", "x") >= 0.5', requires=()),
             threshold("b", nro='threshold("a") == "untested" && score("t", "x") >= 0.5', requires=())]
    a = run(fw(thresholds=cycle), M + [ev("m1", "t", "2025-02-01", x=0.9)], "2025-03-01")
    assert {state(a, "m1", tid).status for tid in ("a", "b")} <= {"ruled_out", "not_ruled_out"}


def test_evals_at_one_moment_are_judged_together():
    records = M + [ev("m1", "a", "2025-02-01", acc=0.99), ev("m1", "b", "2025-02-01", acc=0.1)]
    a = run(AND, records, "2025-03-01")
    assert (state(a, "m1").status, state(a, "m1").since) == ("ruled_out", t("2025-02-01"))
    assert not found(a)  # half the round (only `a`) would have fired a determination warning
