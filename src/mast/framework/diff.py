"""The semantic diff of two framework versions (issue 6): what changed, and in which direction.

`diff_frameworks(old, new)` matches elements by id and classifies every difference as
`added`, `removed`, `strengthened`, `weakened` or `changed` (direction unknown), with a
sentence saying why. The revision gate refuses a version whose weakenings (`removed`,
`weakened`) its changelog does not acknowledge, so the rules err towards calling a change a
weakening or `changed` rather than a strengthening:

- an element removed is a weakening (an escape clause *added* is one too);
- conditions are compared as CEL, not as text (`mast.framework.implication`): an indicator,
  `where` or `when` that became harder to meet is a weakening, a `holds` that became easier
  to satisfy is one; an indicator level or a `where` filter that appears or disappears
  compares with `false` / `true`; rewrites mast proves equivalent are not changes, rewrites
  whose direction it cannot establish are `changed`;
- a duration allowed before acting (`within`, `every`, `determination_within`) lengthened, or
  a notice period (`amendment.notice`) shortened, is a weakening; durations whose order depends
  on the length of months (`P1M` vs `P30D`) are `changed`; equal ones (`P7D`, `P1W`) are not
  changes; a missing `determination_within` is unbounded, a missing `notice` is none;
- a gate moved to a later stage, a required standard removed or moved to `recommendations`,
  a recipient removed from an escape clause's `notify`, a role removed from `approvals`, a
  commitment's `to` removed (any recipient now counts), an audience raised (less
  transparency): weakenings; the reverse of each is a strengthening;
- text (titles, descriptions, `domain`, `action`, `after`, a redaction reason) and a commitment
  that changes kind (`every` -> `holds`) are `changed`. The framework's version, effective
  date and changelog describe the revision itself and are not compared.

A standard listed twice in one threshold's `requires` gates at its earliest stage, which is
what the engine enforces, so that is what is compared.

Renames. An element matches the element of the other version whose id its `renamed_from`
names, in either direction: a NEW element with `renamed_from: X` matches OLD's `X`, and an
OLD element with `renamed_from: Y` matches NEW's `Y` (so `diff(B, A)` recognises a rename
`diff(A, B)` reported, although A cannot say it). Ids matched exactly come first; an element
left with more than one such candidate is not matched (reported removed / added). A matched
rename is one `changed` change on field `id` ("renamed from X to Y"); its other changes are
reported under the new id with `old_id` the old one. Safeguards of a renamed standard keep
their own id, get the new address and `old_id` the old one, and no rename change of their
own. `threshold("X")` in the old version's expressions and `standard: X` in its `requires`
are read under the new ids, so a rename alone changes nothing else.

Mirroring. A `Change`'s `reason` (and, for requirements, its `field`) is derived from its other
fields, so `Change.mirrored()` is exactly the change `diff(new, old)` reports: old and new
swapped, `added` <-> `removed`, `strengthened` <-> `weakened`, `id` <-> `old_id` for a
renamed element. Hence `set(diff(b, a).changes) == {c.mirrored() for c in diff(a, b).changes}`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from mast.framework.implication import compare
from mast.framework.versions import match_elements
from mast.framework.model import Commitment, Element, EscapeClause, Framework, Requirement, Standard, Threshold
from mast.vocabulary import Audience, Duration, Stage

__all__ = ["Change", "ChangeKind", "ElementKind", "FrameworkDiff", "diff_frameworks"]

ChangeKind = Literal["added", "removed", "strengthened", "weakened", "changed"]
ElementKind = Literal["threshold", "standard", "safeguard", "commitment", "escape_clause",
                      "amendment", "determinations", "framework"]

_ELEMENT_ORDER: tuple[str, ...] = ("threshold", "standard", "safeguard", "commitment", "escape_clause",
                                   "amendment", "determinations", "framework")
_GROUP = {"weakened": 0, "removed": 0, "strengthened": 1, "added": 2, "changed": 3}
_SUMMARY_ORDER: tuple[ChangeKind, ...] = ("weakened", "removed", "strengthened", "added", "changed")
_MIRROR: dict[str, ChangeKind] = {"added": "removed", "removed": "added", "strengthened": "weakened",
                                  "weakened": "strengthened", "changed": "changed"}


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two versions of a framework.

    `id` is the address a changelog `acknowledges` (a threshold / standard / commitment /
    escape-clause id, `standard/safeguard`, `amendment`, `determinations` or `framework`),
    under its new id when renamed (`old_id` is then the previous one). `field` is a dotted
    path inside the element (None: the whole element); `old` / `new` are JSON-able values
    (None when absent). Build changes with `diff_frameworks`: their `reason` is derived from
    the other fields, which is what keeps `mirrored()` exact.
    """

    id: str
    element: ElementKind
    change: ChangeKind
    field: str | None
    old: Any
    new: Any
    reason: str
    old_id: str | None = None

    def __hash__(self) -> int:  # old / new may be dicts; equal changes have equal reasons
        return hash((self.id, self.element, self.change, self.field, self.reason, self.old_id))

    @property
    def weakens(self) -> bool:
        """Whether the revision gate needs this change acknowledged."""
        return self.change in ("removed", "weakened")

    def mirrored(self) -> "Change":
        """The change `diff(new, old)` reports for this one."""
        renamed = self.old_id is not None
        field = self.field
        if self.element == "threshold" and field is not None and field.split(".")[0] in ("requires", "recommendations"):
            field = _requirement_field(self.new, self.old)
        return _change(self.old_id if renamed else self.id, self.element, _MIRROR[self.change], field,
                       self.new, self.old, self.id if renamed else None)

    def acknowledged_by(self, ids: set[str]) -> bool:
        """Whether a changelog acknowledging `ids` names this change's element."""
        return self.id in ids or (self.old_id is not None and self.old_id in ids)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "element": self.element, "change": self.change, "field": self.field,
                "old": self.old, "new": self.new, "reason": self.reason, "old_id": self.old_id}


