"""Whether each safeguard covers a model over time.

A safeguard covers a model while its latest record scoped to that model — or, if there is
none, its latest all-models record — says `implemented`, or while an exemption for it
(scoped to the model or to all models) is in force: from its `at` until `expires`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mast.engine.facts import Facts
from mast.engine.timeline import Intervals, Steps, union

#: per moment: "implemented", "exempt" or "missing"
Coverage = Steps[str]


@dataclass(frozen=True)
class _Key:
    safeguard: str
    model: str | None


class SafeguardCoverage:
    """Coverage timelines, computed lazily and shared by models without scoped records."""

    def __init__(self, facts: Facts):
        self.facts = facts
        self._cache: dict[_Key, Coverage] = {}
        self._unmet: dict[tuple, Intervals] = {}
        self._scoped: dict[str, set[str]] = {}
        for address in set(facts.safeguards) | set(facts.exemptions):
            self._scoped[address] = {
                r.scope for r in facts.safeguards.get(address, []) + facts.exemptions.get(address, [])
                if r.scope
            }

    def coverage(self, address: str, model: str) -> Coverage:
        scope = model if model in self._scoped.get(address, ()) else None
        key = _Key(address, scope)
        if key not in self._cache:
            self._cache[key] = self._compute(address, scope)
        return self._cache[key]

    def _compute(self, address: str, model: str | None) -> Coverage:
        records = [r for r in self.facts.safeguards.get(address, []) if r.scope in (None, model)]
        exemptions = [x for x in self.facts.exemptions.get(address, []) if x.scope in (None, model)]
        moments = sorted({r.at for r in records} | {x.at for x in exemptions}
                         | {x.expires for x in exemptions})
        steps: Coverage = Steps(initial="missing")
        for moment in moments:
            steps.set(moment, self._state(records, exemptions, model, moment))
        return steps

    @staticmethod
    def _state(records: list, exemptions: list, model: str | None, moment: datetime) -> str:
        scoped = global_ = None
        for r in records:
            if r.at > moment:
                break
            if r.scope is None:
                global_ = r
            else:
                scoped = r
        current = scoped or global_
        if current is not None and current.status == "implemented":
            return "implemented"
        if any(x.at <= moment < x.expires for x in exemptions):
            return "exempt"
        return "missing"

    def unmet(self, addresses: list[str], model: str) -> Intervals:
        """Moments at which at least one of `addresses` does not cover `model`. Models with
        no scoped records share one computation."""
        scopes = tuple(model if model in self._scoped.get(a, ()) else None for a in addresses)
        key = (tuple(addresses), scopes)
        if key not in self._unmet:
            self._unmet[key] = union(*(self.coverage(a, model).where(_missing) for a in addresses))
        return self._unmet[key]


def _missing(state: str | None) -> bool:
    return state == "missing"
