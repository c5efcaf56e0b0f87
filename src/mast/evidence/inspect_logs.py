"""Inspect logs (`.eval` and `.json`), read with inspect_ai's own log API, headers only.

An Inspect log is one run of one task against one model. Its results hold one `EvalScore` per
scorer, each with its metrics; DESIGN §4 names them `accuracy` when the log has one scorer
and `<scorer>/accuracy` when it has several. inspect_ai is an optional extra
(`pip install 'mast[inspect]'`) and is imported only when a log is read.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from mast.errors import InvalidInput, MastError, Problem
from mast.evidence.results import Result, Score

FORMAT = "inspect"
SUFFIXES = (".eval", ".json")
#: files Inspect keeps in a log directory that are not logs
NOT_LOGS = frozenset({"logs.json", "listing.json", "eval-set.json"})


def log_reader() -> Callable[..., Any]:
    """inspect_ai's `read_eval_log`, or a clear error when the extra is not installed."""
    try:
        from inspect_ai.log import read_eval_log
    except ImportError:
        raise MastError("reading Inspect logs needs inspect_ai: pip install 'mast[inspect]'") from None
    return read_eval_log


def read_inspect(path: Path, *, partial: bool = False) -> list[Result]:
    """The result of one Inspect log. Refuses (InvalidInput) a log that did not finish with
    status `success`, unless `partial`; and one without results or a zoned time."""
    read_eval_log = log_reader()
    name = str(path)
    try:
        log = read_eval_log(str(path), header_only=True)
    except Exception as exc:  # inspect_ai raises many kinds: zip, JSON, pydantic, I/O
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = " (an lm-eval results file? give --format lm-eval)" if path.suffix == ".json" else ""
        raise InvalidInput(Problem(name, None, None, f"cannot read as an Inspect log: {first}{hint}")) from None
    status = str(log.status)
    if status != "success" and not partial:
        why = f" ({_error_message(log)})" if log.error is not None else ""
        raise InvalidInput(Problem(name, None, None,
                                   f"the log's status is {status!r}, not 'success'{why}: its results may "
                                   "cover only part of the task; pass --partial to import them anyway"))
    results = log.results
    scores = list(results.scores) if results is not None else []
    if not scores:
        raise InvalidInput(Problem(name, None, None, f"the log (status {status!r}) has no scores to import"))
    values: list[Score] = []
    for score in scores:
        for key, metric in score.metrics.items():
            value = metric.value
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue  # e.g. the stderr of one sample: NaN has no place in the log
            values.append(Score(score.name, metric.name or key, value))
    if not values:
        raise InvalidInput(Problem(name, None, None, "the log's scores have no finite metric values"))
    at = _zoned(log.stats.completed_at) or _zoned(log.stats.started_at) or _zoned(log.eval.created)
    if at is None:
        raise InvalidInput(Problem(name, None, None,
                                   "the log records no time with a zone (stats.completed_at, "
                                   "stats.started_at, eval.created); naive times are not accepted"))
    spec = log.eval
    extra: dict[str, Any] = {"task": spec.task, "model": spec.model, "status": status,
                             "eval_id": spec.eval_id, "run_id": spec.run_id}
    if results is not None:
        extra["samples"] = results.completed_samples
        if results.total_samples != results.completed_samples:
            extra["total_samples"] = results.total_samples
    return [Result(task=spec.task, scores=tuple(values), at=at, model=spec.model, extra=extra,
                   prefixed=len(scores) > 1)]


def _zoned(text: Any) -> datetime | None:
    if isinstance(text, datetime):
        moment = text
    elif isinstance(text, str) and text:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.utcoffset() is not None else None


def _error_message(log: Any) -> str:
    message = str(getattr(log.error, "message", "") or "").strip()
    return message.splitlines()[0] if message else "an error"
