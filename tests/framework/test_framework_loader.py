"""Loading framework files: valid files load; malformed ones say where and what."""

from __future__ import annotations

import json

import pytest

from mast.errors import InvalidInput
from mast.framework.loader import framework_from_data, load_framework, load_framework_text
from mast.vocabulary import Stage

from framework_helpers import EXAMPLE, HEAD, loc, only, problems_of


def test_example_framework_loads_with_every_part():
    fw = load_framework(EXAMPLE)
    assert (fw.id, fw.version) == ("example-lab-rsp", "2.2")
    assert fw.effective.isoformat() == "2025-05-14T00:00:00+00:00"
    assert [t.id for t in fw.thresholds] == ["cbrn-3", "ai-rnd-4", "ai-rnd-5"]
    assert fw.threshold("cbrn-3").requires[1].before is Stage.training
    assert [c.kind for c in fw.commitments] == ["cadence", "deadline", "deadline", "gate", "invariant"]
    assert fw.threshold("cbrn-3").determination_within.text == "P30D"
    assert "asl3-security/insider-access" in fw.safeguard_ids()
    assert fw.framework.changelog[0].acknowledges == ["asl3-security/insider-access"]


def test_published_data_round_trips():
    fw = load_framework(EXAMPLE)
    again = framework_from_data(fw.model_dump(mode="json"))
    assert again == fw


def test_framework_from_data_reports_fields_without_positions():
    data = load_framework(EXAMPLE).model_dump(mode="json")
    data["thresholds"][0]["requires"][0]["before"] = "shipped"
    with pytest.raises(InvalidInput) as info:
        framework_from_data(data)
    assert [str(p) for p in info.value.problems] == [
        "<framework record>: thresholds[0].requires[0].before: "
        "expected a stage (training, internal, deployed or retired), got 'shipped'"
    ]


def test_json_framework_loads_and_reports_positions(tmp_path):
    data = load_framework(EXAMPLE).model_dump(mode="json")
    good = tmp_path / "fw.json"
    good.write_text(json.dumps(data, indent=2))
    assert load_framework(good).id == "example-lab-rsp"

    data["commitments"][0]["every"] = "6 months"
    bad = tmp_path / "bad.json"
    text = json.dumps(data, indent=2)
    bad.write_text(text)
    line = next(i for i, l in enumerate(text.splitlines(), 1) if '"6 months"' in l)
    col = text.splitlines()[line - 1].index('"6 months"') + 1
    with pytest.raises(InvalidInput) as info:
        load_framework(bad)
    assert [str(p) for p in info.value.problems] == [
        f"{bad}:{line}:{col}: commitments[0].every: expected an ISO 8601 duration such as P6M, P7D or PT72H, "
        "got '6 months'"
    ]


def test_json_cel_problem_points_inside_the_expression(tmp_path):
    text = ('{"mast": 1,\n'
            ' "framework": {"id": "t", "title": "T", "version": "1", "effective": "2025-05-14T00:00:00Z"},\n'
            ' "thresholds": [{"id": "a", "domain": "d",\n'
            '   "indicators": {"warning": "score(\'t\', \'m\') > nope(1)"}}]}\n')
    path = tmp_path / "fw.json"
    path.write_text(text)
    problem = only(_problems(path))
    assert problem.startswith(f"{loc(text, 4, 'nope(', str(path))}: thresholds[0].indicators.warning: "
                              "unknown function nope()")


def _problems(path) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        load_framework(path)
    return [str(p) for p in info.value.problems]


# ------------------------------------------------------------------ malformed files


def test_yaml_syntax_error_has_position():
    assert only(problems_of(HEAD + "thresholds: [\n  {id: a\n")).startswith("fw.yaml:5:1: ")


def test_duplicate_key_is_an_error_at_the_second_key():
    problem = only(problems_of(HEAD + "thresholds: []\nstandards: []\nthresholds: []\n"))
    assert problem == 'fw.yaml:5:1: duplicate key "thresholds" (a key may appear only once in a mapping)'


def test_duplicate_key_in_json():
    problem = only(problems_of('{"mast": 1, "mast": 1}', "fw.json"))
    assert problem.startswith('fw.json:1:13: duplicate key "mast"')


def test_tab_indentation_is_explained():
    problem = only(problems_of(HEAD + "amendment:\n\tapprovals: [rso]\n"))
    assert problem == "fw.yaml:4:1: tab character: indent YAML with spaces, not tabs"


def test_empty_file():
    assert only(problems_of("")) .startswith("fw.yaml:1:1: the file is empty")


def test_a_list_is_not_a_framework():
    assert "expected a framework (a mapping" in only(problems_of("- 1\n"))


def test_missing_file_is_invalid_input(tmp_path):
    assert _problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]


