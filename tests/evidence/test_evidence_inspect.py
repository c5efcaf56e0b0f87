"""Importing real Inspect logs (made by Inspect itself in `inspect_logs`)."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime
from pathlib import Path

import pytest

from evidence_helpers import evals, open_ws
from mast.errors import InvalidInput, MastError
from mast.evidence.importer import import_evidence
from mast.evidence.mapping import Mapping

pytest.importorskip("inspect_ai")


def _import(ws: Path, *paths: Path, **options):
    workspace = open_ws(ws)
    try:
        return import_evidence(workspace, list(paths), **options)
    finally:
        workspace.close()


def _header(path: Path):
    from inspect_ai.log import read_eval_log

    return read_eval_log(str(path), header_only=True)


def test_an_eval_log_becomes_one_eval_record_with_provenance(ws: Path, logs: Path) -> None:
    result = _import(ws, logs / "bio.eval", model="test")
    [record] = evals(ws)
    assert [e.record for e in result.entries] == [record]
    assert record.model == "test"
    assert record.task == "wmdp_bio"  # the package prefix (inspect_evals/) is dropped
    assert record.metrics["accuracy"] == pytest.approx(0.7)
    assert set(record.metrics) == {"accuracy", "stderr"}  # one scorer: bare metric names
    header = _header(logs / "bio.eval")
    assert record.at == datetime.fromisoformat(header.stats.completed_at) and record.at.utcoffset() is not None
    source = record.source.model_dump()
    assert source["format"] == "inspect" and source["path"] == str(logs / "bio.eval")
    import hashlib
    assert source["sha256"] == hashlib.sha256((logs / "bio.eval").read_bytes()).hexdigest()
    assert source["model"] == "mast_offline/test" and source["samples"] == 10
    assert source["task"] == "inspect_evals/wmdp_bio" and source["status"] == "success"
    assert source["eval_id"] == header.eval.eval_id


def test_a_json_log_reads_the_same_way(ws: Path, logs: Path) -> None:
    _import(ws, logs / "bio.json", model="test")
    [record] = evals(ws)
    assert (record.task, record.metrics["accuracy"]) == ("wmdp_bio", pytest.approx(0.4))
    assert record.source.format == "inspect" and record.source.path.endswith("bio.json")


def test_two_scorers_give_scorer_prefixed_metrics(ws: Path, logs: Path) -> None:
    _import(ws, logs / "ctf.eval", model="test")
    [record] = evals(ws)
    assert record.task == "cyber_ctf"
    assert set(record.metrics) == {"match/accuracy", "match/stderr", "graded/accuracy", "graded/stderr", "graded/mean"}
    assert record.metrics["graded/accuracy"] == pytest.approx(0.75)


def test_a_mapping_renames_tasks_scorers_and_metrics(ws: Path, logs: Path) -> None:
    mapping = Mapping(tasks={"inspect_evals/wmdp_bio": "bio_uplift", "cyber_ctf": "ctf"},
                      scorers={"graded": "judge"}, metrics={"match/accuracy": "exact", "stderr": "se"})
    _import(ws, logs / "bio.eval", logs / "ctf.eval", model="test", mapping=mapping)
    bio, ctf = sorted(evals(ws), key=lambda r: r.task)
    assert bio.task == "bio_uplift" and set(bio.metrics) == {"accuracy", "se"}
    assert ctf.task == "ctf"
    assert set(ctf.metrics) == {"exact", "match/se", "judge/accuracy", "judge/se", "judge/mean"}


def test_re_importing_the_same_file_adds_nothing(ws: Path, logs: Path, snapshot) -> None:
    first = _import(ws, logs / "bio.eval", logs / "ctf.eval", model="test")
    assert len(first.entries) == 2
    before = snapshot(ws)
    shutil.copy(logs / "bio.eval", logs / "copy-of-bio.eval")
    again = _import(ws, logs / "bio.eval", logs / "copy-of-bio.eval", logs / "ctf.eval", model="test")
    assert again.entries == [] and len(again.skipped) == 3
    assert all("already imported" in why for _, why in again.skipped)
    assert snapshot(ws) == before


def test_the_same_file_twice_in_one_batch_is_imported_once(ws: Path, logs: Path) -> None:
    shutil.copy(logs / "bio.eval", logs / "again.eval")
    result = _import(ws, logs / "bio.eval", logs / "again.eval", model="test")
    assert len(result.entries) == 1
    assert [why for _, why in result.skipped] == [f"the same file as {logs / 'bio.eval'}"]


def test_an_errored_log_is_refused_unless_partial(ws: Path, logs: Path, snapshot) -> None:
    before = snapshot(ws)
    with pytest.raises(InvalidInput) as refused:
        _import(ws, logs / "error.eval", model="test")
    message = str(refused.value)
    assert "error.eval" in message and "'error'" in message and "--partial" in message
    # with --partial it is read, but an errored run has no scores: still nothing to import
    with pytest.raises(InvalidInput, match="no scores"):
        _import(ws, logs / "error.eval", model="test", partial=True)
    assert snapshot(ws) == before


def test_a_directory_is_imported_whole_or_not_at_all(ws: Path, logs: Path, snapshot) -> None:
    before = snapshot(ws)
    with pytest.raises(InvalidInput, match="error.eval"):
        _import(ws, logs, model="test")  # error.eval spoils the batch
    assert snapshot(ws) == before
    (logs / "error.eval").unlink()
    (logs / "notes.txt").write_text("not a log")
    seen: list[tuple[int, int]] = []
    result = _import(ws, logs, model="test", progress=lambda done, total: seen.append((done, total)))
    assert sorted(Path(f.path).name for f in result.imported) == ["bio.eval", "bio.json", "ctf.eval"]
    assert len(evals(ws)) == 3
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert [e.index for e in result.entries] == [len(before), len(before) + 1, len(before) + 2]


def test_a_log_for_another_model_is_refused_unless_model_from_log(ws: Path, logs: Path, snapshot) -> None:
    before = snapshot(ws)
    with pytest.raises(InvalidInput) as refused:
        _import(ws, logs / "bio.eval", model="atlas-1")
    assert "'mast_offline/test'" in str(refused.value) and "--model-from-log" in str(refused.value)
    assert snapshot(ws) == before
    _import(ws, logs / "bio.eval", model="atlas-1", model_from_log=True)
    assert [r.model for r in evals(ws)] == ["test"]  # the log's model (mast_offline/test -> test)


def test_model_from_log_needs_the_model_to_be_recorded(tmp_path: Path, logs: Path) -> None:
    from mast.workspace import Workspace
    from evidence_helpers import FRAMEWORK
    from mast.framework.loader import load_framework
    from mast.records.kinds import ModelRecord

    workspace = Workspace.init(tmp_path / "other")
    workspace.publish(load_framework(FRAMEWORK), "fw", {"rso": "Jane Roe"})
    workspace.add([ModelRecord(kind="model", at="2025-01-01T00:00:00Z", id="atlas-1", name="Atlas 1")])
    try:
        with pytest.raises(InvalidInput, match="'mast_offline/test' is not a model of this workspace"):
            import_evidence(workspace, [logs / "bio.eval"], model_from_log=True)
        # a mapping names the model
        result = import_evidence(workspace, [logs / "bio.eval"], model_from_log=True,
                                 mapping=Mapping(models={"mast_offline/test": "atlas-1"}))
        assert [e.record.model for e in result.entries] == ["atlas-1"]
    finally:
        workspace.close()


def test_a_mapped_model_name_matches_model(ws: Path, logs: Path) -> None:
    result = _import(ws, logs / "bio.eval", model="atlas-1", mapping=Mapping(models={"mast_offline/test": "atlas-1"}))
    assert [e.record.model for e in result.entries] == ["atlas-1"]


def test_an_unknown_model_or_none_at_all_is_invalid(ws: Path, logs: Path) -> None:
    with pytest.raises(InvalidInput, match="--model 'nope': no such model"):
        _import(ws, logs / "bio.eval", model="nope")
    with pytest.raises(InvalidInput, match="--model-from-log"):
        _import(ws, logs / "bio.eval")


def test_a_damaged_log_is_a_clear_error(ws: Path, logs: Path, snapshot) -> None:
    before = snapshot(ws)
    data = (logs / "bio.eval").read_bytes()
    (logs / "bio.eval").write_bytes(data[: len(data) // 3])
    (logs / "x.json").write_text("{not json")
    with pytest.raises(InvalidInput) as bad:
        _import(ws, logs / "bio.eval", logs / "x.json", model="test")
    lines = str(bad.value).splitlines()
    assert any(line.startswith(f"{logs / 'bio.eval'}: cannot read as an Inspect log") for line in lines)
    assert any(line.startswith(f"{logs / 'x.json'}: cannot read as an Inspect log") for line in lines)
    assert snapshot(ws) == before


def test_without_inspect_ai_the_error_says_how_to_install_it(ws: Path, logs: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "inspect_ai.log", None)  # makes `from inspect_ai.log import` fail
    with pytest.raises(MastError, match=r"pip install 'mast\[inspect\]'"):
        _import(ws, logs / "bio.eval", model="test")


def test_cli_import_reports_and_refuses(ws: Path, logs: Path, mast, snapshot) -> None:
    done = mast("-w", str(ws), "evidence", "import", str(logs / "bio.eval"), str(logs / "ctf.eval"), "--model", "test")
    assert done.code == 0, done.stderr
    assert "appended 2 eval records" in done.stdout and "from 2 files" in done.stdout
    again = mast("-w", str(ws), "evidence", "import", str(logs), "--model", "test")
    assert again.code == 2 and "error.eval" in again.stderr and "nothing was written" in again.stderr
    before = snapshot(ws)
    again = mast("-w", str(ws), "evidence", "import", str(logs / "bio.eval"), "--model", "test")
    assert again.code == 0, again.stderr
    assert "nothing appended" in again.stdout and "already imported (same sha256)" in again.stdout
    other = mast("-w", str(ws), "evidence", "import", str(logs / "bio.json"), "--model", "atlas-1")
    assert other.code == 2 and "--model-from-log" in other.stderr and "Traceback" not in other.stderr
    assert snapshot(ws) == before


def test_importing_the_cli_loads_neither_inspect_nor_matplotlib() -> None:
    import subprocess

    code = ("import sys, mast.cli.app, mast.cli.evidence, mast.evidence.importer, mast.evidence.show, "
            "mast.evidence.plot; print(json.dumps([m for m in ('inspect_ai', 'matplotlib') if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
