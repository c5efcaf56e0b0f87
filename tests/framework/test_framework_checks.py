"""Cross-element checks (mast.framework.checks): each class of problem, where it is reported."""

from __future__ import annotations

import pytest

from mast.errors import InvalidInput
from mast.framework.checks import check_framework
from mast.framework.loader import load_framework, load_framework_text
from mast.framework.model import Framework
from mast.sourcemap import load_file

from framework_helpers import EXAMPLE, HEAD, loc, only, problems_of

T = "  - {id: %s, domain: d, indicators: {not_ruled_out: 'score(\"t\", \"m\") > 0.5'}}\n"
S = "standards:\n  - id: s\n    safeguards: [{id: g}]\n"


def test_example_has_no_problems():
    doc = load_file(EXAMPLE)
    assert check_framework(doc, Framework.model_validate(doc.data)) == []


def test_problems_are_reported_together_in_file_order():
    text = HEAD + "thresholds:\n" + T % "a" + T % "a" + "commitments:\n  - {id: c, every: P6M, action: reprot}\n"
    problems = problems_of(text)
    assert [p.split(": ")[0] for p in problems] == [loc(text, 5, "a,"), loc(text, 7, "reprot")]


# ------------------------------------------------------------------ ids


@pytest.mark.parametrize("section, item", [
    ("thresholds", T.strip("\n")),
    ("commitments", "  - {id: %s, every: P6M, action: report}"),
    ("escape_clauses", "  - {id: %s, notify: [board], within: P3D}"),
])
def test_duplicate_ids_in_a_list(section, item):
    text = HEAD + f"{section}:\n" + item % "x" + "\n" + item % "y" + "\n" + item % "x" + "\n"
    assert only(problems_of(text)) == f"{loc(text, 6, 'x')}: {section}[2].id: duplicate id 'x' (first at line 4)"


def test_duplicate_standard_ids():
    text = HEAD + S + "  - {id: s}\n"
    assert only(problems_of(text)) == f"{loc(text, 6, 's')}: standards[1].id: duplicate id 's' (first at line 4)"


def test_duplicate_safeguards_within_a_standard_but_not_across_standards():
    text = HEAD + "standards:\n  - id: s\n    safeguards: [{id: g}, {id: h}, {id: g}]\n  - {id: t, safeguards: [{id: g}]}\n"
    assert only(problems_of(text)) == f"{loc(text, 5, 'g}]')}: standards[0].safeguards[2].id: duplicate id 'g' (first at line 5)"


def test_threshold_and_commitment_may_not_share_an_id():
    text = HEAD + "thresholds:\n" + T % "cbrn-3" + "commitments:\n  - {id: cbrn-3, every: P6M, action: report}\n"
    problem = only(problems_of(text))
    assert problem.startswith(f"{loc(text, 6, 'cbrn-3')}: commitments[0].id: 'cbrn-3' is already the id of a threshold")


def test_escape_clause_and_commitment_may_not_share_an_id():
    text = HEAD + "commitments:\n  - {id: e, every: P6M, action: report}\n" \
                  "escape_clauses:\n  - {id: e, notify: [board], within: P3D}\n"
    assert only(problems_of(text)).startswith(f"{loc(text, 6, 'e,')}: escape_clauses[0].id: 'e' is already the id of a commitment")


def test_renamed_from_its_own_id():
    text = HEAD + "standards:\n  - {id: s, renamed_from: s}\n"
    assert only(problems_of(text)) == f"{loc(text, 4, 's}')}: standards[0].renamed_from: 's' is this element's own id"


def test_renamed_from_an_element_that_still_exists():
    text = HEAD + "standards:\n  - {id: s}\n  - {id: t, renamed_from: s}\n"
    assert "'s' is still the id of another element" in only(problems_of(text))


# ------------------------------------------------------------------ standards referenced by thresholds


def test_required_standard_must_exist():
    text = HEAD + S + "thresholds:\n  - id: a\n    domain: d\n    requires: [{standard: nope, before: deployed}]\n"
    assert only(problems_of(text)) == (f"{loc(text, 9, 'nope')}: thresholds[0].requires[0].standard: "
                                       "unknown standard 'nope'; standards: s")


def test_recommended_standard_must_exist():
    text = HEAD + S + "thresholds:\n  - id: a\n    domain: d\n    recommendations:\n      - {standard: t, before: deployed}\n"
    assert only(problems_of(text)).startswith(
        f"{loc(text, 10, 't,')}: thresholds[0].recommendations[0].standard: unknown standard 't'")


def test_a_standard_is_not_both_required_and_recommended():
    text = HEAD + S + ("thresholds:\n  - id: a\n    domain: d\n    requires: [{standard: s, before: deployed}]\n"
                       "    recommendations: [{standard: s, before: training}]\n")
    assert only(problems_of(text)) == (f"{loc(text, 10, 's,')}: thresholds[0].recommendations[0].standard: "
                                       "'s' is both required and recommended by a; "
                                       "a standard is either committed to or only recommended")


# ------------------------------------------------------------------ CEL


