"""Loading records files: every problem, each at its line, in the user's words."""

from __future__ import annotations

import textwrap

import pytest

from mast.errors import InvalidInput
from mast.records.loader import load_batch, load_records, parse_batch
from mast.sourcemap import parse_text
from mast.vocabulary import RECORD_KINDS


def problems(text: str, name: str = "r.yaml") -> list[str]:
    with pytest.raises(InvalidInput) as info:
        parse_batch(parse_text(textwrap.dedent(text), name))
    return [str(p) for p in info.value.problems]


def test_one_record_or_a_list(tmp_path):
    one = tmp_path / "one.json"
    one.write_text('{"kind": "model", "at": "2025-01-01T00:00:00Z", "id": "m1", "name": "One"}')
    assert [r.kind for r in load_records(one)] == ["model"]
    many = tmp_path / "many.yaml"
    many.write_text("- {kind: model, at: 2025-01-01T00:00:00Z, id: m1, name: One}\n"
                    "- {kind: stage, at: 2025-01-02T00:00:00Z, model: m1, stage: training}\n")
    batch = load_batch(many)
    assert [r.kind for r in batch.records] == ["model", "stage"]
    assert [i.label for i in batch.items] == ["records[0]", "records[1]"]


def test_every_problem_is_reported_at_its_line():
    found = problems("""\
        - kind: eval
          at: 2025-01-01T00:00:00
          model: m1
          task: wmdp
          metrics: {accuracy: high, n: .nan, ok: 3}
          colour: red
        - kind: bogus
          at: 2025-01-01T00:00:00Z
        - kind: report
          at: 2025-01-01T00:00:00Z
          period: {from: 2025-01-01T00:00:00Z}
          edition: pub
          sha256: abc
        - {kind: stage, at: 2025-01-01T00:00:00Z, stage: deployed}
        - 42
        - {at: 2025-01-01T00:00:00Z}
        """)
    assert found == [
        "r.yaml:2:7: records[0].at: expected a time with a zone, e.g. 2025-05-14T00:00:00Z "
        "(got '2025-01-01T00:00:00'); naive times are not accepted",
        "r.yaml:5:23: records[0].metrics.accuracy: expected a number (got 'high')",
        "r.yaml:5:32: records[0].metrics.n: expected a finite number",
        "r.yaml:6:11: records[0].colour: unknown field "
        "(expected one of: kind, at, ref, audience, redaction_reason, supersedes, model, task, metrics, source)",
        f"r.yaml:7:9: records[1].kind: unknown kind 'bogus' (expected one of: {', '.join(RECORD_KINDS)})",
        "r.yaml:11:11: records[2].period: missing required field 'to'",
        "r.yaml:12:12: records[2].edition: expected 'public', 'reviewer' or 'internal' (got 'pub')",
        "r.yaml:13:11: records[2].sha256: expected a SHA-256 in lowercase hex (64 characters) (got 'abc')",
        "r.yaml:14:3: records[3]: missing required field 'model'",
        "r.yaml:15:3: records[4]: expected a record (a mapping with 'kind' and 'at'), found 42",
        f"r.yaml:16:3: records[5]: missing required field 'kind' (one of: {', '.join(RECORD_KINDS)})",
    ]


@pytest.mark.parametrize("value", ["true", '"0.5"', "[1]"])
def test_a_metric_must_be_a_number(value):
    [problem] = problems(f"{{kind: eval, at: 2025-01-01T00:00:00Z, model: m, task: t, metrics: {{a: {value}}}}}")
    assert "record.metrics.a: expected a number" in problem


def test_a_date_without_a_time_is_not_a_zoned_time():
    [problem] = problems("{kind: stage, at: 2025-01-01, model: m, stage: training}")
    assert "record.at: expected a time with a zone" in problem


def test_syntax_errors_have_a_position():
    [problem] = problems("- {kind: stage, at: [oops\n")
    assert problem.startswith("r.yaml:")


@pytest.mark.parametrize("text,found", [("", "an empty document"), ("42", "42"), ("just text", "'just text'")])
def test_a_file_must_hold_records(text, found):
    [problem] = problems(text)
    assert problem.endswith(f"expected a record or a list of records, found {found}")


def test_an_empty_list_is_an_empty_batch():
    assert parse_batch(parse_text("[]", "r.yaml")).records == []


def test_a_missing_file_is_invalid_input(tmp_path):
    with pytest.raises(InvalidInput, match="no such file"):
        load_records(tmp_path / "missing.yaml")


def test_integers_beyond_json_precision_are_refused():
    [problem] = problems(f"{{kind: eval, at: 2025-01-01T00:00:00Z, model: m, task: t, metrics: {{a: {2**60}}}}}")
    assert "record: cannot be written as canonical JSON" in problem


def test_a_record_over_64_kib_is_refused():
    [problem] = problems(f"{{kind: roadmap, at: 2025-01-01T00:00:00Z, goal: g, status: met, note: {'x' * 70000}}}")
    assert "a log entry must stay under 64 KiB" in problem
