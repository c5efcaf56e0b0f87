"""When an own indicator fires, a determination is due within `determination_within`:
a `warning` until then, `overdue` (commitment = the threshold id) after (DESIGN §4)."""

from engine_builders import US, det, ev, found, fw, model, only, run, t, threshold

FIRE = [model("m1"), ev("m1", "bio", "2025-02-01", acc=0.6)]
DEADLINE = t("2025-03-03")  # 2025-02-01 + P30D


def test_warning_until_the_deadline():
    a = run(fw(), FIRE, "2025-02-15")
    w = only(a, "warning", commitment="cbrn-3", model="m1")
    assert (w.since, w.due) == (t("2025-02-01"), DEADLINE)
    assert not found(a, "overdue")


def test_overdue_after_the_deadline():
    a = run(fw(), FIRE, "2025-04-01")
    o = only(a, "overdue", commitment="cbrn-3", model="m1")
    assert (o.since, o.due) == (DEADLINE, DEADLINE)
    assert not found(a, "warning")
    assert a.summary["overdue"] == 1 and a.summary["warning"] == 0


def test_exactly_at_the_deadline_is_overdue():
    at = run(fw(), FIRE, DEADLINE)
    assert only(at, "overdue").since == DEADLINE
    assert not found(at, "warning")


def test_one_microsecond_before_the_deadline_is_a_warning():
    before = run(fw(), FIRE, DEADLINE - US)
    assert only(before, "warning").due == DEADLINE
    assert not found(before, "overdue")


def test_a_determination_resolves_the_warning():
    records = FIRE + [det("m1", "cbrn-3", "not_ruled_out", "2025-02-10")]
    a = run(fw(), records, "2025-04-01", history=True)
    assert not found(a, current=True)
    w = only(a, "warning")
    assert (w.since, w.until) == (t("2025-02-01"), t("2025-02-10"))


def test_a_late_determination_resolves_the_overdue():
    records = FIRE + [det("m1", "cbrn-3", "not_ruled_out", "2025-03-20")]
    a = run(fw(), records, "2025-04-01", history=True)
    assert not found(a, current=True)
    assert [(f.kind, f.since, f.until) for f in a.findings] == [
        ("warning", t("2025-02-01"), DEADLINE), ("overdue", DEADLINE, t("2025-03-20"))]


def test_a_determination_on_another_threshold_or_model_does_not_count():
    records = FIRE + [model("m2"), det("m2", "cbrn-3", "not_ruled_out", "2025-02-10"),
                      det("m1", "other", "not_ruled_out", "2025-02-10")]
    assert only(run(fw(), records, "2025-04-01"), "overdue").model == "m1"


def test_without_determination_within_the_warning_lasts():
    framework = fw(thresholds=[threshold(nro='score("bio", "acc") >= 0.5', within=None)])
    a = run(framework, FIRE, "2026-01-01")
    w = only(a, "warning", commitment="cbrn-3")
    assert w.due is None
    assert not found(a, "overdue")


def test_indicator_firing_again_after_a_determination_asks_for_a_new_one():
    records = FIRE + [det("m1", "cbrn-3", "ruled_out", "2025-02-10"), ev("m1", "bio", "2025-03-01", acc=0.7)]
    a = run(fw(), records, "2025-03-15")
    w = [f for f in found(a, "warning", current=True) if "determination is due" in f.message]
    assert [(f.since, f.due) for f in w] == [(t("2025-03-01"), t("2025-03-31"))]


def test_a_warning_indicator_asks_for_a_determination_too():
    records = [model("m1"), ev("m1", "bio", "2025-02-01", acc=0.4), det("m1", "cbrn-3", "ruled_out", "2025-02-10")]
    a = run(fw(), records, "2025-03-01", history=True)
    w = only(a, "warning", commitment="cbrn-3")
    assert (w.since, w.until, w.due) == (t("2025-02-01"), t("2025-02-10"), t("2025-03-03"))
