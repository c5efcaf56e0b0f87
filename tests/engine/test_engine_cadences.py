"""`every` cadences (DESIGN §4 "Cadences")."""

from engine_builders import US, found, fw, only, report, run, t

RISK = {"id": "risk-report", "every": "P6M", "action": "report"}


def framework(effective: str = "2025-01-01", every: str = "P6M"):
    return fw(commitments=[dict(RISK, every=every)], effective=effective)


def test_first_period_starts_at_effective():
    assert not found(run(framework(), [], "2025-06-01"))
    d = only(run(framework(), [], "2025-06-20"), "due", commitment="risk-report")
    assert (d.since, d.due, d.model) == (t("2025-06-17"), t("2025-07-01"), None)


def test_due_in_the_last_14_days_exactly():
    assert not found(run(framework(), [], t("2025-06-17") - US))
    assert only(run(framework(), [], "2025-06-17"), "due").since == t("2025-06-17")


def test_overdue_after_every_without_a_report():
    a = run(framework(), [], "2025-07-01")
    o = only(a, "overdue", commitment="risk-report")
    assert (o.since, o.due) == (t("2025-07-01"), t("2025-07-01"))
    assert not found(a, "due")
    assert only(run(framework(), [], "2026-03-01"), "overdue").since == t("2025-07-01")


def test_a_report_resets_the_clock():
    records = [report("2025-04-01")]
    assert not found(run(framework(), records, "2025-07-15"))
    assert only(run(framework(), records, "2025-09-20"), "due").due == t("2025-10-01")
    assert only(run(framework(), records, "2025-10-01"), "overdue").since == t("2025-10-01")


def test_a_late_report_resolves_the_overdue_and_starts_a_new_period():
    records = [report("2025-08-01")]
    a = run(framework(), records, "2025-09-01", history=True)
    assert not found(a, current=True)
    assert [(f.kind, f.since, f.until) for f in a.findings] == [
        ("due", t("2025-06-17"), t("2025-07-01")), ("overdue", t("2025-07-01"), t("2025-08-01"))]
    assert only(run(framework(), records, "2026-02-01"), "overdue").since == t("2026-02-01")


def test_calendar_months_from_the_end_of_a_month():
    f = framework(effective="2025-08-31")
    assert only(run(f, [], "2026-02-27"), "due").due == t("2026-02-28")
    assert only(run(f, [], "2026-02-28"), "overdue").since == t("2026-02-28")


def test_calendar_months_in_a_leap_year():
    assert only(run(framework(effective="2023-08-31"), [], "2024-03-01"), "overdue").since == t("2024-02-29")


def test_report_from_before_the_framework_does_not_count():
    assert only(run(framework(effective="2025-03-01"), [report("2025-02-01")], "2025-09-10"), "overdue").since \
        == t("2025-09-01")
