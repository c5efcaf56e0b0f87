"""A child model (`parent:`) inherits its parent's threshold status unless its own
determination says otherwise (DESIGN §3)."""

from engine_builders import det, ev, found, fw, model, only, run, sg, stage, state, t

FAMILY = [model("base"), model("chat", "2025-01-05", parent="base")]


def test_child_inherits_its_parents_status():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.6)]
    s = state(run(fw(), records, "2025-03-01"), "chat")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "inherited", t("2025-02-01"))


def test_child_inherits_the_higher_of_its_own_and_its_parents():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.6), ev("chat", "bio", "2025-02-05", acc=0.1)]
    s = state(run(fw(), records, "2025-03-01"), "chat")
    assert (s.status, s.basis) == ("not_ruled_out", "inherited")


def test_childs_own_higher_status_is_its_own():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.1), ev("chat", "bio", "2025-02-05", acc=0.7)]
    s = state(run(fw(), records, "2025-03-01"), "chat")
    assert (s.status, s.basis, s.since) == ("not_ruled_out", "indicator", t("2025-02-05"))


def test_grandchild_inherits_through_its_parent():
    records = FAMILY + [model("chat-mini", "2025-01-06", parent="chat"), ev("base", "bio", "2025-02-01", acc=0.6)]
    s = state(run(fw(), records, "2025-03-01"), "chat-mini")
    assert (s.status, s.basis) == ("not_ruled_out", "inherited")


def test_childs_own_determination_wins():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.6), det("chat", "cbrn-3", "ruled_out", "2025-02-10")]
    a = run(fw(), records, "2025-03-01")
    assert state(a, "base").status == "not_ruled_out"
    s = state(a, "chat")
    assert (s.status, s.basis, s.since) == ("ruled_out", "determination", t("2025-02-10"))


def test_parents_determination_is_inherited():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.6), det("base", "cbrn-3", "crossed", "2025-02-10")]
    s = state(run(fw(), records, "2025-03-01"), "chat")
    assert (s.status, s.basis, s.since) == ("crossed", "inherited", t("2025-02-10"))


def test_child_deployed_before_its_parents_determination_violates_until_it():
    records = FAMILY + [
        ev("base", "bio", "2025-02-01", acc=0.6),       # base: not ruled out
        stage("chat", "deployed", "2025-02-05"),         # chat ships on the inherited status
        det("base", "cbrn-3", "ruled_out", "2025-02-20"),
    ]
    during = run(fw(), records, "2025-02-10")
    v = only(during, "violation", model="chat", commitment="cbrn-3")
    assert v.since == t("2025-02-05") and v.standard == "asl3"

    after = run(fw(), records, "2025-03-01", history=True)
    assert not found(after, "violation", current=True)
    resolved = only(after, "violation", model="chat")
    assert (resolved.since, resolved.until) == (t("2025-02-05"), t("2025-02-20"))
    assert state(after, "chat").status == "ruled_out"


def test_inherited_status_gives_the_child_no_determination_warning():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.6)]
    a = run(fw(), records, "2025-03-01")
    assert only(a, "warning", commitment="cbrn-3").model == "base"


def test_inherited_status_gates_the_child_only_where_the_child_is_staged():
    records = FAMILY + [ev("base", "bio", "2025-02-01", acc=0.6), stage("chat", "deployed", "2025-02-05"),
                        sg("asl3/guard", "implemented", "2025-01-01", scope="base")]
    a = run(fw(), records, "2025-03-01")
    assert [f.model for f in found(a, "violation")] == ["chat"]
