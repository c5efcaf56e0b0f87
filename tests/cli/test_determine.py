"""`mast determine` as a user runs it: an import makes an indicator fire, `mast status`
shows the determination due, and a signed determination resolves it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cli_runner import Result, run
import stored

FRAMEWORK = """\
mast: 1
framework: {id: det-rsp, title: Determination test, version: "1", effective: 2025-01-01T00:00:00Z}
thresholds:
  - id: cbrn-3
    domain: cbrn
    indicators:
      warning: 'score("wmdp_bio", "accuracy") >= 0.55'
      not_ruled_out: 'score("wmdp_bio", "accuracy") >= 0.8'
    determination_within: P30D
amendment: {approvals: [rso]}
determinations: {approvals: [rso, ceo]}
"""

EVIDENCE = "model,task,metric,value,at\natlas-1,wmdp_bio,accuracy,0.6,2025-03-01T00:00:00Z\n"


def _run(cwd: Path, *args: str, input: str | None = None) -> Result:
    return run(*args, input=input, cwd=cwd)


def _entries(ws: Path) -> list[tuple]:
    return [(index, hashlib.sha256(body).hexdigest(), body) for index, _kind, _ref, body in stored.entries(ws)]


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A workspace (built with the library, for speed) with the framework and model atlas-1."""
    from mast.framework.loader import load_framework_text
    from mast.records.kinds import ModelRecord
    from mast.workspace import Workspace

    ws = Workspace.init(tmp_path / "lab")
    ws.publish(load_framework_text(FRAMEWORK, "framework.yaml"), "framework.yaml", {"rso": "Jane Roe"})
    ws.add([ModelRecord(kind="model", at="2025-01-01T00:00:00Z", id="atlas-1", name="Atlas 1")])
    ws.close()
    (tmp_path / "evidence.csv").write_text(EVIDENCE)
    return tmp_path / "lab"


def _status(lab: Path, as_of: str, *extra: str) -> dict:
    done = _run(lab, "status", "--as-of", as_of, "--json", *extra)
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def test_an_import_that_fires_an_indicator_is_pending_until_determined(lab: Path) -> None:
    done = _run(lab, "evidence", "import", "../evidence.csv", "--model", "atlas-1")
    assert done.code == 0, done.stderr

    status = _status(lab, "2025-03-05T00:00:00Z")
    [warning] = [f for f in status["findings"] if f["commitment"] == "cbrn-3"]
    assert warning["kind"] == "warning" and warning["model"] == "atlas-1"
    assert warning["since"] == "2025-03-01T00:00:00Z" and warning["due"] == "2025-03-31T00:00:00Z"
    assert status["summary"]["warning"] == 1

    before = _entries(lab)
    refused = _run(lab, "determine", "atlas-1", "cbrn-3", "--status", "ruled_out", "--rationale", "below the line",
                   "--approve", "rso=Jane Roe", "--at", "2025-03-10T00:00:00Z")
    assert refused.code == 3
    assert "ceo" in refused.stderr and "determinations.approvals" in refused.stderr
    assert _entries(lab) == before

    done = _run(lab, "determine", "atlas-1", "cbrn-3", "--status", "ruled_out", "--rationale", "-",
                "--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe", "--at", "2025-03-10T00:00:00Z",
                "--ref", "det-1", input="Manual red-teaming found no meaningful uplift.\n")
    assert done.code == 0, done.stderr
    assert "appended 1 record" in done.stdout
    record = json.loads(_entries(lab)[-1][2])
    assert record == {"kind": "determination", "at": "2025-03-10T00:00:00Z", "audience": "public", "ref": "det-1",
                      "model": "atlas-1", "threshold": "cbrn-3", "status": "ruled_out",
                      "rationale": "Manual red-teaming found no meaningful uplift.",
                      "approved_by": {"rso": "Jane Roe", "ceo": "Sam Poe"}}

    after = _status(lab, "2025-03-12T00:00:00Z")
    assert [f for f in after["findings"] if f["commitment"] == "cbrn-3"] == []
    [model] = after["models"]
    assert model["thresholds"][0] == {"id": "cbrn-3", "status": "ruled_out", "basis": "determination",
                                      "since": "2025-03-10T00:00:00Z"}
    history = _status(lab, "2025-03-12T00:00:00Z", "--history")
    [resolved] = [f for f in history["findings"] if f["commitment"] == "cbrn-3"]
    assert resolved["until"] == "2025-03-10T00:00:00Z"


def test_an_undetermined_warning_becomes_overdue(lab: Path) -> None:
    assert _run(lab, "evidence", "import", "../evidence.csv", "--model", "atlas-1").code == 0
    status = _status(lab, "2025-04-02T00:00:00Z")
    kinds = {f["kind"] for f in status["findings"] if f["commitment"] == "cbrn-3"}
    assert "overdue" in kinds


@pytest.mark.parametrize("args, message", [
    (["atlas-1", "nope", "--status", "ruled_out"], "unknown threshold 'nope' in det-rsp 1"),
    (["ghost", "cbrn-3", "--status", "ruled_out"], "unknown model 'ghost'"),
    (["atlas-1", "cbrn-3", "--status", "fine"], "--status 'fine': expected one of ruled_out, not_ruled_out, crossed"),
    (["atlas-1", "cbrn-3", "--status", "crossed", "--at", "2025-03-10T00:00:00"], "--at"),
    (["atlas-1", "cbrn-3", "--status", "crossed", "--approve", "rso"], "expected ROLE=NAME"),
])
def test_invalid_determinations_exit_2_and_write_nothing(lab: Path, args: list[str], message: str) -> None:
    before = _entries(lab)
    done = _run(lab, "determine", *args, "--rationale", "r", "--approve", "ceo=Sam Poe")
    assert done.code == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert _entries(lab) == before


def test_without_a_published_framework_determine_is_invalid(tmp_path: Path) -> None:
    assert _run(tmp_path, "init", "empty").code == 0
    done = _run(tmp_path / "empty", "determine", "m", "t", "--status", "ruled_out", "--rationale", "r")
    assert done.code == 2 and "publish" in done.stderr
