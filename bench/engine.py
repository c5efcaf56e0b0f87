"""Benchmark: assess() over 1,000 models, 40 thresholds and 100,000 eval records.

Target (issue 2): at most 2 s on a 2-core machine. Prints the figure; run by `make bench`.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))

from rich.console import Console  # noqa: E402

from mast.engine import assess  # noqa: E402
import synthetic  # noqa: E402

TARGET_S = 2.0


def main() -> None:
    console = Console()
    with console.status("building the synthetic workspace…"):
        fw = synthetic.framework()
        recs = synthetic.records()
    as_of = synthetic.START + timedelta(days=560)
    evals = sum(1 for r in recs if r.kind == "eval")
    console.print(f"workspace: 1,000 models, {len(fw.thresholds)} thresholds, {evals:,} evals, {len(recs):,} records")
    timings, cpu = [], []
    for run in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        assessment = assess(fw, recs, as_of)
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    best = min(timings)
    t0 = time.perf_counter()
    with_history = assess(fw, recs, as_of, history=True)
    history_s = time.perf_counter() - t0
    console.print(f"findings: {sum(assessment.summary.values())} current, {len(with_history.findings)} with history")
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    verdict = "[green]within target[/]" if best <= TARGET_S else "[red]over target[/]"
    console.print(f"assess(): best of 3 = {best:.3f} s wall, {min(cpu):.3f} s CPU "
                  f"(runs: {', '.join(f'{t:.3f}' for t in timings)}) — target ≤ {TARGET_S:.1f} s: {verdict}")
    console.print(f"assess(history=True): {history_s:.3f} s")


if __name__ == "__main__":
    main()