def test_missing_required_fields_are_named():
    problems = problems_of("mast: 1\nframework:\n  id: t\n  title: T\n")
    assert problems == [
        "fw.yaml:3:3: framework: missing required field 'version'",
        "fw.yaml:3:3: framework: missing required field 'effective'",
    ]


def test_wrong_format_version():
    problems = problems_of("mast: 2\n" + HEAD.splitlines(keepends=True)[1])
    assert problems == ["fw.yaml:1:7: mast: expected 1, got the number 2"]


def test_unknown_keys_name_the_key():
    problems = problems_of(HEAD + "thresholds:\n  - id: a\n    domain: d\n    indicator: {}\ncomitments: []\n")
    assert problems == [  # at the key, which is what is wrong
        "fw.yaml:6:5: thresholds[0]: unknown field 'indicator'",
        "fw.yaml:7:1: unknown field 'comitments'",
    ]


def test_unquoted_version_says_to_quote_it():
    text = "mast: 1\nframework: {id: t, title: T, version: 2.2, effective: 2025-05-14T00:00:00Z}\n"
    assert problems_of(text) == [
        f'{loc(text, 2, "2.2")}: framework.version: expected text, got the number 2.2 (quote it: "2.2")']


# ------------------------------------------------------------------ times and durations


@pytest.mark.parametrize("value", ["2025-05-14T00:00:00", "2025-05-14"])
def test_naive_time_needs_a_zone(value):
    problems = problems_of(f"mast: 1\nframework:\n  id: t\n  title: T\n  version: '1'\n  effective: {value}\n")
    assert problems == ["fw.yaml:6:14: framework.effective: expected a time with a zone, e.g. 2025-05-14T00:00:00Z"]


def test_garbage_time():
    text = "mast: 1\nframework: {id: t, title: T, version: '1', effective: soon}\n"
    assert only(problems_of(text)) == (f"{loc(text, 2, 'soon')}: framework.effective: expected a time with a zone, "
                                       "e.g. 2025-05-14T00:00:00Z, got 'soon'")


def test_unix_time_is_not_accepted():
    text = "mast: 1\nframework: {id: t, title: T, version: '1', effective: 1747180800}\n"
    assert only(problems_of(text)) == (f"{loc(text, 2, '1747')}: framework.effective: expected a time with a zone, "
                                       "e.g. 2025-05-14T00:00:00Z, got the number 1747180800")


def test_zone_offsets_are_fine():
    fw = load_framework_text("mast: 1\nframework: {id: t, title: T, version: '1', effective: 2025-05-14T02:00:00+02:00}\n", "f")
    assert fw.effective.isoformat() == "2025-05-14T02:00:00+02:00"


@pytest.mark.parametrize("value", ["30D", "P", "30", "P-1D"])
def test_bad_duration_says_what_was_expected(value):
    problem = only(problems_of(HEAD + f"thresholds:\n  - id: a\n    domain: d\n    determination_within: {value}\n"))
    assert problem.startswith("fw.yaml:6:27: thresholds[0].determination_within: ")
    assert "ISO 8601 duration such as P6M, P7D or PT72H" in problem or "duration must be positive" in problem


def test_unknown_stage_lists_the_stages():
    text = HEAD + "thresholds:\n  - id: a\n    domain: d\n    requires: [{standard: s, before: deploy}]\n"
    assert only(problems_of(text)) == (f"{loc(text, 6, 'deploy')}: thresholds[0].requires[0].before: "
                                       "expected a stage (training, internal, deployed or retired), got 'deploy'")


def test_commitment_shape_errors_are_one_line_on_the_commitment():
    problems = problems_of(HEAD + "commitments:\n  - {id: c, every: P6M}\n  - {id: d, after: incident, holds: 'true'}\n")
    assert problems == [
        "fw.yaml:4:5: commitments[0]: a commitment with 'every' needs 'action' (the record kind that fulfils it)",
        "fw.yaml:5:5: commitments[1]: a commitment needs exactly one of 'every', 'after'+'within', "
        "'before'+'when' or 'holds' (found after, holds)",
    ]


def test_every_shape_problem_is_reported_at_once():
    text = ("mast: 1\nframework: {id: t, title: T, version: 1, effective: 2025-05-14}\n"
            "thresholds:\n  - {id: a, domain: d, determination_within: 3 days}\n"
            "escape_clauses:\n  - {id: e, notify: [], within: P3D}\n")
    assert [p.split(": ")[0] for p in problems_of(text)] == [
        loc(text, 2, "1,"), loc(text, 2, "2025"), loc(text, 4, "3 days"), loc(text, 6, "[]")]


def test_no_traceback_text_in_messages():
    problems = problems_of(HEAD + "thresholds: {a: 1}\nstandards: 7\n")
    assert problems == [
        "fw.yaml:3:13: thresholds: expected a list, got a mapping",
        "fw.yaml:4:12: standards: expected a list, got the number 7",
    ]