def _indicator(expression: str) -> str:
    return HEAD + "thresholds:\n  - id: a\n    domain: d\n    indicators:\n" \
                  f"      not_ruled_out: '{expression}'\n  - {{id: b, domain: d}}\n"


def test_cel_syntax_error_points_into_the_expression():
    text = _indicator('score("t", "m") >= && 1')
    assert only(problems_of(text)).startswith(
        f"{loc(text, 7, '&&')}: thresholds[0].indicators.not_ruled_out: CEL syntax error")


def test_unknown_function():
    text = _indicator('score("t", "m") > 0.5 && frobnicate(1)')
    assert only(problems_of(text)).startswith(
        f"{loc(text, 7, 'frobnicate')}: thresholds[0].indicators.not_ruled_out: unknown function frobnicate()")


@pytest.mark.parametrize("call", ['score("t")', 'score("t", "m", "x")', 'score(t, "m")'])
def test_score_needs_two_string_literals(call):
    text = _indicator(f"{call} > 0.5")
    assert only(problems_of(text)) == (f"{loc(text, 7, 'score')}: thresholds[0].indicators.not_ruled_out: "
                                       'score() takes 2 string literal arguments: score("task", "metric")')


def test_threshold_must_name_a_threshold():
    text = _indicator('score("t", "m") > 0.5 && threshold("zzz") == "crossed"')
    assert only(problems_of(text)) == (f"{loc(text, 7, chr(39))}: thresholds[0].indicators.not_ruled_out: "
                                       'threshold("zzz") names no threshold; thresholds: a, b')


def test_threshold_compared_with_a_status_that_does_not_exist():
    text = _indicator('score("t", "m") > 0.5 && threshold("b") == "crosed"')
    assert only(problems_of(text)) == (f"{loc(text, 7, 'threshold')}: thresholds[0].indicators.not_ruled_out: "
                                       "'crosed' is not a threshold status; statuses: untested, ruled_out, "
                                       "not_ruled_out, crossed")


def test_threshold_statuses_are_not_ordered():
    text = _indicator('score("t", "m") > 0.5 && threshold("b") >= "not_ruled_out"')
    assert "compares status names as text, not by severity" in only(problems_of(text))


def test_threshold_in_a_list_of_statuses_is_fine_and_typos_are_caught():
    assert load_framework_text(_indicator('score("t", "m") > 0.5 && threshold("b") in ["crossed"]'), "f")
    assert "'cross' is not a threshold status" in only(problems_of(_indicator(
        'score("t", "m") > 0.5 && threshold("b") in ["crossed", "cross"]')))


def test_indicator_must_read_a_score():
    text = _indicator('model == "m1"')
    assert only(problems_of(text)) == (f"{loc(text, 7, chr(39))}: thresholds[0].indicators.not_ruled_out: "
                                       'an indicator must read at least one score("task", "metric")')


def test_indicator_may_read_only_model():
    text = _indicator('score("t", "m") > 0.5 && stage == "deployed"')
    assert only(problems_of(text)) == (f"{loc(text, 7, chr(39))}: thresholds[0].indicators.not_ruled_out: "
                                       "unknown variable 'stage'; an indicator can read: model")


def test_comprehension_variables_are_not_unknown():
    assert load_framework_text(_indicator('score("t", "m") > 0.5 && ["m1", "m2"].exists(x, x == model)'), "f")


def test_indicator_cycle():
    text = HEAD + "thresholds:\n" \
        "  - {id: a, domain: d, indicators: {not_ruled_out: 'threshold(\"b\") == \"crossed\" || score(\"t\", \"m\") > 1'}}\n" \
        "  - {id: b, domain: d, indicators: {not_ruled_out: 'threshold(\"a\") == \"crossed\" || score(\"t\", \"m\") > 1'}}\n"
    assert only(problems_of(text)) == (f"{loc(text, 4, chr(39))}: thresholds[0].indicators.not_ruled_out: "
                                       "indicators depend on their own threshold through threshold(): a -> b -> a")


def _commitment(body: str) -> str:
    return HEAD + "thresholds:\n" + T % "a" + f"commitments:\n  - {{id: c, {body}}}\n"


def test_when_may_read_model_and_stage_only():
    text = _commitment("before: deployed, when: 'stage == \"deployed\" && status == \"x\"', action: review")
    assert only(problems_of(text)) == (f"{loc(text, 6, chr(39))}: commitments[0].when: "
                                       "unknown variable 'status'; 'when' can read: model, stage")


def test_holds_may_read_model_and_stage_only():
    text = _commitment("holds: 'severity > 1'")
    assert "commitments[0].holds: unknown variable 'severity'; 'holds' can read: model, stage" in only(problems_of(text))


def test_holds_threshold_must_exist():
    text = _commitment("holds: 'threshold(\"nope\") != \"crossed\"'")
    assert 'commitments[0].holds: threshold("nope") names no threshold' in only(problems_of(text))


def test_where_may_read_the_trigger_records_fields():
    fw = load_framework_text(_commitment(
        "after: incident, where: 'severity == \"critical\" && model != \"\"', within: PT72H, action: notice"), "f")
    assert fw.commitments[0].kind == "deadline"


