"""A synthetic workspace for the benchmarks: N models, T thresholds, E eval records.

Scores are drawn so that most thresholds are ruled out, some cross an early-warning line
and a few are not ruled out — the shape of a real lab's evidence, not a worst case.

Deterministic (seeded) so figures are comparable between runs. Shared by bench/engine.py and
later benchmarks (reports) that need the same 1,000-model workspace.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from mast.framework.model import Framework
from mast.records.kinds import parse_record

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def framework(thresholds: int = 40) -> Framework:
    ths = []
    for i in range(thresholds):
        task = f"task_{i:02d}"
        other = f"task_{(i + 1) % thresholds:02d}"
        ths.append({
            "id": f"th-{i:02d}",
            "domain": ["cbrn", "cyber", "ai-rnd", "autonomy"][i % 4],
            "indicators": {
                "warning": f'score("{task}", "accuracy") >= 0.55',
                "not_ruled_out": f'score("{task}", "accuracy") >= 0.75 || score("{other}", "pass_at_1") >= 0.9',
            },
            "determination_within": "P30D",
            "requires": [{"standard": f"std-{i % 5}", "before": ["training", "internal", "deployed"][i % 3]}],
        })
    standards = [{"id": f"std-{s}", "title": f"Standard {s}",
                  "safeguards": [{"id": f"g{g}", "title": f"Safeguard {g}"} for g in range(4)]} for s in range(5)]
    return Framework.model_validate({
        "mast": 1,
        "framework": {"id": "bench", "title": "Benchmark framework", "version": "1",
                      "effective": START.isoformat()},
        "thresholds": ths,
        "standards": standards,
        "commitments": [
            {"id": "risk-report", "every": "P6M", "action": "report"},
            {"id": "board-notice", "after": "determination", "where": 'status != "ruled_out"',
             "within": "P7D", "action": "notice", "to": "board"},
            {"id": "incident-72h", "after": "incident", "within": "PT72H", "action": "notice", "to": "authority"},
        ],
        "amendment": {"approvals": ["rso"]},
    })


def records(models: int = 1000, thresholds: int = 40, evals: int = 100_000, seed: int = 7) -> list:
    rng = random.Random(seed)
    out = []

    def add(data: dict) -> None:
        out.append(parse_record(data))

    for m in range(models):
        parent = f"m{rng.randrange(m):04d}" if m > 10 and rng.random() < 0.3 else None
        at = START + timedelta(days=m % 30)
        add({"kind": "model", "at": at.isoformat(), "id": f"m{m:04d}", "name": f"Model {m}",
             **({"parent": parent} if parent else {})})
        add({"kind": "stage", "at": (at + timedelta(days=1)).isoformat(), "model": f"m{m:04d}", "stage": "training"})
        if rng.random() < 0.6:
            add({"kind": "stage", "at": (at + timedelta(days=90)).isoformat(), "model": f"m{m:04d}",
                 "stage": rng.choice(["internal", "deployed"])})
    for s in range(5):
        for g in range(4):
            add({"kind": "safeguard", "at": (START + timedelta(days=10 * g)).isoformat(),
                 "safeguard": f"std-{s}/g{g}", "status": rng.choice(["implemented", "implemented", "partial"])})
    # Evals arrive as rounds: a model is run on the whole battery (one eval per task) at one
    # moment, as evaluation suites are. `evals` records in all, spread over ~18 months.
    rounds = evals // thresholds
    for r in range(rounds):
        at = START + timedelta(minutes=rng.randrange(60 * 24 * 540))
        model = f"m{r % models:04d}"
        for i in range(thresholds):
            add({"kind": "eval", "at": at.isoformat(), "model": model, "task": f"task_{i:02d}",
                 "metrics": {"accuracy": round(rng.betavariate(2, 5), 4),
                             "pass_at_1": round(rng.random() * 0.95, 4)}})
    for d in range(models // 2):
        at = START + timedelta(days=200 + d % 200)
        add({"kind": "determination", "at": at.isoformat(), "model": f"m{rng.randrange(models):04d}",
             "threshold": f"th-{rng.randrange(thresholds):02d}", "status": rng.choice(["ruled_out", "not_ruled_out"]),
             "rationale": "synthetic", "approved_by": {"rso": "R. S. Officer"}})
    out.sort(key=lambda r: r.at)
    return out
