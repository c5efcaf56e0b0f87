"""Elements followed across framework versions, so that a rename (`renamed_from`) does not
break continuity (docs/engine.md, "Revisions and renames").

Records name thresholds, safeguards, escape clauses and commitments by the ids of the version
in force at their time. The engine judges each moment by the version in force, so a version
must read every record in its own ids: a determination recorded for `cyber-2` under v1 decides
`cyber-high` once v2 (`cyber-high`, `renamed_from: cyber-2`) is in force, and a finding that
continues across the revision is one finding, named as the latest version names it.

Each element belongs to a *lineage*: the chain of ids it has had in successive versions.
An element keeps its lineage by keeping its id (also across a gap: an id removed and added
back later is the same element) or by naming its previous id in `renamed_from`
(`mast.framework.versions.renamed_ids` defines the step). A name therefore means one lineage
— except an id given to a new element after a rename freed it; such a name means, for a
record, the lineage that had it in the version in force at the record's time.

Renames are rare: without any, every lookup here is the identity and costs nothing. The
tables are built once per assessment and once per version, never per record.
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from datetime import datetime
from itertools import count
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence, TypeVar

from mast.engine.facts import Facts
from mast.framework.model import Framework
from mast.framework.versions import RENAMABLE, element_ids, renamed_ids

if TYPE_CHECKING:
    from mast.engine.context import RawFinding

K = TypeVar("K")

#: the kinds whose ids a finding's `commitment` names (one namespace per version)
_ELEMENTS = ("threshold", "commitment", "escape_clause")
#: record fields that name an element, by record kind: (field, kind of element)
_NAMING_FIELDS = {"determination": ("threshold", "threshold"), "safeguard": ("safeguard", "safeguard"),
                  "exemption": ("safeguard", "safeguard"), "escape": ("clause", "escape_clause")}


class Lineages:
    """The lineages of every element of `versions` (sorted by `effective`, those in force)."""

    def __init__(self, versions: Sequence[Framework]):
        versions = list(versions)
        self._effectives = [v.effective for v in versions]
        self.renamed = any(e.renamed_from for v in versions
                           for e in (*v.thresholds, *v.standards, *v.commitments, *v.escape_clauses,
                                     *(g for s in v.standards for g in s.safeguards)))
        #: kind -> per version: id -> lineage
        self._lineage: dict[str, list[dict[str, int]]] = {kind: [] for kind in RENAMABLE}
        #: lineage -> version index -> id
        self._member: dict[int, dict[int, str]] = {}
        #: kind -> name -> [(first version index, lineage)], one entry per change of lineage
        self._bindings: dict[str, dict[str, list[tuple[int, int]]]] = {kind: {} for kind in RENAMABLE}
        fresh = count()
        owners: dict[str, dict[str, int]] = {kind: {} for kind in RENAMABLE}
        for i, version in enumerate(versions):
            steps = renamed_ids(versions[i - 1], version) if i else {}
            for kind in RENAMABLE:
                self._assign(i, kind, element_ids(version, kind), steps.get(kind, {}), owners[kind], fresh)

    def _assign(self, i: int, kind: str, ids: list[str], step: dict[str, str], owner: dict[str, int],
                fresh: Iterator[int]) -> None:
        previous = self._lineage[kind][i - 1] if i else {}
        renamed_to = {new: old for old, new in step.items()}
        here: dict[str, int] = {}
        claimed: set[int] = set()
        # renamed elements first: they continue their old lineage, whatever else is in the list
        for eid in sorted(ids, key=lambda e: e not in renamed_to):
            lineage = previous.get(renamed_to[eid]) if eid in renamed_to else None
            if lineage is None or lineage in claimed:
                lineage = owner.get(eid)
            if lineage is None or lineage in claimed:
                lineage = next(fresh)
            claimed.add(lineage)
            here[eid] = lineage
        for old, new in step.items():  # a name renamed away no longer means its element
            if owner.get(old) == here.get(new):
                del owner[old]
        bindings = self._bindings[kind]
        for eid, lineage in here.items():
            if owner.get(eid) != lineage:
                owner[eid] = lineage
                bindings.setdefault(eid, []).append((i, lineage))
            self._member.setdefault(lineage, {})[i] = eid
        self._lineage[kind].append(here)

    def version_at(self, moment: datetime) -> int:
        """The index of the version in force at `moment` (the first, before every version)."""
        return max(bisect_right(self._effectives, moment) - 1, 0)

    def previous_id(self, i: int, kind: str, element_id: str) -> str | None:
        """The id that version `i - 1` gives the element `element_id` of version `i`, or None
        when that version does not have it (version `i` added it)."""
        if not i:
            return None
        lineage = self._lineage[kind][i].get(element_id)
        return None if lineage is None else self._member[lineage].get(i - 1)

    def lineage_of(self, kind: str, name: str, moment: datetime) -> int | None:
        """The lineage a record at `moment` means by `name` (None: no version has the name)."""
        bindings = self._bindings[kind].get(name)
        if not bindings:
            return None
        if len(bindings) == 1:
            return bindings[0][1]
        k = self.version_at(moment)
        chosen = bindings[0][1]
        for first, lineage in bindings:
            if first <= k:
                chosen = lineage
        return chosen

    def names(self, i: int) -> "Names":
        """How version `i` reads the names in records."""
        return Names(self, i)

    def keyed(self, i: int, findings: list[RawFinding]) -> list[tuple[tuple, RawFinding]]:
        """Version `i`'s findings with the keys that merge a finding continuing across versions
        into one (its elements by lineage, not by id), renamed in place to the ids of the
        latest version that has their element: a finding is reported under its element's
        current id, all its history included."""
        if not self.renamed:
            return [(f.key, f) for f in findings]
        elements: dict[str, int] = {}
        for kind in _ELEMENTS:
            elements.update(self._lineage[kind][i])
        standards = self._lineage["standard"][i]
        out = []
        for f in findings:
            space = standards if f.subject == "standard" else elements
            commitment = space.get(f.commitment)
            standard = standards.get(f.standard) if f.standard else None
            key = (f.kind, f.commitment if commitment is None else commitment,
                   f.standard if standard is None else standard, f.model, f.obligation)
            if commitment is not None:
                f.commitment = self._latest(commitment)
            if standard is not None:
                f.standard = self._latest(standard)
            out.append((key, f))
        return out

    def _latest(self, lineage: int) -> str:
        members = self._member[lineage]
        return members[max(members)]


class Names:
    """Version `i`'s reading of the element ids records use: each name resolved through its
    lineage to this version's id (None: this version has no such element). A name no version
    has is taken as written."""

    def __init__(self, lineages: Lineages, i: int):
        self.identity = not lineages.renamed
        self._lineages, self._i = lineages, i
        #: kind -> name -> id here, for the names that read as something else here
        self._table: dict[str, dict[str, str | None]] = {}
        #: kind -> names that mean different elements at different times
        self._conflicts: dict[str, set[str]] = {}
        if self.identity:
            return
        for kind in RENAMABLE:
            table, conflicts = {}, set()
            for name, bindings in lineages._bindings[kind].items():
                if len({lineage for _, lineage in bindings}) > 1:
                    conflicts.add(name)
                    continue
                here = lineages._member[bindings[0][1]].get(i)
                if here != name:
                    table[name] = here
            self._table[kind], self._conflicts[kind] = table, conflicts

    def resolve(self, kind: str, name: str, moment: datetime) -> str | None:
        """This version's id for the element of `kind` that a record at `moment` names `name`."""
        if self.identity:
            return name
        if name in self._conflicts[kind]:
            lineage = self._lineages.lineage_of(kind, name, moment)
            return None if lineage is None else self._lineages._member[lineage].get(self._i)
        return self._table[kind].get(name, name)

    def view(self, facts: Facts) -> Facts:
        """`facts` with determinations, safeguard records and exemptions indexed by this
        version's ids (the same object when nothing is renamed). Lists that merge records
        naming an element by different ids are re-sorted by time."""
        if self.identity:
            return facts
        out = copy.copy(facts)
        out.determinations = self._regroup("threshold", facts.determinations,
                                           lambda key: key[1], lambda key, name: (key[0], name))
        out.safeguards = self._regroup("safeguard", facts.safeguards, lambda key: key, lambda key, name: name)
        out.exemptions = self._regroup("safeguard", facts.exemptions, lambda key: key, lambda key, name: name)
        return out

    def _regroup(self, kind: str, index: dict[K, list[Any]], name_of: Callable[[K], str],
                 renamed: Callable[[K, str], K]) -> dict[K, list[Any]]:
        out: dict[K, list[Any]] = {}
        merged: set[K] = set()
        conflicts, table = self._conflicts[kind], self._table[kind]
        for key, records in index.items():
            name = name_of(key)
            if name in conflicts:
                for r in records:
                    target = self.resolve(kind, name, r.at)
                    if target is not None:
                        new_key = renamed(key, target)
                        out[new_key] = out.get(new_key, []) + [r]
                        merged.add(new_key)
                continue
            target = table.get(name, name)
            if target is None:
                continue  # an element this version does not have
            new_key = key if target == name else renamed(key, target)
            if new_key in out:
                out[new_key] = out[new_key] + records
                merged.add(new_key)
            else:
                out[new_key] = records  # shared, never mutated
        for key in merged:
            out[key].sort(key=lambda r: r.at)  # stable: equal times keep their order
        return out

    def variables(self, record: Any) -> dict[str, Any]:
        """A record's fields as CEL variables (for `where`), its element ids in this version's
        terms, so that a `where` of this version reads a record made under another."""
        variables = Facts.variables(record)
        naming = None if self.identity else _NAMING_FIELDS.get(record.kind)
        if naming is not None:
            field, kind = naming
            target = self.resolve(kind, variables[field], record.at)
            if target is not None:
                variables[field] = target
        return variables
