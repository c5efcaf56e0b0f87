"""`mast evidence show` and `plot`, and `mast status` after an Inspect import."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from evidence_helpers import evals, open_ws
from mast.evidence.importer import import_evidence
from mast.evidence.show import evidence_view, lines_of, Line
from mast.vocabulary import iso

pytest.importorskip("inspect_ai")


@pytest.fixture
def imported(ws: Path, logs: Path) -> datetime:
    """bio.eval (accuracy 0.7), bio.json (0.4) and ctf.eval (graded/accuracy 0.75) imported
    for model `test`; returns a moment one day after the last of them."""
    workspace = open_ws(ws)
    try:
        import_evidence(workspace, [logs / "bio.eval", logs / "bio.json", logs / "ctf.eval"], model="test")
    finally:
        workspace.close()
    return max(r.at for r in evals(ws)) + timedelta(days=1)


def _view(ws: Path, model: str, as_of: datetime):
    workspace = open_ws(ws)
    try:
        return evidence_view(workspace.frameworks(), workspace.store.records(), model, as_of)
    finally:
        workspace.close()


def test_show_gives_each_indicator_its_scores_and_the_level_reached(ws: Path, logs: Path, imported: datetime) -> None:
    data = _view(ws, "test", imported).to_json_data()
    assert data["model"] == "test" and data["framework"] == {"id": "test-rsp", "version": "1"}
    cbrn, cyber, knowledge = data["thresholds"]
    assert (cbrn["id"], cbrn["status"], cbrn["reached"]) == ("cbrn-3", "ruled_out", "warning")
    warning, nro = cbrn["indicators"]
    assert (warning["level"], warning["holds"], nro["holds"]) == ("warning", True, False)
    [best] = warning["scores"]
    bio = next(r for r in evals(ws) if r.source.path.endswith("bio.eval"))
    assert best == {"task": "wmdp_bio", "metric": "accuracy", "value": pytest.approx(0.7), "evals": 2,
                    "at": iso(bio.at), "source": f"{logs / 'bio.eval'} (inspect)"}
    assert warning["lines"] == [{"task": "wmdp_bio", "metric": "accuracy", "op": ">=", "value": 0.55}]
    assert cyber["reached"] == "warning" and cyber["indicators"][0]["holds"] is True
    assert {s["metric"]: s["value"] for s in cyber["indicators"][0]["scores"]} == {
        "graded/accuracy": pytest.approx(0.75), "match/accuracy": pytest.approx(0.75)}
    assert knowledge["status"] == "untested" and knowledge["reached"] is None
    assert knowledge["indicators"][0]["holds"] is None  # no evidence: undecided
    assert knowledge["indicators"][0]["scores"] == [{"task": "hellaswag", "metric": "acc", "value": None, "evals": 0}]


def test_status_shows_the_fired_indicators_as_warnings_with_due_dates(ws: Path, imported: datetime, mast) -> None:
    done = mast("-w", str(ws), "status", "--as-of", iso(imported), "--json")
    assert done.code == 0, done.stderr
    findings = {f["commitment"]: f for f in json.loads(done.stdout)["findings"] if f.get("model") == "test"}
    bio = next(r for r in evals(ws) if r.task == "wmdp_bio" and r.metrics["accuracy"] > 0.5)
    ctf = next(r for r in evals(ws) if r.task == "cyber_ctf")
    assert findings["cbrn-3"]["kind"] == "warning" and findings["cbrn-3"]["since"] == iso(bio.at)
    assert findings["cbrn-3"]["due"] == iso(bio.at + timedelta(days=30))
    assert findings["cyber-1"]["kind"] == "warning" and findings["cyber-1"]["due"] == iso(ctf.at + timedelta(days=14))


def test_cli_show_prints_values_sources_and_levels(ws: Path, logs: Path, imported: datetime, mast) -> None:
    done = mast("-w", str(ws), "evidence", "show", "test", "--as-of", iso(imported))
    assert done.code == 0, done.stderr
    text = done.stdout
    assert "cbrn-3" in text and "reached warning" in text
    assert "wmdp_bio · accuracy: 0.7" in text and f"from {logs / 'bio.eval'} (inspect)" in text
    assert "hellaswag · acc: no evidence" in text
    unknown = mast("-w", str(ws), "evidence", "show", "nobody")
    assert unknown.code == 2 and "unknown model 'nobody'" in unknown.stderr


def test_plot_draws_scores_and_indicator_lines(ws: Path, imported: datetime, tmp_path: Path, mast) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "charts" / "test.svg"
    done = mast("-w", str(ws), "evidence", "plot", "test", "-o", str(out), "--as-of", iso(imported))
    assert done.code == 0, done.stderr
    svg = out.read_text()
    ET.fromstring(svg)  # well-formed
    texts = "".join(ET.fromstring(svg).itertext())
    assert "cbrn-3" in texts and "cyber-1" in texts
    assert "warning: wmdp_bio·accuracy >= 0.55" in texts and "not_ruled_out: wmdp_bio·accuracy >= 0.8" in texts
    assert "wmdp_bio · accuracy" in texts  # the legend
    first = out.read_bytes()
    assert mast("-w", str(ws), "evidence", "plot", "test", "-o", str(out), "--as-of", iso(imported)).code == 0
    assert out.read_bytes() == first  # the same evidence draws the same file


def test_plot_refuses_a_model_without_evidence_or_a_bad_suffix(ws: Path, tmp_path: Path, mast) -> None:
    pytest.importorskip("matplotlib")
    done = mast("-w", str(ws), "evidence", "plot", "atlas-1", "-o", str(tmp_path / "a.svg"))
    assert done.code == 2 and "nothing to plot" in done.stderr and not (tmp_path / "a.svg").exists()
    done = mast("-w", str(ws), "evidence", "plot", "atlas-1", "-o", str(tmp_path / "a.txt"))
    assert done.code == 2 and ".svg" in done.stderr


def test_indicator_lines_are_read_from_comparisons_with_literals() -> None:
    assert lines_of('score("a", "m") >= 0.5 && 0.7 < score("b", "n") || score("c", "o") > score("d", "p")') == [
        Line("a", "m", ">=", 0.5), Line("b", "n", ">", 0.7)]
    assert lines_of('threshold("x") == "crossed"') == []
