"""Importing lm-evaluation-harness results files (written here in its documented format:
the harness itself cannot run without models and data)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from evidence_helpers import evals, lm_eval_results, open_ws
from mast.errors import InvalidInput
from mast.evidence.importer import import_evidence
from mast.evidence.mapping import Mapping


def _import(ws: Path, *paths: Path, **options):
    workspace = open_ws(ws)
    try:
        return import_evidence(workspace, list(paths), **options)
    finally:
        workspace.close()


def test_each_task_becomes_an_eval_with_metrics_before_the_filter(ws: Path, tmp_path: Path) -> None:
    path = lm_eval_results(tmp_path / "out" / "results_2025-06-15T12-00-00.json")
    _import(ws, path, model="atlas-1", mapping=Mapping(models={"EleutherAI/pythia-160m": "atlas-1"}))
    by_task = {r.task: r for r in evals(ws)}
    assert set(by_task) == {"hellaswag", "gsm8k"}
    assert by_task["hellaswag"].metrics == {"acc": 0.61, "acc_norm": 0.78}  # no stderr, no alias
    assert by_task["gsm8k"].metrics == {"exact_match": 0.47}  # two filters: the better counts
    record = by_task["hellaswag"]
    assert record.at == datetime.fromtimestamp(1750000000.5, timezone.utc) and record.at.utcoffset().total_seconds() == 0
    source = record.source.model_dump()
    assert source["format"] == "lm-eval" and source["path"] == str(path) and len(source["sha256"]) == 64
    assert source["model"] == "EleutherAI/pythia-160m" and source["samples"] == 10042
    assert source["lm_eval_version"] == "0.4.8"


def test_the_model_is_checked_against_model_name(ws: Path, tmp_path: Path, snapshot) -> None:
    path = lm_eval_results(tmp_path / "results_x.json")
    before = snapshot(ws)
    with pytest.raises(InvalidInput, match="'EleutherAI/pythia-160m', not 'atlas-1'"):
        _import(ws, path, model="atlas-1")
    assert snapshot(ws) == before


def test_the_model_may_come_from_model_args(ws: Path, tmp_path: Path) -> None:
    doc = lm_eval_results(tmp_path / "results_a.json", model_name=None,
                          config={"model": "hf", "model_args": "pretrained=org/atlas-1,dtype=bfloat16"})
    result = _import(ws, doc, model_from_log=True)
    assert {e.record.model for e in result.entries} == {"atlas-1"}  # org/atlas-1 -> atlas-1
    assert result.entries[0].record.source.model_dump()["model"] == "org/atlas-1"


def test_re_import_adds_nothing(ws: Path, tmp_path: Path, snapshot) -> None:
    path = lm_eval_results(tmp_path / "results_b.json", model_name="atlas-1")
    assert len(_import(ws, path, model="atlas-1").entries) == 2
    before = snapshot(ws)
    assert _import(ws, path, model="atlas-1").entries == []
    assert snapshot(ws) == before


@pytest.mark.parametrize("overrides, message", [
    ({"date": None}, "no `date`"),
    ({"results": []}, "expected a JSON object with a `results` object"),
    ({"results": {"t": {"alias": "t", "acc_stderr,none": 0.1}}}, "no numeric metrics"),
    ({"results": {"t": 0.5}}, "results.t: expected an object of metrics"),
])
def test_bad_results_files_are_invalid_input(ws: Path, tmp_path: Path, snapshot, overrides, message) -> None:
    path = lm_eval_results(tmp_path / "results_bad.json", model_name="atlas-1", **overrides)
    before = snapshot(ws)
    with pytest.raises(InvalidInput, match=message):
        _import(ws, path, model="atlas-1")
    assert snapshot(ws) == before


def test_invalid_json_names_the_line(ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "results_broken.json"
    path.write_text('{\n  "results": {\n    "t": {"acc,none": 0.5,}\n  }\n}\n')
    with pytest.raises(InvalidInput) as bad:
        _import(ws, path, model="atlas-1")
    assert str(bad.value).startswith(f"{path}:3:")


def test_cli_imports_a_directory_of_results(ws: Path, tmp_path: Path, mast) -> None:
    lm_eval_results(tmp_path / "runs" / "pythia" / "results_2025-06-15.json", model_name="atlas-1")
    (tmp_path / "runs" / "pythia" / "samples_gsm8k_2025-06-15.jsonl").write_text("{}\n")
    done = mast("-w", str(ws), "evidence", "import", str(tmp_path / "runs"), "--model", "atlas-1")
    assert done.code == 0, done.stderr
    assert "appended 2 eval records" in done.stdout and "from 1 file" in done.stdout
    assert "note: no indicator reads task gsm8k" in done.stderr


def test_a_results_file_by_another_name_needs_format(ws: Path, tmp_path: Path) -> None:
    path = lm_eval_results(tmp_path / "pythia.json", model_name="atlas-1")
    assert len(_import(ws, path, model="atlas-1", format="lm-eval").entries) == 2
    pytest.importorskip("inspect_ai")
    other = lm_eval_results(tmp_path / "pythia2.json", model_name="atlas-1", date=1750000001)
    with pytest.raises(InvalidInput, match="give --format lm-eval"):
        _import(ws, other, model="atlas-1")
