"""The framework diff: one test per classification rule of issue 6, renames, order and output."""

from __future__ import annotations

import json

import pytest

from diff_helpers import BIO, CYBER, base, commitment, diff_edit, edited, load, rows, standard, threshold
from mast.framework.diff import diff_frameworks


def only(diff):
    assert len(diff.changes) == 1, [c.to_json() for c in diff.changes]
    return diff.changes[0]


def test_a_framework_does_not_differ_from_itself() -> None:
    diff = diff_edit(lambda d: None)
    assert diff.changes == ()
    assert diff.summary() == "no changes"
    assert diff.old == diff.new == ("lab", "1")


def test_version_effective_and_changelog_are_not_changes() -> None:
    def revise(d):
        d["framework"].update(version="2", effective="2025-09-01T00:00:00Z",
                              changelog=[{"text": "Tidied up.", "acknowledges": []}])

    diff = diff_edit(revise)
    assert diff.changes == ()
    assert diff.new == ("lab", "2")


# ---------------------------------------------------------------- elements added and removed


@pytest.mark.parametrize("path,element,address", [
    (("thresholds", 1), "threshold", "cyber"),
    (("commitments", 0), "commitment", "report"),
])
def test_removing_an_element_is_a_weakening(path, element, address) -> None:
    change = only(diff_edit(lambda d: d[path[0]].pop(path[1])))
    assert (change.change, change.element, change.id, change.field) == ("removed", element, address, None)
    assert change.weakens
    assert change.old["id"] == address and change.new is None
    assert change.reason == f"{element} '{address}' removed"


def test_removing_a_standard_also_removes_the_requirements_on_it() -> None:
    def drop(d):
        d["standards"] = [s for s in d["standards"] if s["id"] != "secure"]
        threshold(d, "cbrn")["requires"].pop(1)

    diff = diff_edit(drop)
    assert rows(diff) == [("weakened", "threshold", "cbrn", "requires.secure"),
                          ("removed", "standard", "secure", None)]
    assert diff.changes[1].old["safeguards"] == [{"id": "egress"}, {"id": "insider", "audience": "reviewer"}]


def test_a_safeguard_is_addressed_standard_slash_safeguard() -> None:
    removed = only(diff_edit(lambda d: standard(d, "secure")["safeguards"].pop(1)))
    assert (removed.change, removed.element, removed.id) == ("removed", "safeguard", "secure/insider")
    added = only(diff_edit(lambda d: standard(d, "secure")["safeguards"].append({"id": "mfa", "title": "MFA"})))
    assert (added.change, added.element, added.id, added.new) == ("added", "safeguard", "secure/mfa",
                                                                  {"id": "mfa", "title": "MFA"})
    assert added.reason == "safeguard 'mfa' (MFA) added"
    assert not added.weakens


def test_adding_elements_is_added() -> None:
    def add(d):
        d["thresholds"].append({"id": "new", "domain": "x", "indicators": {"crossed": f"{BIO} >= 0.9"}})
        d["standards"].append({"id": "extra"})
        d["commitments"].append({"id": "yearly", "every": "P1Y", "action": "report"})

    assert rows(diff_edit(add)) == [("added", "threshold", "new", None), ("added", "standard", "extra", None),
                                    ("added", "commitment", "yearly", None)]


def test_an_escape_clause_added_weakens_and_removed_strengthens() -> None:
    added = only(diff_edit(lambda d: d["escape_clauses"].append({"id": "race", "notify": ["board"], "within": "P1D"})))
    assert (added.change, added.id, added.field) == ("weakened", "race", None)
    assert added.reason == "escape clause 'race' added: a new way to set commitments aside"
    removed = only(diff_edit(lambda d: d["escape_clauses"].clear()))
    assert (removed.change, removed.id, removed.old["id"]) == ("strengthened", "parity", "parity")


# ---------------------------------------------------------------- indicators


def _indicator(level, text):
    return lambda d: threshold(d, "cbrn")["indicators"].__setitem__(level, text)


