"""Escape clauses (DESIGN §4): an `escape` record turns gate violations into `escape` findings,
provided every notice is made within `within`."""

from engine_builders import deployed_model, escape, ev, found, fw, model, notice, only, run, t

CLAUSE = {"id": "competitor-parity", "notify": ["board", "public"], "within": "P3D"}
FW = fw(escape_clauses=[CLAUSE])
BROKEN = deployed_model() + [ev("m1", "bio", "2025-02-10", acc=0.6)]  # violation from 2025-02-10
ESC = escape("competitor-parity", "2025-02-15", ["m1"])                # deadline 2025-02-18
BOTH = [notice("board", "2025-02-16", about="esc-1"), notice("public", "2025-02-17", about="esc-1")]


def gate(a, kind):
    return found(a, kind, commitment="cbrn-3", standard="asl3")


def test_violation_becomes_escape_from_the_escapes_at():
    a = run(FW, BROKEN + [ESC] + BOTH, "2025-03-01", history=True)
    e = only(a, "escape", commitment="cbrn-3")
    assert (e.model, e.standard, e.since, e.until) == ("m1", "asl3", t("2025-02-15"), None)
    assert "escape clause" in e.message
    v = only(a, "violation")
    assert (v.since, v.until) == (t("2025-02-10"), t("2025-02-15"))
    assert a.summary == {"violation": 0, "overdue": 0, "due": 0, "escape": 1, "warning": 1}


def test_pending_notices_give_escape_and_due():
    a = run(FW, BROKEN + [ESC, BOTH[0]], "2025-02-16T12:00")
    assert only(a, "escape").since == t("2025-02-15")
    d = only(a, "due", commitment="competitor-parity")
    assert (d.due, d.model) == (t("2025-02-18"), None)
    assert "public" in d.message and "board" not in d.message.split(":")[-1]
    assert not found(a, "violation")


def test_missing_notice_after_within_violates_the_clause_and_the_gate_again():
    a = run(FW, BROKEN + [ESC, BOTH[0]], "2025-02-20")
    clause = only(a, "violation", commitment="competitor-parity")
    assert (clause.since, clause.due, clause.model) == (t("2025-02-18"), t("2025-02-18"), None)
    assert "public" in clause.message
    assert [f.since for f in gate(a, "violation")] == [t("2025-02-10")]
    assert not found(a, "escape")


def test_notice_to_someone_not_listed_or_about_something_else_does_not_count():
    records = BROKEN + [ESC, BOTH[0], notice("ceo", "2025-02-16", about="esc-1"), notice("public", "2025-02-16")]
    a = run(FW, records, "2025-02-20")
    assert only(a, "violation", commitment="competitor-parity")


def test_late_notices_protect_only_from_when_they_were_all_made():
    records = BROKEN + [ESC, BOTH[0], notice("public", "2025-02-20", about="esc-1")]
    a = run(FW, records, "2025-03-01", history=True)
    assert only(a, "escape", current=True).since == t("2025-02-20")
    clause = only(a, "violation", commitment="competitor-parity")
    assert (clause.since, clause.until) == (t("2025-02-18"), t("2025-02-20"))
    assert [(f.since, f.until) for f in gate(a, "violation")] == [(t("2025-02-10"), t("2025-02-20"))]


def test_until_ends_the_protection():
    records = BROKEN + [escape("competitor-parity", "2025-02-15", ["m1"], until="2025-02-25")] + BOTH
    a = run(FW, records, "2025-03-01", history=True)
    assert [(f.since, f.until) for f in gate(a, "escape")] == [(t("2025-02-15"), t("2025-02-25"))]
    assert [(f.since, f.until) for f in gate(a, "violation")] == [
        (t("2025-02-25"), None), (t("2025-02-10"), t("2025-02-15"))]


def test_escape_protects_only_the_listed_models():
    records = BROKEN + deployed_model("m2") + [ev("m2", "bio", "2025-02-10", acc=0.6), ESC] + BOTH
    a = run(FW, records, "2025-03-01")
    assert [f.model for f in gate(a, "escape")] == ["m1"]
    assert [f.model for f in gate(a, "violation")] == ["m2"]


def test_escape_does_not_excuse_other_findings():
    a = run(FW, BROKEN + [ESC] + BOTH, "2025-04-01")
    assert only(a, "overdue", commitment="cbrn-3").model == "m1"  # the determination is still overdue


def test_escape_under_an_unknown_clause_protects_nothing():
    records = BROKEN + [escape("no-such-clause", "2025-02-15", ["m1"])] + BOTH
    assert gate(run(FW, records, "2025-03-01"), "violation")


def test_escape_invoked_before_the_violation_covers_it_from_its_start():
    records = [model("m1"), escape("competitor-parity", "2025-01-20", ["m1"])] \
        + [notice("board", "2025-01-21", about="esc-1"), notice("public", "2025-01-21", about="esc-1")] \
        + BROKEN[1:]
    a = run(FW, records, "2025-03-01", history=True)
    assert not gate(a, "violation")
    assert only(a, "escape").since == t("2025-02-10")
