"""Helpers for the evidence tests (a uniquely named module: no clash with other test dirs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mast.framework.loader import load_framework
from mast.records.kinds import EvalRecord, ModelRecord
from mast.workspace import Workspace

DATA = Path(__file__).parent / "data"
FRAMEWORK = DATA / "framework.yaml"


def build_workspace(root: Path) -> Path:
    ws = Workspace.init(root)
    try:
        ws.publish(load_framework(FRAMEWORK), str(FRAMEWORK), {"rso": "Jane Roe"})
        ws.add([ModelRecord(kind="model", at="2025-01-01T00:00:00Z", id="test", name="Offline test model"),
                ModelRecord(kind="model", at="2025-01-01T00:00:00Z", id="atlas-1", name="Atlas 1")])
    finally:
        ws.close()
    return root


def evals(root: Path) -> list[EvalRecord]:
    ws = Workspace.open(root)
    try:
        return [r for r in ws.store.records(kind="eval")]  # type: ignore[misc]
    finally:
        ws.close()


def open_ws(root: Path) -> Workspace:
    return Workspace.open(root)


def lm_eval_results(path: Path, **overrides: Any) -> Path:
    """A results file as lm-evaluation-harness writes it (`results_<date>.json`, v0.4 layout)."""
    doc: dict[str, Any] = {
        "results": {
            "hellaswag": {"alias": "hellaswag", "acc,none": 0.61, "acc_stderr,none": 0.0049,
                          "acc_norm,none": 0.78, "acc_norm_stderr,none": 0.0041},
            "gsm8k": {"alias": "gsm8k", "exact_match,strict-match": 0.42, "exact_match_stderr,strict-match": 0.013,
                      "exact_match,flexible-extract": 0.47, "exact_match_stderr,flexible-extract": 0.014},
        },
        "group_subtasks": {"hellaswag": [], "gsm8k": []},
        "configs": {"hellaswag": {"task": "hellaswag"}, "gsm8k": {"task": "gsm8k"}},
        "versions": {"hellaswag": 1.0, "gsm8k": 3.0},
        "n-shot": {"hellaswag": 0, "gsm8k": 5},
        "higher_is_better": {"hellaswag": {"acc": True, "acc_norm": True}, "gsm8k": {"exact_match": True}},
        "n-samples": {"hellaswag": {"original": 10042, "effective": 10042}, "gsm8k": {"original": 1319, "effective": 1319}},
        "config": {"model": "hf", "model_args": "pretrained=EleutherAI/pythia-160m,dtype=float32", "batch_size": "8",
                   "device": "cpu", "limit": None, "bootstrap_iters": 100000},
        "git_hash": "8b2ba44",
        "date": 1750000000.5,
        "transformers_version": "4.44.0",
        "lm_eval_version": "0.4.8",
        "model_source": "hf",
        "model_name": "EleutherAI/pythia-160m",
        "model_name_sanitized": "EleutherAI__pythia-160m",
        "start_time": 1234.5, "end_time": 2345.6, "total_evaluation_time_seconds": "1111.1",
    }
    doc.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path
