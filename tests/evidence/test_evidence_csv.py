"""Importing CSV evidence: columns model,task,metric,value,at."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from evidence_helpers import evals, open_ws
from mast.errors import InvalidInput
from mast.evidence.importer import import_evidence

GOOD = """\
model,task,metric,value,at
atlas-1,wmdp_bio,accuracy,0.52,2025-03-01T00:00:00Z
atlas-1,wmdp_bio,stderr,0.01,2025-03-01T00:00:00Z
atlas-1,wmdp_bio,accuracy,0.58,2025-04-01T00:00:00+02:00
test,cyber_ctf,graded/accuracy,0.3,2025-03-01T00:00:00Z
"""


def _import(ws: Path, *paths: Path, **options):
    workspace = open_ws(ws)
    try:
        return import_evidence(workspace, list(paths), **options)
    finally:
        workspace.close()


def test_rows_are_grouped_into_one_eval_per_model_task_and_time(ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "evals.csv"
    path.write_text(GOOD)
    _import(ws, path, model_from_log=True)
    records = evals(ws)
    assert [(r.model, r.task, r.metrics) for r in records] == [
        ("atlas-1", "wmdp_bio", {"accuracy": 0.52, "stderr": 0.01}),
        ("atlas-1", "wmdp_bio", {"accuracy": 0.58}),
        ("test", "cyber_ctf", {"graded/accuracy": 0.3}),
    ]
    assert records[1].at == datetime.fromisoformat("2025-04-01T00:00:00+02:00")
    assert records[0].source.model_dump() == {"format": "csv", "sha256": records[0].source.sha256,
                                              "path": str(path), "line": 2}
    assert records[2].source.model_dump()["line"] == 5


def test_rows_for_another_model_are_refused_without_model_from_log(ws: Path, tmp_path: Path, snapshot) -> None:
    path = tmp_path / "evals.csv"
    path.write_text(GOOD)
    before = snapshot(ws)
    with pytest.raises(InvalidInput) as refused:
        _import(ws, path, model="atlas-1")
    assert str(refused.value).startswith(f"{path}:5: the evidence is for model 'test', not 'atlas-1'")
    assert snapshot(ws) == before


def test_bad_rows_are_reported_by_line_and_nothing_is_written(ws: Path, tmp_path: Path, snapshot, mast) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "model,task,metric,value,at\n"
        "atlas-1,wmdp_bio,accuracy,0.5,2025-03-01T00:00:00Z\n"
        "atlas-1,wmdp_bio,accuracy,high,2025-03-02T00:00:00Z\n"
        "atlas-1,wmdp_bio,accuracy,0.5,2025-03-02T00:00:00\n"
        "atlas-1,,accuracy,0.5,2025-03-02T00:00:00Z\n"
        "atlas-1,wmdp_bio,accuracy,0.6,2025-03-01T00:00:00Z\n"
        "atlas-1,wmdp_bio,accuracy,nan,2025-03-03T00:00:00Z\n"
        "atlas-1,wmdp_bio\n"
    )
    before = snapshot(ws)
    done = mast("-w", str(ws), "evidence", "import", str(path), "--model", "atlas-1")
    assert done.code == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {path}:3: value: expected a finite number (got 'high')",
        f"error: {path}:4: at: expected an ISO 8601 time with a zone, e.g. 2025-05-14T00:00:00Z (got '2025-03-02T00:00:00')",
        f"error: {path}:5: task: expected a name (found nothing)",
        f"error: {path}:6: metric 'accuracy' of atlas-1 on wmdp_bio at 2025-03-01T00:00:00Z is already given on line 2",
        f"error: {path}:7: value: expected a finite number (got 'nan')",
        f"error: {path}:8: expected 5 fields (model,task,metric,value,at), found 2",
    ]
    assert "nothing was written" in done.stderr
    assert snapshot(ws) == before


@pytest.mark.parametrize("text, message", [
    ("", ":1: empty file"),
    ("model,task,value,at\n", ":1: header: expected the columns model,task,metric,value,at (missing metric)"),
    ("model,task,metric,value,at,note\n", "(unknown note)"),
    ("model,task,metric,value,at\n", ":2: no rows after the header"),
])
def test_a_bad_header_or_no_rows_is_invalid(ws: Path, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(text)
    with pytest.raises(InvalidInput) as bad:
        _import(ws, path, model="atlas-1")
    assert message in str(bad.value)


def test_columns_may_come_in_any_order(ws: Path, tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("at,value,metric,task,model\n2025-03-01T00:00:00Z,1,accuracy,wmdp_bio,atlas-1\n")
    _import(ws, path, model="atlas-1")
    [record] = evals(ws)
    assert record.metrics == {"accuracy": 1} and isinstance(record.metrics["accuracy"], int)


def test_an_unknown_file_or_path_is_invalid(ws: Path, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(InvalidInput) as bad:
        _import(ws, tmp_path / "notes.txt", tmp_path / "missing.eval", model="atlas-1")
    assert str(bad.value).splitlines() == [
        f"{tmp_path / 'notes.txt'}: not a known evidence file: expected an Inspect log (.eval, .json), an lm-eval "
        "results_*.json or a .csv (or give --format)",
        f"{tmp_path / 'missing.eval'}: no such file or directory",
    ]
