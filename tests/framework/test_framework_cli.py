"""`mast framework check FILE`, run as a user runs it (in-process, tests/cli_runner.py; that
`python -m mast` itself runs it is tests/cli/test_entry_points.py's)."""

from __future__ import annotations

from cli_runner import Result, run
from framework_helpers import EXAMPLE, HEAD, loc


def mast(*args: str) -> Result:
    return run(*args, width=80)


def test_check_valid_framework_prints_a_summary():
    result = mast("framework", "check", str(EXAMPLE))
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "ok: example-lab-rsp 2.2 — 3 thresholds, 2 standards, 5 commitments, 1 escape clause"


def test_check_invalid_framework_exits_2_with_every_problem(tmp_path):
    text = HEAD + ("thresholds:\n  - id: a\n    domain: d\n    determination_within: 30D\n"
                   "    requires: [{standard: s, before: deploy}]\n")
    path = tmp_path / "fw.yaml"
    path.write_text(text)
    result = mast("framework", "check", str(path))
    assert result.code == 2
    assert result.stdout == ""
    assert f"error: {path}:{loc(text, 6, '30D').split(':', 1)[1]}: thresholds[0].determination_within: " \
           "expected an ISO 8601 duration" in result.stderr
    assert f"error: {path}:{loc(text, 7, 'deploy').split(':', 1)[1]}: thresholds[0].requires[0].before: " \
           "expected a stage" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_reference_problem_exits_2(tmp_path):
    path = tmp_path / "fw.yaml"
    path.write_text(HEAD + "commitments:\n  - {id: c, after: incidnet, within: P1D, action: notice}\n")
    result = mast("framework", "check", str(path))
    assert result.code == 2
    assert f"{path}:4:" in result.stderr and "expected a record kind" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_malformed_yaml_exits_2(tmp_path):
    path = tmp_path / "fw.yaml"
    path.write_text(HEAD + "amendment:\n\tapprovals: [rso]\n")
    result = mast("framework", "check", str(path))
    assert result.code == 2
    assert f"error: {path}:4:1: tab character" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_missing_file_exits_2(tmp_path):
    result = mast("framework", "check", str(tmp_path / "nope.yaml"))
    assert result.code == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_check_binary_file_exits_2(tmp_path):
    path = tmp_path / "fw.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = mast("framework", "check", str(path))
    assert result.code == 2
    assert "Traceback" not in result.stderr
