"""lm-evaluation-harness results files (`results_<date>.json`).

The harness writes, per run, a JSON file whose `results` maps each task to its metrics keyed
`<metric>,<filter>` (`"acc,none": 0.61`, `"acc_stderr,none": 0.02`, `"alias": "wmdp_bio"`).
DESIGN §4 names a metric by the key before the filter (`acc,none` -> `acc`); standard errors
and aliases are not metrics. When two filters give the same metric (`exact_match,strict-match`
and `exact_match,flexible-extract`), the higher value is kept: best elicitation counts.
The model is `model_name`, else the `pretrained=` (or `model=`) part of `config.model_args`;
the run's time is `date` (Unix time, UTC).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from mast.errors import InvalidInput, Problem
from mast.evidence.results import Result, Score
from mast.vocabulary import UTC

FORMAT = "lm-eval"


def is_results_file(path: Path) -> bool:
    """lm-eval names its results `results_<date>.json` (older versions: `results.json`)."""
    return path.suffix == ".json" and path.name.startswith("results")


def read_lm_eval(path: Path, data: bytes) -> list[Result]:
    """One result per task in the file's `results` section."""
    name = str(path)

    def problem(message: str) -> InvalidInput:
        return InvalidInput(Problem(name, None, None, message))

    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InvalidInput(Problem(name, line, getattr(exc, "colno", None),
                                   f"not an lm-eval results file: invalid JSON ({exc.args[0] if exc.args else exc})")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise problem("not an lm-eval results file: expected a JSON object with a `results` object")
    at = _date(doc.get("date"))
    if at is None:
        raise problem("the results file has no `date` (the run's Unix time); it cannot be placed in time")
    model = _model(doc)
    samples = doc.get("n-samples") if isinstance(doc.get("n-samples"), dict) else {}
    out: list[Result] = []
    for task, metrics in doc["results"].items():
        if not isinstance(metrics, dict):
            raise problem(f"results.{task}: expected an object of metrics")
        best: dict[str, float] = {}
        for key, value in metrics.items():
            metric = str(key).split(",", 1)[0]
            if metric == "alias" or "_stderr" in metric:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue  # "N/A" and the like
            if metric not in best or value > best[metric]:
                best[metric] = value
        if not best:
            continue  # a group header without aggregate metrics
        extra: dict[str, Any] = {"task": task}
        if model is not None:
            extra["model"] = model
        counts = samples.get(task)
        if isinstance(counts, dict) and isinstance(counts.get("effective"), int):
            extra["samples"] = counts["effective"]
        for key in ("lm_eval_version", "git_hash"):
            if isinstance(doc.get(key), str):
                extra[key] = doc[key]
        out.append(Result(task=str(task), scores=tuple(Score(None, m, v) for m, v in best.items()),
                          at=at, model=model, extra=extra))
    if not out:
        raise problem("the results file has no numeric metrics to import")
    return out


def _date(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return datetime.fromtimestamp(value, UTC)


def _model(doc: dict[str, Any]) -> str | None:
    name = doc.get("model_name")
    if isinstance(name, str) and name:
        return name
    config = doc.get("config")
    args = config.get("model_args") if isinstance(config, dict) else None
    if isinstance(args, dict):
        for key in ("pretrained", "model"):
            if isinstance(args.get(key), str):
                return args[key]
    if isinstance(args, str) and args:
        parts = dict(p.split("=", 1) for p in args.split(",") if "=" in p)
        return parts.get("pretrained") or parts.get("model") or args
    return None