@dataclass(frozen=True, slots=True)
class FrameworkDiff:
    """All changes from framework version `old` to `new` (each `(framework id, version)`).

    `changes` are ordered weakenings (weakened and removed) first, then strengthened, added,
    changed; within a group by element kind (thresholds, standards, safeguards, commitments,
    escape clauses, amendment, determinations, framework), then id.
    """

    old: tuple[str, str]
    new: tuple[str, str]
    changes: tuple[Change, ...]

    @property
    def weakenings(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.weakens)

    def counts(self) -> dict[ChangeKind, int]:
        """How many changes of each kind, every kind present (zero included)."""
        counted = Counter(c.change for c in self.changes)
        return {kind: counted[kind] for kind in ("added", "removed", "strengthened", "weakened", "changed")}

    def summary(self) -> str:
        """One line, e.g. "2 weakened, 1 removed, 1 added, 3 changed", or "no changes"."""
        counts = self.counts()
        parts = [f"{counts[kind]} {kind}" for kind in _SUMMARY_ORDER if counts[kind]]
        return ", ".join(parts) if parts else "no changes"

    def to_json(self) -> dict[str, Any]:
        return {"old": {"id": self.old[0], "version": self.old[1]},
                "new": {"id": self.new[0], "version": self.new[1]},
                "changes": [c.to_json() for c in self.changes],
                "summary": self.counts()}


def diff_frameworks(old: Framework, new: Framework) -> FrameworkDiff:
    """Every change from `old` to `new`, classified (see the module docstring)."""
    out: list[Change] = []
    thresholds = match_elements(old.thresholds, new.thresholds)
    standards = match_elements(old.standards, new.standards)
    context = _Renames({o.id: n.id for o, n in thresholds if o and n and o.id != n.id},
                       {o.id: n.id for o, n in standards if o and n and o.id != n.id})
    for o, n in thresholds:
        _pair(out, "threshold", o, n, lambda emit, a, b: _threshold(emit, a, b, context))
    for o, n in standards:
        _pair(out, "standard", o, n, _standard)
    for o, n in match_elements(old.commitments, new.commitments):
        _pair(out, "commitment", o, n, lambda emit, a, b: _commitment(emit, a, b, context))
    for o, n in match_elements(old.escape_clauses, new.escape_clauses):
        _pair(out, "escape_clause", o, n, _escape_clause)
    amendment = _Emitter(out, "amendment", "amendment", None)
    _names(amendment, "approvals", old.amendment.approvals, new.amendment.approvals)
    _duration(amendment, "notice", old.amendment.notice, new.amendment.notice, longer="strengthened", unset="zero")
    _names(_Emitter(out, "determinations", "determinations", None), "approvals",
           old.determinations.approvals, new.determinations.approvals)
    framework = _Emitter(out, "framework", "framework", None)
    _text(framework, "id", old.framework.id, new.framework.id)
    _text(framework, "title", old.framework.title, new.framework.title)
    return FrameworkDiff((old.id, old.version), (new.id, new.version), tuple(sorted(out, key=_order)))


