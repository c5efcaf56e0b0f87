"""`after`+`within` deadlines (DESIGN §4 "Deadlines")."""

from engine_builders import US, det, found, fw, incident, model, notice, only, rec, run, t

BOARD = {"id": "board-notice", "after": "determination", "where": 'status != "ruled_out"', "within": "P7D",
         "action": "notice", "to": "board"}
INCIDENT = {"id": "incident-72h", "after": "incident", "within": "PT72H", "action": "notice", "to": "authority"}
M = [model("m1")]


def board_fw():
    return fw(commitments=[BOARD])


def nro(at: str, ref: str | None = None):
    return det("m1", "cbrn-3", "not_ruled_out", at, **({"ref": ref} if ref else {}))


def test_where_filters_triggers():
    records = M + [det("m1", "cbrn-3", "ruled_out", "2025-02-01")]
    a = run(board_fw(), records, "2025-03-01", history=True)
    assert not found(a, commitment="board-notice")


def test_due_until_the_deadline_then_overdue():
    records = M + [nro("2025-02-01")]
    due = run(board_fw(), records, "2025-02-03")
    d = only(due, "due", commitment="board-notice")
    assert (d.since, d.due, d.model) == (t("2025-02-01"), t("2025-02-08"), "m1")
    late = run(board_fw(), records, "2025-02-10")
    o = only(late, "overdue", commitment="board-notice")
    assert (o.since, o.due) == (t("2025-02-08"), t("2025-02-08"))
    assert not found(late, "due")


def test_due_only_in_the_last_14_days():
    framework = fw(commitments=[dict(BOARD, within="P30D")])
    records = M + [nro("2025-02-01")]  # deadline 2025-03-03, due from 2025-02-17
    assert not found(run(framework, records, "2025-02-16T23:59:59"))
    assert only(run(framework, records, "2025-02-17"), "due").since == t("2025-02-17")


def test_matched_by_about_the_triggers_ref():
    records = M + [nro("2025-02-01", ref="det-1"), notice("board", "2025-02-05", about="det-1")]
    a = run(board_fw(), records, "2025-03-01", history=True)
    assert [(f.kind, f.until) for f in found(a, commitment="board-notice")] == [("due", t("2025-02-05"))]


def test_matched_by_about_the_triggers_id():
    trigger = nro("2025-02-01")
    from mast.records.canonical import record_id
    records = M + [trigger, notice("board", "2025-02-05", about=record_id(trigger))]
    a = run(board_fw(), records, "2025-03-01")
    assert not found(a, commitment="board-notice")


def test_matched_by_the_first_later_notice_to_the_right_recipient():
    records = M + [nro("2025-02-01"), notice("board", "2025-02-06")]
    a = run(board_fw(), records, "2025-03-01", history=True)
    assert only(a, "due", commitment="board-notice").until == t("2025-02-06")


def test_notice_before_the_trigger_does_not_count():
    records = M + [notice("board", "2025-01-20"), nro("2025-02-01")]
    assert only(run(board_fw(), records, "2025-03-01"), "overdue").commitment == "board-notice"


def test_notice_to_the_wrong_recipient_does_not_count():
    records = M + [nro("2025-02-01", ref="det-1"), notice("public", "2025-02-05", about="det-1"),
                   notice("ceo", "2025-02-05")]
    assert only(run(board_fw(), records, "2025-03-01"), "overdue").commitment == "board-notice"


def test_notice_about_something_else_does_not_count():
    records = M + [nro("2025-02-01", ref="det-1"), notice("board", "2025-02-05", about="det-0")]
    assert only(run(board_fw(), records, "2025-03-01"), "overdue").commitment == "board-notice"


def test_a_late_notice_resolves_the_overdue():
    records = M + [nro("2025-02-01", ref="det-1"), notice("board", "2025-02-20", about="det-1")]
    a = run(board_fw(), records, "2025-03-01", history=True)
    assert not found(a, current=True)
    o = only(a, "overdue")
    assert (o.since, o.until) == (t("2025-02-08"), t("2025-02-20"))


# -------------------------------------------------------------------------- incidents

def test_72h_incident_boundary_exactly():
    framework = fw(commitments=[INCIDENT])
    records = M + [incident("2025-02-01T09:30", ref="inc-1")]
    deadline = t("2025-02-04T09:30")
    assert only(run(framework, records, deadline - US), "due").due == deadline
    at = run(framework, records, deadline)
    assert only(at, "overdue").since == deadline
    assert not found(at, "due")


def test_one_notice_does_not_satisfy_two_incidents_without_about():
    framework = fw(commitments=[INCIDENT])
    records = M + [incident("2025-02-01", ref="inc-1"), incident("2025-02-02", ref="inc-2"),
                   notice("authority", "2025-02-03")]
    a = run(framework, records, "2025-03-01")
    o = only(a, "overdue", commitment="incident-72h")
    assert o.since == t("2025-02-05")  # inc-2's deadline: the notice went to inc-1
    assert "inc-2" in o.message


def test_two_notices_satisfy_two_incidents():
    framework = fw(commitments=[INCIDENT])
    records = M + [incident("2025-02-01"), incident("2025-02-02"),
                   notice("authority", "2025-02-03"), notice("authority", "2025-02-03T01:00")]
    assert not found(run(framework, records, "2025-03-01"))


def test_notice_about_one_incident_does_not_answer_another():
    framework = fw(commitments=[INCIDENT])
    records = M + [incident("2025-02-01", ref="inc-1"), incident("2025-02-02", ref="inc-2"),
                   notice("authority", "2025-02-02T12:00", about="inc-2")]
    o = only(run(framework, records, "2025-03-01"), "overdue")
    assert o.since == t("2025-02-04") and "inc-1" in o.message


def test_notice_naming_another_model_does_not_count():
    framework = fw(commitments=[INCIDENT])
    records = M + [model("m2"), incident("2025-02-01", model="m1"), notice("authority", "2025-02-02", model="m2")]
    o = only(run(framework, records, "2025-03-01"), "overdue")
    assert o.model == "m1"


def test_where_on_incident_severity():
    framework = fw(commitments=[dict(INCIDENT, where='severity == "critical"')])
    records = M + [incident("2025-02-01", severity="minor")]
    assert not found(run(framework, records, "2025-03-01"))
    records.append(incident("2025-02-10", severity="critical"))
    assert only(run(framework, records, "2025-03-01"), "overdue").since == t("2025-02-13")


def test_triggers_before_the_framework_are_not_judged():
    framework = fw(commitments=[INCIDENT], effective="2025-03-01")
    records = M + [incident("2025-02-01")]
    assert not found(run(framework, records, "2025-04-01"))


def test_trigger_of_any_record_kind():
    framework = fw(commitments=[{"id": "exemption-notice", "after": "exemption", "within": "P3D",
                                 "action": "notice", "to": "board"}])
    records = M + [rec("exemption", "2025-02-01", safeguard="asl3/guard", reason="r", expires=t("2025-05-01"))]
    assert only(run(framework, records, "2025-03-01"), "overdue").since == t("2025-02-04")
