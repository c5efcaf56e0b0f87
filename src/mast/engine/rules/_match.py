"""Finding the records that fulfil a commitment's `action`."""

from __future__ import annotations

from typing import Any

from mast.engine.facts import Facts
from mast.framework.model import Commitment


def action_records(facts: Facts, commitment: Commitment, model: str | None = None) -> list[Any]:
    """Records of kind `commitment.action` (with `to`, if given), time-ordered. With `model`,
    only those that name that model or name no model at all (a report covers every model)."""
    out = []
    for r in facts.kind(commitment.action or ""):
        if commitment.to is not None and getattr(r, "to", None) != commitment.to:
            continue
        if model is not None:
            named = r.models()
            if named and model not in named:
                continue
        out.append(r)
    return out
