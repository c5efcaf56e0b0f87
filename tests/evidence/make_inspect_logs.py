"""Make real Inspect logs with Inspect itself (run in a subprocess by the tests, so that the
environment that keeps Inspect offline and inside a temporary directory is set before
inspect_ai is imported).

    python make_inspect_logs.py OUT_DIR

writes, under OUT_DIR/logs:
  bio.eval     inspect_evals/wmdp_bio, one scorer, 10 samples, 7 right   (accuracy 0.7)
  bio.json     the same task in the JSON format, 4 right                 (accuracy 0.4)
  ctf.eval     cyber_ctf, two scorers (match: accuracy, stderr; graded: accuracy, stderr, mean), 6 of 8 right
  error.eval   wmdp_chem, a solver that raises: status `error`
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(out: Path) -> None:
    from mast.evidence.offline import offline_environment

    os.environ.update(offline_environment(out))
    from inspect_ai import eval as inspect_eval

    from mast.evidence.offline import quiz

    logs = out / "logs"
    runs = [
        ("bio.eval", quiz("inspect_evals/wmdp_bio", 10, 7), "eval"),
        ("bio.json", quiz("inspect_evals/wmdp_bio", 10, 4), "json"),
        ("ctf.eval", quiz("cyber_ctf", 8, 6, scorers=2), "eval"),
        ("error.eval", quiz("wmdp_chem", 3, 3, fail=True), "eval"),
    ]
    for name, task, log_format in runs:
        [log] = inspect_eval(task, model="mast_offline/test", log_dir=str(out / "runs"), log_format=log_format,
                             display="none", score_display=False)
        Path(log.location).replace(logs / name)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    (target / "logs").mkdir(parents=True, exist_ok=True)
    main(target)