def test_an_indicator_line_raised_is_a_weakening() -> None:
    change = only(diff_edit(_indicator("not_ruled_out", f"{BIO} >= 0.7")))
    assert (change.change, change.id, change.field) == ("weakened", "cbrn", "indicators.not_ruled_out")
    assert (change.old, change.new) == (f"{BIO} >= 0.6", f"{BIO} >= 0.7")
    assert change.reason == (f"not_ruled_out indicator made harder to trigger: {BIO} >= 0.6 -> {BIO} >= 0.7")


def test_an_indicator_line_lowered_is_a_strengthening() -> None:
    change = only(diff_edit(_indicator("not_ruled_out", f"{BIO} >= 0.55")))
    assert change.change == "strengthened"
    assert "easier to trigger" in change.reason


@pytest.mark.parametrize("old,new,kind", [
    (f"{BIO} >= 0.6 || {CYBER} >= 0.5", f"{BIO} >= 0.6", "weakened"),  # a disjunct dropped
    (f"{BIO} >= 0.6", f"{BIO} >= 0.6 && {CYBER} >= 0.5", "weakened"),  # a conjunct added
    (f"{BIO} >= 0.6", f"{BIO} >= 0.6 || {CYBER} >= 0.5", "strengthened"),
    (f"{BIO} >= 0.6", f"{CYBER} >= 0.6", "changed"),
])
def test_indicators_are_compared_as_cel(old, new, kind) -> None:
    old_fw = edited(_indicator("not_ruled_out", old))
    new_fw = edited(_indicator("not_ruled_out", new))
    assert [c.change for c in diff_frameworks(old_fw, new_fw).changes] == [kind]


def test_an_indicator_reformatted_is_no_change() -> None:
    assert diff_edit(_indicator("not_ruled_out", 'score( "bio","acc" )>=0.60')).changes == ()


def test_an_indicator_level_removed_weakens_and_added_strengthens() -> None:
    removed = only(diff_edit(lambda d: threshold(d, "cbrn")["indicators"].pop("warning")))
    assert (removed.change, removed.field, removed.new) == ("weakened", "indicators.warning", None)
    assert removed.reason == f"warning indicator removed (was {BIO} >= 0.5)"
    added = only(diff_edit(_indicator("crossed", f"{BIO} >= 0.9")))
    assert (added.change, added.field) == ("strengthened", "indicators.crossed")


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize("edit,field,kind", [
    (lambda d: threshold(d, "cbrn").__setitem__("determination_within", "P60D"), "determination_within", "weakened"),
    (lambda d: threshold(d, "cbrn").__setitem__("determination_within", "P14D"), "determination_within",
     "strengthened"),
    (lambda d: threshold(d, "cbrn").pop("determination_within"), "determination_within", "weakened"),
    (lambda d: commitment(d, "report").__setitem__("every", "P1Y"), "every", "weakened"),
    (lambda d: commitment(d, "report").__setitem__("every", "P3M"), "every", "strengthened"),
    (lambda d: commitment(d, "board").__setitem__("within", "P14D"), "within", "weakened"),
    (lambda d: commitment(d, "board").__setitem__("within", "PT72H"), "within", "strengthened"),
])
def test_time_allowed_lengthened_is_a_weakening(edit, field, kind) -> None:
    change = only(diff_edit(edit))
    assert (change.change, change.field) == (kind, field)


def test_durations_whose_order_depends_on_the_month_are_changed() -> None:
    change = only(diff_edit(lambda d: threshold(d, "cbrn").__setitem__("determination_within", "P1M")))
    assert (change.change, change.old, change.new) == ("changed", "P30D", "P1M")
    assert "depends on the length of the months" in change.reason
    # a month is never shorter than 28 days: P1M after P28D is longer (or as long)
    assert only(diff_edit(lambda d: commitment(d, "board").__setitem__("within", "P1M"))).change == "weakened"


def test_equal_durations_written_differently_are_no_change() -> None:
    assert diff_edit(lambda d: commitment(d, "board").__setitem__("within", "P1W")).changes == ()
    assert diff_edit(lambda d: commitment(d, "report").__setitem__("every", "P0Y6M")).changes == ()