# ---------------------------------------------------------------- matching

@dataclass(frozen=True)
class _Renames:
    """Old id -> new id of renamed thresholds and standards, to read the old version's
    references under the new names."""

    thresholds: dict[str, str]
    standards: dict[str, str]


@dataclass(frozen=True)
class _Emitter:
    """Records changes of one element, all with the same id / old id."""

    out: list[Change]
    element: ElementKind
    id: str
    old_id: str | None

    def __call__(self, kind: ChangeKind, field: str | None, old: Any, new: Any) -> None:
        self.out.append(_change(self.id, self.element, kind, field, old, new, self.old_id))


def _pair(out: list[Change], element: ElementKind, old: Element | None, new: Element | None,
          body: Callable[[_Emitter, Any, Any], None], old_address: str | None = None,
          new_address: str | None = None) -> None:
    """The changes of one matched (or unmatched) element: added / removed, a rename, the
    common fields, then `body` for the element's own fields."""
    escape = element == "escape_clause"
    if old is None:
        _Emitter(out, element, new_address or new.id, None)("weakened" if escape else "added", None, None, _dump(new))
        return
    if new is None:
        _Emitter(out, element, old_address or old.id, None)("strengthened" if escape else "removed",
                                                            None, _dump(old), None)
        return
    new_id, old_id = new_address or new.id, old_address or old.id
    emit = _Emitter(out, element, new_id, old_id if old_id != new_id else None)
    if old.id != new.id:
        emit("changed", "id", old_id, new_id)
    _text(emit, "title", old.title, new.title)
    _text(emit, "description", old.description, new.description)
    _audience(emit, old.audience, new.audience)
    _text(emit, "redaction_reason", old.redaction_reason, new.redaction_reason)
    body(emit, old, new)


# ---------------------------------------------------------------- elements


def _threshold(emit: _Emitter, old: Threshold, new: Threshold, renames: _Renames) -> None:
    _text(emit, "domain", old.domain, new.domain)
    for level in ("warning", "not_ruled_out", "crossed"):
        _condition(emit, f"indicators.{level}", getattr(old.indicators, level), getattr(new.indicators, level),
                   unset="false", harder="weakened", renames=renames)
    _duration(emit, "determination_within", old.determination_within, new.determination_within,
              longer="weakened", unset="unbounded")
    before, after = _gates(old, renames.standards), _gates(new, {})
    for standard in sorted(before.keys() | after.keys()):
        a, b = before.get(standard), after.get(standard)
        if _same_gate(a, b):
            continue
        binding_a = a is not None and not a.get("recommended")
        binding_b = b is not None and not b.get("recommended")
        if binding_a and binding_b:
            kind = _stage_kind(a["before"], b["before"])
        elif binding_a or binding_b:
            kind = "weakened" if binding_a else "strengthened"
        else:
            kind = "changed"  # recommendations bind no one: neither direction
        emit(kind, _requirement_field(a, b), a, b)


