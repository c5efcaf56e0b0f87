"""CSV evidence: one metric value a row, columns `model,task,metric,value,at`.

Rows with the same model, task and time are one evaluation (one eval record with several
metrics). Every bad row is reported as FILE:LINE, and nothing is imported unless all are good.
"""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime
from pathlib import Path

from mast.errors import InvalidInput, Problem
from mast.evidence.results import Result, Score

FORMAT = "csv"
COLUMNS = ("model", "task", "metric", "value", "at")


def read_csv(path: Path, data: bytes) -> list[Result]:
    name = str(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(Problem(name, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(Problem(name, 1, None, f"empty file: expected a header row {','.join(COLUMNS)}")) from None
    except csv.Error as exc:
        raise InvalidInput(Problem(name, 1, None, f"malformed CSV: {exc}")) from None
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        said = "; ".join(filter(None, [
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(unknown)}" if unknown else "",
            "a column is repeated" if len(set(header)) != len(header) else ""]))
        raise InvalidInput(Problem(name, 1, None, f"header: expected the columns {','.join(COLUMNS)} ({said})"))
    col = {c: header.index(c) for c in COLUMNS}

    problems: list[Problem] = []
    groups: dict[tuple[str, str, datetime], tuple[int, dict[str, tuple[float, int]]]] = {}
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem(name, reader.line_num, None, f"malformed CSV: {exc}"))
            break
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        rows += 1
        if len(row) != len(header):
            problems.append(Problem(name, line, None, f"expected {len(header)} fields ({','.join(header)}), found {len(row)}"))
            continue
        cells = {c: row[i].strip() for c, i in col.items()}
        bad = [f"{c}: expected a name (found nothing)" for c in ("model", "task", "metric") if not cells[c]]
        value = _number(cells["value"])
        if value is None:
            bad.append(f"value: expected a finite number (got {cells['value']!r})")
        at = _zoned(cells["at"])
        if at is None:
            bad.append(f"at: expected an ISO 8601 time with a zone, e.g. 2025-05-14T00:00:00Z (got {cells['at']!r})")
        if bad:
            problems.extend(Problem(name, line, None, message) for message in bad)
            continue
        assert value is not None and at is not None
        first, metrics = groups.setdefault((cells["model"], cells["task"], at), (line, {}))
        if cells["metric"] in metrics:
            problems.append(Problem(name, line, None, f"metric {cells['metric']!r} of {cells['model']} on "
                                                      f"{cells['task']} at {cells['at']} is already given on line "
                                                      f"{metrics[cells['metric']][1]}"))
            continue
        metrics[cells["metric"]] = (value, line)
    if problems:
        raise InvalidInput(problems)
    if not rows:
        raise InvalidInput(Problem(name, 2, None, "no rows after the header"))
    return [Result(task=task, scores=tuple(Score(None, m, v) for m, (v, _) in metrics.items()), at=at,
                   model=model, extra={"line": first}, line=first)
            for (model, task, at), (first, metrics) in groups.items()]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(text) if text.lstrip("+-").isdigit() else value


def _zoned(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