def test_a_longer_duration_reason_names_both_values() -> None:
    change = only(diff_edit(lambda d: commitment(d, "board").__setitem__("within", "P14D")))
    assert change.reason == "time allowed ('within') lengthened from P7D to P14D"


# ---------------------------------------------------------------- requires and recommendations


def _requires(d):
    return threshold(d, "cbrn")["requires"]


def test_a_gate_moved_to_a_later_stage_is_a_weakening() -> None:
    change = only(diff_edit(lambda d: _requires(d)[1].__setitem__("before", "internal")))
    assert (change.change, change.field) == ("weakened", "requires.secure.before")
    assert (change.old, change.new) == ({"standard": "secure", "before": "training"},
                                        {"standard": "secure", "before": "internal"})
    assert change.reason == ("standard secure now required before internal (was required before training): "
                             "a later gate")
    earlier = only(diff_edit(lambda d: _requires(d)[0].__setitem__("before", "internal")))
    assert (earlier.change, earlier.field) == ("strengthened", "requires.deploy.before")


def test_a_requirement_removed_is_a_weakening_and_added_a_strengthening() -> None:
    removed = only(diff_edit(lambda d: _requires(d).pop(0)))
    assert (removed.change, removed.field, removed.new) == ("weakened", "requires.deploy", None)
    added = only(diff_edit(lambda d: threshold(d, "cyber").setdefault("requires", []).append(
        {"standard": "secure", "before": "internal"})))
    assert (added.change, added.id, added.field) == ("strengthened", "cyber", "requires.secure")


def test_a_requirement_moved_to_recommendations_is_one_weakening() -> None:
    def demote(d):
        _requires(d).pop(0)
        threshold(d, "cbrn")["recommendations"] = [{"standard": "deploy", "before": "deployed"}]

    change = only(diff_edit(demote))
    assert (change.change, change.field) == ("weakened", "requires.deploy")
    assert change.new == {"standard": "deploy", "before": "deployed", "recommended": True}
    assert "moved from requires to recommendations" in change.reason


def test_a_recommendation_promoted_to_a_requirement_is_a_strengthening() -> None:
    def promote(d):
        threshold(d, "cyber").pop("recommendations")
        threshold(d, "cyber")["requires"] = [{"standard": "deploy", "before": "deployed"}]

    change = only(diff_edit(promote))
    assert (change.change, change.id, change.field) == ("strengthened", "cyber", "requires.deploy")


def test_recommendations_alone_have_no_direction() -> None:
    moved = only(diff_edit(lambda d: threshold(d, "cyber")["recommendations"][0].__setitem__("before", "internal")))
    assert (moved.change, moved.field) == ("changed", "recommendations.deploy.before")
    dropped = only(diff_edit(lambda d: threshold(d, "cyber").pop("recommendations")))
    assert (dropped.change, dropped.field) == ("changed", "recommendations.deploy")


def test_a_standard_listed_twice_gates_at_its_earliest_stage() -> None:
    twice = edited(lambda d: _requires(d).append({"standard": "deploy", "before": "internal"}))
    once = edited(lambda d: _requires(d)[0].__setitem__("before", "internal"))
    assert diff_frameworks(twice, once).changes == ()


# ---------------------------------------------------------------- commitments


def test_a_where_filter_narrowed_is_a_weakening_and_removed_a_strengthening() -> None:
    narrowed = only(diff_edit(lambda d: commitment(d, "board").__setitem__("where", 'status == "crossed"')))
    assert (narrowed.change, narrowed.field) == ("weakened", "where")
    removed = only(diff_edit(lambda d: commitment(d, "board").pop("where")))
    assert (removed.change, removed.old, removed.new) == ("strengthened", 'status != "ruled_out"', None)


def test_a_when_condition_made_harder_is_a_weakening() -> None:
    harder = 'threshold("cbrn") == "crossed" && stage == "deployed"'
    change = only(diff_edit(lambda d: commitment(d, "review").__setitem__("when", harder)))
    assert (change.change, change.field) == ("weakened", "when")
    easier = 'threshold("cbrn") in ["not_ruled_out", "crossed"]'
    assert only(diff_edit(lambda d: commitment(d, "review").__setitem__("when", easier))).change == "strengthened"


