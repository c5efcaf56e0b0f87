"""Benchmark: `mast evidence import` of 200 Inspect logs of 500 samples each.

The logs are made once by Inspect itself, with mast's offline model (`mast.evidence.offline`),
and cached under /tmp (about 20 minutes on 2 cores; later runs reuse them). Then it times

- the floor: inspect_ai reading the 200 headers (`read_eval_log(path, header_only=True)`);
- the import: `import_evidence()` of the 200 logs into a fresh workspace (hashing every file,
  building and checking the records, one atomic append).

Target (issue 4): the import takes at most 1.5 × the floor. Run: `python bench/evidence.py`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

LOGS = 200
SAMPLES = 500
TASKS = 10
TARGET_RATIO = 1.5
CACHE = Path(tempfile.gettempdir()) / "mast-bench-evidence" / f"v1-{LOGS}x{SAMPLES}"
MODEL_ID = "bench-model"

FRAMEWORK = """\
mast: 1
framework: {id: bench, title: Bench, version: "1", effective: 2020-01-01T00:00:00Z}
thresholds:
""" + "".join(f"""\
  - id: t{i}
    domain: bench
    indicators: {{warning: 'score("bench_{i}", "accuracy") >= 0.5', not_ruled_out: 'score("bench_{i}", "accuracy") >= 0.8'}}
    determination_within: P30D
""" for i in range(TASKS)) + "amendment: {approvals: [rso]}\n"


# -- making the logs (once) ------------------------------------------------------------------

def _worker_init(home: str) -> None:
    from mast.evidence.offline import offline_environment

    os.environ.update(offline_environment(home))


def _make_log(index: int) -> str:
    """Run one 500-sample task with Inspect and move its log into the cache."""
    from inspect_ai import eval as inspect_eval

    from mast.evidence.offline import quiz

    run_dir = CACHE / "runs" / str(index)
    shutil.rmtree(run_dir, ignore_errors=True)
    correct = (index * 37) % SAMPLES
    [log] = inspect_eval(quiz(f"inspect_evals/bench_{index % TASKS}", SAMPLES, correct),
                         model="mast_offline/bench", log_dir=str(run_dir), log_format="eval",
                         display="none", score_display=False)
    if log.status != "success":
        raise RuntimeError(f"log {index}: status {log.status}")
    source = Path(log.location)
    target = CACHE / "logs" / f"{index:03d}-{source.name}"
    source.replace(target)  # whole files only: an interrupted run leaves nothing in logs/
    shutil.rmtree(run_dir, ignore_errors=True)
    return str(target)


def ensure_logs(workers: int) -> list[Path]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    (CACHE / "logs").mkdir(parents=True, exist_ok=True)
    have = {int(p.name.split("-", 1)[0]) for p in (CACHE / "logs").glob("*.eval")}
    missing = [i for i in range(LOGS) if i not in have]
    if missing:
        ctx = multiprocessing.get_context("spawn")
        columns = (TextColumn("making Inspect logs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns) as progress, ctx.Pool(workers, _worker_init, (str(CACHE / "home"),)) as pool:
            bar = progress.add_task("logs", total=LOGS, completed=LOGS - len(missing))
            for _ in pool.imap_unordered(_make_log, missing):
                progress.advance(bar)
    return sorted((CACHE / "logs").glob("*.eval"))


# -- timing ----------------------------------------------------------------------------------

def floor_seconds(paths: list[Path]) -> float:
    from inspect_ai.log import read_eval_log

    t0 = time.perf_counter()
    for path in paths:
        read_eval_log(str(path), header_only=True)
    return time.perf_counter() - t0


def fresh_workspace(root: Path):  # -> Workspace
    from mast.framework.loader import load_framework_text
    from mast.records.kinds import ModelRecord
    from mast.workspace import Workspace

    ws = Workspace.init(root)
    ws.publish(load_framework_text(FRAMEWORK, "bench.yaml"), "bench.yaml", {"rso": "Bench"})
    ws.add([ModelRecord(kind="model", at="2020-01-01T00:00:00Z", id=MODEL_ID, name="bench")])
    return ws


def import_seconds(paths: list[Path], scratch: Path) -> tuple[float, int]:
    from mast.evidence.importer import import_evidence

    shutil.rmtree(scratch, ignore_errors=True)
    ws = fresh_workspace(scratch)
    try:
        t0 = time.perf_counter()
        result = import_evidence(ws, [CACHE / "logs"], model=MODEL_ID, model_from_log=True)
        elapsed = time.perf_counter() - t0
    finally:
        ws.close()
    assert len(result.files) == len(paths), (len(result.files), len(paths))
    return elapsed, len(result.entries)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import inspect_ai

    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}, inspect_ai {inspect_ai.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds, alternating (best counts)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="processes making the logs")
    args = parser.parse_args()
    os.environ.update({"INSPECT_DISPLAY": "none"})

    from rich.console import Console

    console = Console()
    paths = ensure_logs(args.workers)
    size = sum(p.stat().st_size for p in paths)
    console.print(f"logs: {len(paths)} Inspect .eval logs of {SAMPLES} samples, {size / 1e6:.0f} MB, in {CACHE / 'logs'}")
    scratch = Path(tempfile.mkdtemp(prefix="mast-bench-ws-"))
    for path in paths:  # warm the page cache: both sides then read from memory
        path.read_bytes()
    floor_seconds(paths[:5])  # import inspect_ai (and its lazy imports) before timing
    floors, imports, appended = [], [], 0
    try:
        for _ in range(args.rounds):
            floors.append(floor_seconds(paths))
            elapsed, appended = import_seconds(paths, scratch / "ws")
            imports.append(elapsed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    floor, best = min(floors), min(imports)
    ratio = best / floor
    verdict = "[green]within target[/]" if ratio <= TARGET_RATIO else "[red]over target[/]"
    console.print(f"machine: {machine()}")
    console.print(f"floor  (inspect_ai reads {len(paths)} headers): {floor:.3f} s = {len(paths) / floor:.1f} logs/s "
                  f"(runs: {', '.join(f'{t:.3f}' for t in floors)})")
    console.print(f"import (mast, {appended} eval records appended): {best:.3f} s = {len(paths) / best:.1f} logs/s "
                  f"(runs: {', '.join(f'{t:.3f}' for t in imports)})")
    console.print(f"ratio: {ratio:.2f} × the floor — target ≤ {TARGET_RATIO} ×: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