def test_where_must_still_parse_and_call_known_functions():
    text = _commitment("after: incident, where: 'severity == critical(1)', within: PT72H, action: notice")
    assert only(problems_of(text)).startswith(f"{loc(text, 6, 'critical(')}: commitments[0].where: unknown function critical()")


# ------------------------------------------------------------------ commitments


@pytest.mark.parametrize("key, body", [
    ("after", "after: incidnet, within: P1D, action: notice"),
    ("action", "every: P6M, action: reprot"),
])
def test_after_and_action_are_record_kinds(key, body):
    text = _commitment(body)
    bad = body.split(f"{key}: ")[1].split(",")[0]
    problem = only(problems_of(text))
    assert problem.startswith(f"{loc(text, 6, bad)}: commitments[0].{key}: expected a record kind (model, stage, eval,")
    assert problem.endswith(f"got '{bad}'")


@pytest.mark.parametrize("kind", ["notice", "report", "review", "determination", "framework"])
def test_any_record_kind_may_be_an_action(kind):
    assert load_framework_text(_commitment(f"after: incident, within: P1D, action: {kind}"), "f")


def test_keys_a_commitment_kind_ignores_are_errors():
    text = _commitment("every: P6M, within: P1D, action: report")
    assert only(problems_of(text)) == f"{loc(text, 6, 'P1D')}: commitments[0].within: 'within' only applies to an 'after' commitment"


# ------------------------------------------------------------------ changelog, notices, approvals


def test_changelog_may_acknowledge_removed_elements():
    fw = load_framework_text(HEAD.replace("}", ", changelog: [{text: x, acknowledges: [gone, std/gone]}]}"), "f")
    assert fw.framework.changelog[0].acknowledges == ["gone", "std/gone"]


@pytest.mark.parametrize("bad", ['""', "'  '", "a/b/c", "std/", "/g"])
def test_changelog_acknowledges_must_be_ids_or_addresses(bad):
    text = HEAD.replace("}", ", changelog: [{text: x, acknowledges: [ok, BAD]}]}").replace("BAD", bad)
    problem = only(problems_of(text))
    assert problem.startswith(f"{loc(text, 2, bad)}: framework.changelog[0].acknowledges[1]: "
                              "expected an element id or a standard/safeguard address")


def test_escape_clause_notify_must_be_non_empty_and_distinct():
    text = HEAD + "escape_clauses:\n  - {id: e, notify: [board, public, board, ''], within: P3D}\n"
    assert problems_of(text) == [
        f"{loc(text, 4, 'board, ' + chr(39))}: escape_clauses[0].notify[2]: 'board' is listed twice",
        f"{loc(text, 4, chr(39) * 2)}: escape_clauses[0].notify[3]: expected a non-empty name",
    ]


def test_escape_clause_notify_may_not_be_empty():
    text = HEAD + "escape_clauses:\n  - {id: e, notify: [], within: P3D}\n"
    assert only(problems_of(text)).startswith(f"{loc(text, 4, '[]')}: escape_clauses[0].notify: expected at least 1 item")


@pytest.mark.parametrize("section", ["amendment", "determinations"])
def test_approvals_have_no_duplicates(section):
    text = HEAD + f"{section}:\n  approvals: [rso, ceo, rso]\n"
    assert only(problems_of(text)) == f"{loc(text, 4, 'rso]')}: {section}.approvals[2]: 'rso' is listed twice"


# ------------------------------------------------------------------ the example, broken one way at a time


def test_example_with_a_planted_mistake_reports_its_line(tmp_path):
    lines = EXAMPLE.read_text().splitlines(keepends=True)
    n = next(i for i, l in enumerate(lines) if "{standard: asl3-security, before: internal}" in l)
    lines[n] = lines[n].replace("asl3-security", "asl4-security")
    path = tmp_path / "fw.yaml"
    path.write_text("".join(lines))
    with pytest.raises(InvalidInput) as info:
        load_framework(path)
    col = lines[n].index("asl4-security") + 1
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{n + 1}:{col}: thresholds[1].requires[0].standard: unknown standard 'asl4-security'; "
        "standards: asl3-deployment, asl3-security"
    ]


@pytest.mark.parametrize("indicator", ['score("t", "m") == 1', '1 <= score("t", "m")'])
def test_score_compared_with_an_integer_literal_cel_refuses_is_an_error(indicator: str) -> None:
    # cel-python cannot evaluate these int/double comparisons, so the indicator would be
    # undecided forever and, by precaution, never rule its threshold out.
    with pytest.raises(InvalidInput) as caught:
        load_framework_text(_indicator(indicator), "f.yaml")
    assert "decimal literal such as 1.0" in str(caught.value)
    assert load_framework_text(_indicator(indicator.replace("1", "1.0", 1)), "f.yaml")


def test_score_ordered_against_an_integer_literal_is_fine() -> None:
    assert load_framework_text(_indicator('score("t", "m") >= 1'), "f.yaml")
