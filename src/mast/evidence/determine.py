"""Determinations: a signed decision about a model's threshold (DESIGN §4).

The roles that must sign come from the framework in force at the determination's time:

```yaml
determinations:
  approvals: [rso, ceo]
```

A determination without every one of them is refused (exit 3) and nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from mast.errors import InvalidInput, Problem
from mast.records.kinds import Audience, DeterminationRecord, ModelRecord
from mast.framework.versions import framework_in_force
from mast.records.references import PUBLISH_FIRST
from mast.records.store import Entry
from mast.workspace import Workspace
from mast.vocabulary import UTC

STATUSES = ("ruled_out", "not_ruled_out", "crossed")


def determine(ws: Workspace, model: str, threshold: str, *, status: str, rationale: str,
              approvals: Mapping[str, str], at: datetime | None = None, ref: str | None = None,
              supersedes: str | None = None, audience: Audience | str = Audience.public) -> Entry:
    """Append a determination record, if the framework in force at `at` (default: now) has
    the threshold and every role its `determinations.approvals` lists has signed (checked by
    `Workspace.add`, which every path into the log goes through)."""
    at = at or datetime.now(UTC).replace(microsecond=0)
    if at.utcoffset() is None:
        raise InvalidInput("--at: expected a time with a zone, e.g. 2025-05-14T00:00:00Z")
    if status not in STATUSES:
        raise InvalidInput(f"--status {status!r}: expected one of {', '.join(STATUSES)}")
    if not rationale.strip():
        raise InvalidInput("--rationale: a determination needs its reasons (found nothing)")
    framework = framework_in_force(ws.frameworks(), at)
    if framework is None:
        raise InvalidInput(Problem(str(ws.root), None, None, PUBLISH_FIRST))
    version = f"{framework.id} {framework.version}"
    if framework.threshold(threshold) is None:
        names = ", ".join(t.id for t in framework.thresholds) or "none"
        raise InvalidInput(f"unknown threshold {threshold!r} in {version} (its thresholds: {names})")
    models = {e.record.id for e in ws.store.entries(kind="model") if isinstance(e.record, ModelRecord)}
    if model not in models:
        raise InvalidInput(f"unknown model {model!r}: define it first with a `model` record "
                           f"(models: {', '.join(sorted(models)) or 'none yet'})")
    record = DeterminationRecord(kind="determination", at=at, model=model, threshold=threshold, status=status,
                                 rationale=rationale.strip(), approved_by=dict(approvals), ref=ref,
                                 supersedes=supersedes, audience=Audience(audience))
    [entry] = ws.add([record])
    return entry
