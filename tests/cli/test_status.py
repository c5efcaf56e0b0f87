"""`mast status` as a user runs it, on the Example Lab built by `mast demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import Result, run

ROOT = Path(__file__).resolve().parents[2]


def mast(*args: str) -> Result:
    return run(*args, width=80)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("lab") / "example-lab"
    done = mast("demo", str(directory))
    assert done.code == 0, done.stderr
    return directory


def test_json_lists_the_broken_gate_with_the_design_fields(lab: Path) -> None:
    done = mast("-w", str(lab), "status", "--as-of", "2025-09-25T12:00:00Z", "--json")
    assert done.code == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == {"as_of", "framework", "models", "findings", "summary"}
    assert data["as_of"] == "2025-09-25T12:00:00Z"
    assert data["framework"] == {"id": "example-lab-rsp", "version": "2.2"}
    violations = [f for f in data["findings"] if f["kind"] == "violation"]
    assert violations, data["findings"]
    v = violations[0]
    assert {"kind", "commitment", "standard", "model", "since", "message"} <= set(v)
    assert (v["commitment"], v["standard"], v["model"]) == ("cbrn-3", "asl3-deployment", "atlas-1.1")
    assert "until" not in v
    assert data["summary"]["violation"] == len(violations)
    child = next(m for m in data["models"] if m["id"] == "atlas-1.1")
    cbrn = next(t for t in child["thresholds"] if t["id"] == "cbrn-3")
    assert cbrn["basis"] == "inherited" and cbrn["status"] == "not_ruled_out"
    deployment = next(s for s in child["standards"] if s["id"] == "asl3-deployment")
    assert deployment["status"] == "unmet" and deployment["required_before"] == "deployed"


def test_history_adds_resolved_findings_with_until(lab: Path) -> None:
    now = json.loads(mast("-w", str(lab), "status", "--as-of", "2026-11-30T12:00:00Z", "--json").stdout)
    full = json.loads(mast("-w", str(lab), "status", "--as-of", "2026-11-30T12:00:00Z", "--json", "--history").stdout)
    resolved = [f for f in full["findings"] if "until" in f]
    assert resolved and all(f["until"] <= "2026-11-30T12:00:00Z" for f in resolved)
    assert [f for f in full["findings"] if "until" not in f] == now["findings"]
    assert full["summary"] == now["summary"]


def test_table_names_each_current_finding(lab: Path) -> None:
    done = mast("-w", str(lab), "status", "--as-of", "2026-11-30T12:00:00Z")
    assert done.code == 0, done.stderr
    assert "violation" in done.stdout and "atlas-2-internal" in done.stdout
    assert "summary: violation 2" in done.stdout


@pytest.mark.parametrize("moment", ["2025-09-25T12:00:00", "yesterday", "2025-13-01"])
def test_a_bad_as_of_is_invalid_input(lab: Path, moment: str) -> None:
    done = mast("-w", str(lab), "status", "--as-of", moment)
    assert done.code == 2
    assert "--as-of" in done.stderr and "Traceback" not in done.stderr


def test_status_outside_a_workspace_is_a_clear_error(tmp_path: Path) -> None:
    done = mast("-w", str(tmp_path), "status")
    assert done.code == 2
    assert "mast init" in done.stderr and "Traceback" not in done.stderr