def test_a_holds_invariant_made_easier_to_satisfy_is_a_weakening() -> None:
    easier = '!(threshold("cbrn") == "crossed" && stage == "deployed" && model != "legacy")'
    change = only(diff_edit(lambda d: commitment(d, "no-crossed").__setitem__("holds", easier)))
    assert (change.change, change.field) == ("weakened", "holds")
    assert "easier to meet" in change.reason
    stricter = 'threshold("cbrn") != "crossed"'
    assert only(diff_edit(lambda d: commitment(d, "no-crossed").__setitem__("holds", stricter))).change \
        == "strengthened"


def test_a_gate_commitment_moved_to_a_later_stage_is_a_weakening() -> None:
    change = only(diff_edit(lambda d: commitment(d, "review").__setitem__("before", "retired")))
    assert (change.change, change.field, change.old, change.new) == ("weakened", "before", "deployed", "retired")


def test_to_removed_weakens_added_strengthens_changed_is_changed() -> None:
    removed = only(diff_edit(lambda d: commitment(d, "board").pop("to")))
    assert (removed.change, removed.field, removed.old) == ("weakened", "to", "board")
    added = only(diff_edit(lambda d: commitment(d, "report").__setitem__("to", "public")))
    assert (added.change, added.new) == ("strengthened", "public")
    assert only(diff_edit(lambda d: commitment(d, "board").__setitem__("to", "ceo"))).change == "changed"


def test_a_commitment_changing_kind_is_changed() -> None:
    def reshape(d):
        c = commitment(d, "report")
        c.pop("every")
        c.pop("action")
        c["holds"] = 'stage != "deployed"'

    change = only(diff_edit(reshape))
    assert (change.change, change.id, change.field) == ("changed", "report", None)
    assert (change.old, change.new) == ({"every": "P6M", "action": "report"}, {"holds": 'stage != "deployed"'})


def test_action_and_trigger_kind_edits_are_changed() -> None:
    assert rows(diff_edit(lambda d: commitment(d, "board").update(after="incident", action="report"))) == [
        ("changed", "commitment", "board", "action"), ("changed", "commitment", "board", "after")]


# ---------------------------------------------------------------- escape clauses, approvals


def test_escape_clause_notices_reduced_or_later_are_weakenings() -> None:
    def loosen(d):
        d["escape_clauses"][0].update(notify=["board"], within="P7D")

    assert rows(diff_edit(loosen)) == [("weakened", "escape_clause", "parity", "notify.public"),
                                       ("weakened", "escape_clause", "parity", "within")]
    more = only(diff_edit(lambda d: d["escape_clauses"][0]["notify"].append("authority")))
    assert (more.change, more.field, more.new) == ("strengthened", "notify.authority", "authority")


def test_approvals_reduced_are_weakenings() -> None:
    change = only(diff_edit(lambda d: d["amendment"]["approvals"].remove("ceo")))
    assert (change.change, change.element, change.id, change.field) == ("weakened", "amendment", "amendment",
                                                                        "approvals.ceo")
    assert change.reason == "a new framework version no longer needs sign-off by ceo"
    determinations = only(diff_edit(lambda d: d["determinations"]["approvals"].append("board")))
    assert (determinations.change, determinations.id) == ("strengthened", "determinations")


@pytest.mark.parametrize("notice,kind", [("P7D", "weakened"), (None, "weakened"), ("P90D", "strengthened")])
def test_amendment_notice_shortened_or_removed_is_a_weakening(notice, kind) -> None:
    def edit(d):
        if notice is None:
            d["amendment"].pop("notice")
        else:
            d["amendment"]["notice"] = notice

    change = only(diff_edit(edit))
    assert (change.change, change.field) == (kind, "notice")


# ---------------------------------------------------------------- audience and text