def _gates(threshold: Threshold, renames: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Standard id (under the new names) -> {"standard", "before"[, "recommended"]}, at the
    earliest stage a standard is listed with."""
    gates: dict[str, dict[str, Any]] = {}
    required = {r.standard for r in threshold.requires}
    listed: list[tuple[Requirement, bool]] = [(r, False) for r in threshold.requires]
    listed += [(r, True) for r in threshold.recommendations if r.standard not in required]
    for requirement, recommended in listed:
        key = renames.get(requirement.standard, requirement.standard)
        known = gates.get(key)
        if known is None or requirement.before.rank < Stage(known["before"]).rank:
            gates[key] = {"standard": requirement.standard, "before": requirement.before.value}
            if recommended:
                gates[key]["recommended"] = True
    return gates


def _same_gate(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a["before"] == b["before"] and a.get("recommended", False) == b.get("recommended", False)


def _requirement_field(old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    """`requires.S` (added, removed, moved to or from recommendations), `requires.S.before`
    (the stage moved), or the same under `recommendations.` when neither side binds. S is the
    standard's id on the new side, or the old side's when the requirement was removed."""
    present = [g for g in (old, new) if g is not None]
    listing = "recommendations" if all(g.get("recommended") for g in present) else "requires"
    ref = new if new is not None else old
    moved_stage = len(present) == 2 and bool(old.get("recommended")) == bool(new.get("recommended"))
    return f"{listing}.{ref['standard']}" + (".before" if moved_stage else "")


def _standard(emit: _Emitter, old: Standard, new: Standard) -> None:
    """A matched standard's safeguards, each its own element (`standard/safeguard`)."""
    for a, b in match_elements(old.safeguards, new.safeguards):
        _pair(emit.out, "safeguard", a, b, lambda *_: None,
              old_address=f"{old.id}/{a.id}" if a else None, new_address=f"{new.id}/{b.id}" if b else None)


def _commitment(emit: _Emitter, old: Commitment, new: Commitment, renames: _Renames) -> None:
    if old.kind != new.kind:
        emit("changed", None, _promise(old), _promise(new))
        return
    _duration(emit, "every", old.every, new.every, longer="weakened", unset="unbounded")
    _text(emit, "after", old.after, new.after)
    _condition(emit, "where", old.where, new.where, unset="true", harder="weakened", renames=renames)
    _duration(emit, "within", old.within, new.within, longer="weakened", unset="unbounded")
    if old.before is not None and new.before is not None and old.before != new.before:
        emit(_stage_kind(old.before.value, new.before.value), "before", old.before.value, new.before.value)
    _condition(emit, "when", old.when, new.when, unset="true", harder="weakened", renames=renames)
    _condition(emit, "holds", old.holds, new.holds, unset="true", harder="strengthened", renames=renames)
    _text(emit, "action", old.action, new.action)
    if old.to != new.to:
        emit("weakened" if new.to is None else "strengthened" if old.to is None else "changed", "to", old.to, new.to)


def _escape_clause(emit: _Emitter, old: EscapeClause, new: EscapeClause) -> None:
    _names(emit, "notify", old.notify, new.notify)
    _duration(emit, "within", old.within, new.within, longer="weakened", unset="unbounded")


def _names(emit: _Emitter, field: str, old: list[str], new: list[str]) -> None:
    """A list of who must be told or must sign (`notify`, `approvals`): each name dropped
    weakens the promise, each added strengthens it, one change a name (`field.name`)."""
    for name in sorted(set(old) - set(new)):
        emit("weakened", f"{field}.{name}", name, None)
    for name in sorted(set(new) - set(old)):
        emit("strengthened", f"{field}.{name}", None, name)


# ---------------------------------------------------------------- fields


def _text(emit: _Emitter, field: str, old: str | None, new: str | None) -> None:
    if old != new:
        emit("changed", field, old, new)


def _audience(emit: _Emitter, old: Audience, new: Audience) -> None:
    if old != new:
        emit("weakened" if new.rank > old.rank else "strengthened", "audience", old.value, new.value)


def _stage_kind(old: str, new: str) -> ChangeKind:
    """A gate at a later stage binds fewer models: weaker."""
    return "weakened" if Stage(new).rank > Stage(old).rank else "strengthened"


def _condition(emit: _Emitter, field: str, old: str | None, new: str | None, *, unset: str,
               harder: ChangeKind, renames: _Renames) -> None:
    """A CEL condition; `unset` is what its absence means, `harder` what a condition that
    became harder to meet is in this context."""
    if old is None and new is None:
        return
    verdict = compare(old or unset, new or unset, renames=renames.thresholds)
    kind = {"harder": harder, "easier": _MIRROR[harder], "unknown": "changed"}.get(verdict)
    if kind is not None:
        emit(kind, field, old, new)


def _duration(emit: _Emitter, field: str, old: Duration | None, new: Duration | None, *,
              longer: ChangeKind, unset: Literal["unbounded", "zero"]) -> None:
    """A duration; `longer` is what lengthening it is, `unset` what its absence means."""
    order = _duration_order(old, new, unset)
    if order != "equal":
        kind = longer if order == "longer" else _MIRROR[longer] if order == "shorter" else "changed"
        emit(kind, field, None if old is None else old.text, None if new is None else new.text)


def _duration_order(old: Duration | None, new: Duration | None, unset: str) -> str:
    """"longer", "shorter", "equal" or "ambiguous" (the answer depends on month lengths):
    new compared with old, with every month 28 days long and then 31."""
    if old is None or new is None:
        if old is None and new is None:
            return "equal"
        return "longer" if (old is None) == (unset == "zero") else "shorter"
    (old_months, old_rest), (new_months, new_rest) = old.calendar(), new.calendar()
    signs = set()
    for month_days in (28, 31):
        delta = new_rest - old_rest + timedelta(days=(new_months - old_months) * month_days)
        signs.add((delta > timedelta(0)) - (delta < timedelta(0)))
    if signs == {0}:
        return "equal"
    if signs <= {0, 1}:
        return "longer"
    if signs <= {0, -1}:
        return "shorter"
    return "ambiguous"


def _dump(element: Element) -> dict[str, Any]:
    return element.model_dump(mode="json", exclude_defaults=True)


def _promise(commitment: Commitment) -> dict[str, Any]:
    """A commitment's kind-defining keys, as written."""
    keys = ("every", "after", "where", "within", "before", "when", "holds", "action", "to")
    return {k: v for k, v in commitment.model_dump(mode="json", include=set(keys)).items() if v is not None}


def _order(change: Change) -> tuple:
    return (_GROUP[change.change], _ELEMENT_ORDER.index(change.element), change.id, change.field or "",
            json.dumps([change.old, change.new], sort_keys=True, default=str))


# ---------------------------------------------------------------- reasons


def _change(id: str, element: ElementKind, kind: ChangeKind, field: str | None, old: Any, new: Any,
            old_id: str | None) -> Change:
    return Change(id, element, kind, field, old, new, _reason(element, kind, field, old, new), old_id)


_NOUNS = {"threshold": "threshold", "standard": "standard", "safeguard": "safeguard", "commitment": "commitment",
          "escape_clause": "escape clause"}
_CONDITIONS = {"where": "trigger filter ('where')", "when": "gate condition ('when')", "holds": "invariant ('holds')"}
_DURATIONS = {"every": "interval between actions ('every')", "within": "time allowed ('within')",
              "determination_within": "time allowed for a determination ('determination_within')",
              "notice": "notice before a new version takes effect"}


def _reason(element: ElementKind, kind: ChangeKind, field: str | None, old: Any, new: Any) -> str:
    """The sentence explaining a change: a function of the change's other fields alone."""
    if field is None:
        return _whole_reason(element, kind, old, new)
    head = field.split(".")[0]
    if field == "id":
        return f"renamed from '{old}' to '{new}'"
    if field == "audience":
        if kind == "weakened":
            return f"audience raised from {old} to {new}: fewer readers can see it (less transparency)"
        return f"audience lowered from {old} to {new}: more readers can see it (more transparency)"
    if head == "indicators":
        return _indicator_reason(field.split(".", 1)[1], kind, old, new)
    if field in _CONDITIONS:
        return _condition_reason(field, kind, old, new)
    if field in _DURATIONS:
        return _duration_reason(element, field, kind, old, new)
    if head in ("requires", "recommendations"):
        return _requirement_reason(kind, old, new)
    if field == "before":
        stage = "a later" if kind == "weakened" else "an earlier"
        return f"gate moved to {stage} stage: before {old} -> before {new}"
    if field == "to":
        if kind == "weakened":
            return f"recipient requirement removed (was {old}): an action addressed to anyone now counts"
        if kind == "strengthened":
            return f"the action must now be addressed to {new}"
        return f"recipient changed from {old} to {new}"
    if head == "notify":
        return (f"invoking the clause no longer requires notifying {old}" if kind == "weakened"
                else f"invoking the clause now also requires notifying {new}")
    if head == "approvals":
        what = "a new framework version" if element == "amendment" else "a determination"
        return (f"{what} no longer needs sign-off by {old}" if kind == "weakened"
                else f"{what} now needs sign-off by {new}")
    return _text_reason(field, old, new)


def _whole_reason(element: ElementKind, kind: ChangeKind, old: Any, new: Any) -> str:
    noun = _NOUNS.get(element, element)
    if old is not None and new is not None:  # a commitment that changed kind
        return f"commitment changed kind: {_describe(old)} -> {_describe(new)}"
    subject = new if old is None else old
    title = f" ({subject['title']})" if subject.get("title") else ""
    if element == "escape_clause":
        return (f"escape clause '{subject['id']}'{title} added: a new way to set commitments aside"
                if old is None else f"escape clause '{subject['id']}'{title} removed")
    return f"{noun} '{subject['id']}'{title} {'added' if old is None else 'removed'}"


def _describe(promise: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in promise.items()) + "}"


def _indicator_reason(level: str, kind: ChangeKind, old: str | None, new: str | None) -> str:
    if old is None:
        return f"{level} indicator added: {new}"
    if new is None:
        return f"{level} indicator removed (was {old})"
    if kind == "changed":
        return (f"{level} indicator rewritten, and mast cannot establish that it became only harder or only "
                f"easier to trigger: {old} -> {new}")
    return f"{level} indicator made {'harder' if kind == 'weakened' else 'easier'} to trigger: {old} -> {new}"


def _condition_reason(field: str, kind: ChangeKind, old: str | None, new: str | None) -> str:
    noun = _CONDITIONS[field]
    if old is None:
        return f"{noun} added: {new}"
    if new is None:
        return f"{noun} removed (was {old})"
    if kind == "changed":
        return f"{noun} rewritten, and mast cannot establish that it became only harder or only easier to meet: {old} -> {new}"
    harder = kind == ("strengthened" if field == "holds" else "weakened")
    return f"{noun} made {'harder' if harder else 'easier'} to meet: {old} -> {new}"


def _duration_reason(element: ElementKind, field: str, kind: ChangeKind, old: str | None, new: str | None) -> str:
    noun = "time allowed to notify ('within')" if element == "escape_clause" else _DURATIONS[field]
    if old is None or new is None:
        state = f"set to {new}" if old is None else f"removed (was {old})"
        return f"{noun} {state}"
    if kind == "changed":
        return f"{noun} changed from {old} to {new}; which is longer depends on the length of the months"
    longer = kind == ("strengthened" if field == "notice" else "weakened")
    return f"{noun} {'lengthened' if longer else 'shortened'} from {old} to {new}"


def _requirement_reason(kind: ChangeKind, old: dict[str, Any] | None, new: dict[str, Any] | None) -> str:
    def where(gate: dict[str, Any]) -> str:
        listing = "recommended" if gate.get("recommended") else "required"
        return f"{listing} before {gate['before']}"

    standard = (new or old)["standard"]
    if old is None:
        return f"standard {standard} is now {where(new)}"
    if new is None:
        return f"standard {standard} is no longer {where(old).split(' before')[0]} (was {where(old)})"
    if bool(old.get("recommended")) != bool(new.get("recommended")):
        if new.get("recommended"):
            return (f"standard {standard} moved from requires to recommendations: {where(new)}, no longer "
                    f"committed to (was {where(old)})")
        return f"standard {standard} moved from recommendations to requires: now {where(new)} (was {where(old)})"
    if new.get("recommended"):
        return f"standard {standard} now {where(new)} (was {where(old)})"
    stage = "a later" if Stage(new["before"]).rank > Stage(old["before"]).rank else "an earlier"
    return f"standard {standard} now {where(new)} (was {where(old)}): {stage} gate"


def _text_reason(field: str, old: str | None, new: str | None) -> str:
    if old is None:
        return f"{field} added: {_quote(new)}"
    if new is None:
        return f"{field} removed (was {_quote(old)})"
    return f"{field} changed from {_quote(old)} to {_quote(new)}"


def _quote(text: str, limit: int = 80) -> str:
    return "'" + (text if len(text) <= limit else text[:limit - 1] + "…") + "'"
