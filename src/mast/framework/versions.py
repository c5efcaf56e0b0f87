"""Published versions of one framework, read together: which is in force at a moment, and
which element of one version is which element of the next.

The one place where a rename (`renamed_from`) is defined: `mast framework diff`, the revision
gate, the reference checks and the engine (which judges each moment by the version in force)
all pair elements with `match_elements`, so that they can never disagree about identity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from mast.framework.model import Element, Framework


def in_effect_order(frameworks: Sequence[Framework]) -> list[Framework]:
    """Versions in the order they take effect; of two with the same `effective`, the one
    published later (later in `frameworks`, which is log order) comes later (the sort is
    stable), so it is the one in force."""
    return sorted(frameworks, key=lambda f: f.effective)


def framework_in_force(frameworks: Sequence[Framework], at: datetime) -> Framework | None:
    """The published version with the greatest `effective` at or before `at` (the later
    publication wins a tie); a moment before every version gets the earliest version, so that
    backfilled history is still checked against something."""
    if not frameworks:
        return None
    ordered = in_effect_order(frameworks)
    in_force = [f for f in ordered if f.effective <= at]
    return in_force[-1] if in_force else ordered[0]


#: the kinds of framework element a `renamed_from` can rename, as `renamed_ids` names them
RENAMABLE = ("threshold", "standard", "safeguard", "commitment", "escape_clause")


def element_ids(framework: Framework, kind: str) -> list[str]:
    """The ids of `framework`'s elements of `kind` (one of `RENAMABLE`; safeguards by address
    `standard/safeguard`), in file order."""
    if kind == "safeguard":
        return [f"{s.id}/{g.id}" for s in framework.standards for g in s.safeguards]
    elements = {"threshold": framework.thresholds, "standard": framework.standards,
                "commitment": framework.commitments, "escape_clause": framework.escape_clauses}[kind]
    return [e.id for e in elements]


def renamed_ids(previous: Framework, new: Framework) -> dict[str, dict[str, str]]:
    """What `new` renames, per kind of `RENAMABLE`: id in `previous` -> id in `new`.

    Elements are matched as `mast framework diff` matches them: by id first; then an element
    of one version whose id the other has not is paired with one whose `renamed_from` names it
    (either direction, so that a revision that reverts a rename is one too), when that pairing
    is unambiguous. Safeguards are addresses `standard/safeguard`, matched within matched
    standards: those of a renamed standard are renamed with it. The one place the rename step
    is defined for the engine (which judges each moment by the version in force) and for the
    reference checks."""
    out = {"threshold": _renames(previous.thresholds, new.thresholds),
           "standard": _renames(previous.standards, new.standards),
           "commitment": _renames(previous.commitments, new.commitments),
           "escape_clause": _renames(previous.escape_clauses, new.escape_clauses)}
    old_standards = {s.id: s for s in previous.standards}
    was = {n: o for o, n in out["standard"].items()}
    safeguards: dict[str, str] = {}
    for standard in new.standards:
        before = old_standards.get(was.get(standard.id, standard.id))
        if before is None:
            continue
        back = {n: o for o, n in _renames(before.safeguards, standard.safeguards).items()}
        old_ids = {g.id for g in before.safeguards}
        for g in standard.safeguards:
            old_id = back.get(g.id, g.id)
            if old_id in old_ids and (before.id, old_id) != (standard.id, g.id):
                safeguards[f"{before.id}/{old_id}"] = f"{standard.id}/{g.id}"
    out["safeguard"] = safeguards
    return out


def _renames(old: Sequence[Element], new: Sequence[Element]) -> dict[str, str]:
    """Old id -> new id of the pairs `match_elements` makes that changed id."""
    return {o.id: n.id for o, n in match_elements(old, new) if o is not None and n is not None and o.id != n.id}


_E = TypeVar("_E", bound=Element)


def match_elements(old: Sequence[_E], new: Sequence[_E]) -> list[tuple[_E | None, _E | None]]:
    """Pairs (old, new) by id, then by `renamed_from` in either direction; (x, None) for an
    element only in old, (None, x) for one only in new. Symmetric: swapping the arguments
    swaps the pairs."""
    new_by_id = {e.id: e for e in new}
    old_ids = {e.id for e in old}
    pairs: list[tuple[_E | None, _E | None]] = [(o, new_by_id[o.id]) for o in old if o.id in new_by_id]
    spare_old = [o for o in old if o.id not in new_by_id]
    spare_new = [n for n in new if n.id not in old_ids]
    candidates = [(o, n) for o in spare_old for n in spare_new
                  if n.renamed_from == o.id or o.renamed_from == n.id]
    times = Counter([id(o) for o, _ in candidates] + [id(n) for _, n in candidates])
    renamed = [(o, n) for o, n in candidates if times[id(o)] == 1 and times[id(n)] == 1]
    paired = {id(e) for pair in renamed for e in pair}
    pairs += renamed
    pairs += [(o, None) for o in spare_old if id(o) not in paired]
    pairs += [(None, n) for n in spare_new if id(n) not in paired]
    return pairs