def test_audience_raised_is_a_weakening_of_transparency() -> None:
    raised = only(diff_edit(lambda d: standard(d, "secure")["safeguards"][1].__setitem__("audience", "internal")))
    assert (raised.change, raised.id, raised.field) == ("weakened", "secure/insider", "audience")
    assert raised.reason == "audience raised from reviewer to internal: fewer readers can see it (less transparency)"
    lowered = only(diff_edit(lambda d: standard(d, "secure")["safeguards"][1].pop("audience")))
    assert (lowered.change, lowered.old, lowered.new) == ("strengthened", "reviewer", "public")


def test_text_edits_are_changed() -> None:
    def retitle(d):
        threshold(d, "cbrn")["title"] = "Chemical and biological uplift"
        standard(d, "deploy")["description"] = "What a deployment needs."
        d["framework"]["title"] = "Lab Scaling Policy"

    diff = diff_edit(retitle)
    assert rows(diff) == [("changed", "threshold", "cbrn", "title"), ("changed", "standard", "deploy", "description"),
                          ("changed", "framework", "framework", "title")]
    assert diff.changes[0].reason == "title changed from 'CBRN uplift' to 'Chemical and biological uplift'"
    assert diff.changes[1].reason == "description added: 'What a deployment needs.'"


def test_domain_and_redaction_reason_are_changed() -> None:
    def edit(d):
        threshold(d, "cbrn")["domain"] = "bio"
        standard(d, "secure")["safeguards"][1]["redaction_reason"] = "public-safety"

    assert rows(diff_edit(edit)) == [("changed", "threshold", "cbrn", "domain"),
                                     ("changed", "safeguard", "secure/insider", "redaction_reason")]


# ---------------------------------------------------------------- renames


def _rename_cbrn(d, raise_line=False):
    t = threshold(d, "cbrn")
    t.update(id="cbrn-3", renamed_from="cbrn")
    if raise_line:
        t["indicators"]["not_ruled_out"] = f"{BIO} >= 0.7"
    commitment(d, "review")["when"] = 'threshold("cbrn-3") == "crossed"'
    commitment(d, "no-crossed")["holds"] = '!(threshold("cbrn-3") == "crossed" && stage == "deployed")'


def test_a_rename_is_one_change_and_references_follow_it() -> None:
    change = only(diff_edit(_rename_cbrn))
    assert (change.change, change.id, change.field, change.old, change.new, change.old_id) == (
        "changed", "cbrn-3", "id", "cbrn", "cbrn-3", "cbrn")
    assert change.reason == "renamed from 'cbrn' to 'cbrn-3'"


def test_other_changes_of_a_renamed_element_carry_the_old_id() -> None:
    diff = diff_edit(lambda d: _rename_cbrn(d, raise_line=True))
    weakened = diff.weakenings[0]
    assert (weakened.id, weakened.old_id, weakened.field) == ("cbrn-3", "cbrn", "indicators.not_ruled_out")
    assert weakened.acknowledged_by({"cbrn"}) and weakened.acknowledged_by({"cbrn-3"})
    assert not weakened.acknowledged_by({"cyber"})


def test_without_renamed_from_a_new_id_is_a_removal_and_an_addition() -> None:
    diff = diff_edit(lambda d: commitment(d, "report").__setitem__("id", "reports"))
    assert rows(diff) == [("removed", "commitment", "report", None), ("added", "commitment", "reports", None)]


def test_a_renamed_standard_keeps_its_requirements_and_safeguards() -> None:
    def rename(d):
        s = standard(d, "secure")
        s.update(id="security", renamed_from="secure")
        s["safeguards"][1]["audience"] = "internal"
        _requires(d)[1]["standard"] = "security"

    diff = diff_edit(rename)
    assert rows(diff) == [("weakened", "safeguard", "security/insider", "audience"),
                          ("changed", "standard", "security", "id")]
    assert diff.changes[0].old_id == "secure/insider"


def test_a_renamed_safeguard_is_reported_by_address() -> None:
    change = only(diff_edit(lambda d: standard(d, "secure")["safeguards"][0].update(id="egress-limits",
                                                                                     renamed_from="egress")))
    assert (change.element, change.id, change.old_id, change.old, change.new) == (
        "safeguard", "secure/egress-limits", "secure/egress", "secure/egress", "secure/egress-limits")


def test_the_reverse_diff_recognises_a_rename_from_the_old_side() -> None:
    renamed = edited(lambda d: _rename_cbrn(d, raise_line=True))
    forward = diff_frameworks(load(base()), renamed)
    backward = diff_frameworks(renamed, load(base()))
    assert set(backward.changes) == {c.mirrored() for c in forward.changes}
    rename = next(c for c in backward.changes if c.field == "id")
    assert (rename.id, rename.old_id, rename.reason) == ("cbrn", "cbrn-3", "renamed from 'cbrn-3' to 'cbrn'")
    assert next(c for c in backward.changes if c.field != "id").change == "strengthened"


def test_an_ambiguous_rename_is_not_followed() -> None:
    def both_claim(d):
        d["commitments"][0].update(id="report-a", renamed_from="report")
        d["commitments"].append({"id": "report-b", "renamed_from": "report", "every": "P6M", "action": "report"})

    diff = diff_frameworks(load(base()), edited(both_claim))
    assert ("removed", "commitment", "report", None) in rows(diff)
    assert {("added", "commitment", "report-a", None), ("added", "commitment", "report-b", None)} <= set(rows(diff))


# ---------------------------------------------------------------- order and output


def _mixed(d):
    d["framework"]["title"] = "New title"                              # changed
    d["commitments"].append({"id": "yearly", "every": "P1Y", "action": "report"})  # added
    d["amendment"]["approvals"].append("board")                        # strengthened
    d["escape_clauses"][0]["within"] = "P5D"                           # weakened
    d["thresholds"].pop(1)                                             # removed
    threshold(d, "cbrn")["indicators"]["not_ruled_out"] = f"{BIO} >= 0.8"  # weakened


def test_weakenings_come_first_then_strengthened_added_changed() -> None:
    assert rows(diff_edit(_mixed)) == [
        ("weakened", "threshold", "cbrn", "indicators.not_ruled_out"),
        ("removed", "threshold", "cyber", None),
        ("weakened", "escape_clause", "parity", "within"),
        ("strengthened", "amendment", "amendment", "approvals.board"),
        ("added", "commitment", "yearly", None),
        ("changed", "framework", "framework", "title"),
    ]


def test_summary_and_weakenings() -> None:
    diff = diff_edit(_mixed)
    assert diff.summary() == "2 weakened, 1 removed, 1 strengthened, 1 added, 1 changed"
    assert [c.id for c in diff.weakenings] == ["cbrn", "cyber", "parity"]


def test_to_json() -> None:
    diff = diff_edit(_mixed)
    data = diff.to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["old"] == {"id": "lab", "version": "1"}
    assert data["summary"] == {"added": 1, "removed": 1, "strengthened": 1, "weakened": 2, "changed": 1}
    assert data["changes"][0] == {
        "id": "cbrn", "element": "threshold", "change": "weakened", "field": "indicators.not_ruled_out",
        "old": f"{BIO} >= 0.6", "new": f"{BIO} >= 0.8",
        "reason": f"not_ruled_out indicator made harder to trigger: {BIO} >= 0.6 -> {BIO} >= 0.8", "old_id": None}


def test_mirrored_swaps_direction_values_and_reason() -> None:
    change = only(diff_edit(_indicator("not_ruled_out", f"{BIO} >= 0.7")))
    mirror = change.mirrored()
    assert (mirror.change, mirror.old, mirror.new) == ("strengthened", f"{BIO} >= 0.7", f"{BIO} >= 0.6")
    assert mirror.reason == f"not_ruled_out indicator made easier to trigger: {BIO} >= 0.7 -> {BIO} >= 0.6"
    assert mirror.mirrored() == change


def test_changes_with_element_values_are_hashable() -> None:
    removed = only(diff_edit(lambda d: d["thresholds"].pop(1)))
    assert isinstance(removed.old, dict)
    assert {removed, removed.mirrored().mirrored()} == {removed}
    assert removed.mirrored().change == "added"
