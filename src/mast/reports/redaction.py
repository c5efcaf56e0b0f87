"""Redaction by construction (DESIGN §2.4): the view an edition is built from.

An edition for audience A is never built from the workspace and then filtered. It is built
from a `View` that holds nothing above A: every record whose `audience` is above A is dropped
and replaced by a `Withheld` marker carrying only its kind, its section and its
`redaction_reason` — never its content — and every framework element (threshold, standard,
safeguard, commitment, escape clause) above A is dropped from each framework version the same
way. Records that name something withheld (a model, a safeguard, a threshold, an escape
clause, a record) are withheld with it, so that not even an id leaks.

The edition's assessment is computed from the view too: it is what someone holding only the
edition's audience could compute. See docs/reports.md, "Redaction", for the consequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from mast.framework.model import Framework
from mast.records.canonical import record_id
from mast.vocabulary import Audience

#: Report sections, in the order editions print them.
SECTIONS: tuple[str, ...] = (
    "scope", "thresholds", "safeguards", "findings", "changes", "escapes", "landscape", "reviews", "roadmap",
)

#: The section a record of each kind belongs to (where its marker appears when withheld).
KIND_SECTION: dict[str, str] = {
    "model": "scope", "stage": "scope",
    "eval": "thresholds", "determination": "thresholds",
    "safeguard": "safeguards", "exemption": "safeguards",
    "incident": "changes", "notice": "changes", "report": "changes", "framework": "changes",
    "escape": "escapes", "statement": "landscape",
    "review": "reviews", "reviewer": "reviews",
    "roadmap": "roadmap", "roadmap_version": "roadmap",
}

UNSTATED = "unstated"


@dataclass(frozen=True)
class Withheld:
    """Something an edition does not show: where it would have been, what kind of thing it
    was, and why it is withheld. Nothing else about it is kept."""

    section: str
    kind: str
    reason: str = UNSTATED


@dataclass
class View:
    """Records and framework versions holding nothing above `audience`."""

    audience: Audience
    frameworks: list[Framework]
    records: list[Any]
    withheld: list[Withheld] = field(default_factory=list)

    def withheld_in(self, section: str) -> list[Withheld]:
        return [w for w in self.withheld if w.section == section]


def visible(audience: Audience, element_audience: Audience) -> bool:
    return element_audience.rank <= audience.rank


def make_view(frameworks: Sequence[Framework], records: Sequence[Any], audience: Audience | str) -> View:
    """The view for `audience`: frameworks first (records that name a withheld element are
    withheld with it), then records (records that name a withheld record or model follow it)."""
    audience = Audience(audience)
    withheld: list[Withheld] = []
    versions: list[Framework] = []
    hidden_elements: dict[str, str] = {}  # threshold/standard/safeguard/clause id -> reason
    for version in frameworks:
        redacted, gone = redact_framework(version, audience)
        versions.append(redacted)
        hidden_elements.update(gone)
    # a framework element withheld in one version counts once, however many versions have it
    counted: set[tuple[str, str]] = set()
    for version in frameworks:
        for section, kind, element_id, reason in _withheld_elements(version, audience):
            if (kind, element_id) not in counted:
                counted.add((kind, element_id))
                withheld.append(Withheld(section, kind, reason))
    kept, gone_records = redact_records(records, audience, hidden_elements)
    withheld.extend(gone_records)
    return View(audience, versions, kept, withheld)


def redact_records(records: Sequence[Any], audience: Audience,
                   hidden_elements: dict[str, str] | None = None) -> tuple[list[Any], list[Withheld]]:
    """(records visible to `audience`, markers for the rest)."""
    hidden_elements = hidden_elements or {}
    # a framework record is the whole published document: the view carries redacted versions
    # instead, so the raw records never reach an edition
    above = [r for r in records if r.kind != "framework" and not visible(audience, r.audience)]
    hidden_models: dict[str, str] = {}
    hidden_names: dict[str, str] = {}
    for r in above:
        reason = r.redaction_reason or UNSTATED
        if r.kind == "model":
            hidden_models[r.id] = reason
        if r.ref:
            hidden_names[r.ref] = reason
        hidden_names[record_id(r)] = reason
    kept: list[Any] = []
    out: list[Withheld] = []
    if not above and not hidden_elements:  # nothing to withhold: the common public case is fast
        return [r for r in records if r.kind != "framework"], out
    for r in records:
        if r.kind == "framework":
            continue
        if not visible(audience, r.audience):
            out.append(Withheld(KIND_SECTION.get(r.kind, "changes"), f"{r.kind} record", r.redaction_reason or UNSTATED))
            continue
        reason = _names_hidden(r, hidden_models, hidden_names, hidden_elements)
        if reason is not None:
            out.append(Withheld(KIND_SECTION.get(r.kind, "changes"), f"{r.kind} record", reason))
            if r.kind == "model":
                hidden_models[r.id] = reason
            continue
        kept.append(r)
    return kept, out


def _names_hidden(r: Any, models: dict[str, str], names: dict[str, str], elements: dict[str, str]) -> str | None:
    """The reason of the first withheld thing `r` names, or None."""
    for m in r.models():
        if m in models:
            return models[m]
    if r.kind == "model" and r.parent and r.parent in models:
        return models[r.parent]
    fields = r.__dict__
    for name in (fields.get("about"), r.supersedes):
        if name and name in names:
            return names[name]
        if name and name in elements:
            return elements[name]
    for attr in ("safeguard", "threshold", "clause"):
        value = fields.get(attr)
        if isinstance(value, str) and value in elements:
            return elements[value]
        if attr == "safeguard" and isinstance(value, str) and value.split("/", 1)[0] in elements:
            return elements[value.split("/", 1)[0]]
    return None


def _withheld_elements(fw: Framework, audience: Audience) -> Iterable[tuple[str, str, str, str]]:
    """(section, kind, id, reason) for every element of a version above `audience` (the
    safeguards of a withheld standard count with it)."""
    def above(element: Any) -> bool:
        return not visible(audience, element.audience)

    for t in fw.thresholds:
        if above(t):
            yield "thresholds", "threshold", t.id, t.redaction_reason or UNSTATED
    for s in fw.standards:
        if above(s):
            yield "safeguards", "standard", s.id, s.redaction_reason or UNSTATED
            continue
        for g in s.safeguards:
            if above(g):
                yield "safeguards", "safeguard", f"{s.id}/{g.id}", g.redaction_reason or UNSTATED
    for c in fw.commitments:
        if above(c):
            yield "findings", "commitment", c.id, c.redaction_reason or UNSTATED
    for e in fw.escape_clauses:
        if above(e):
            yield "escapes", "escape clause", e.id, e.redaction_reason or UNSTATED


def redact_framework(fw: Framework, audience: Audience) -> tuple[Framework, dict[str, str]]:
    """The version without the elements above `audience`, and {id: reason} of those dropped
    (safeguards by their `standard/safeguard` address)."""
    gone: dict[str, str] = {}

    def keep(element: Any) -> bool:
        if visible(audience, element.audience):
            return True
        gone[element.id] = element.redaction_reason or UNSTATED
        return False

    thresholds = [t for t in fw.thresholds if keep(t)]
    standards = []
    for s in fw.standards:
        if not keep(s):
            for g in s.safeguards:
                gone[f"{s.id}/{g.id}"] = gone[s.id]
            continue
        safeguards = []
        for g in s.safeguards:
            if visible(audience, g.audience):
                safeguards.append(g)
            else:
                gone[f"{s.id}/{g.id}"] = g.redaction_reason or UNSTATED
        standards.append(s.model_copy(update={"safeguards": safeguards}))
    thresholds = [t.model_copy(update={
        "requires": [r for r in t.requires if r.standard not in gone],
        "recommendations": [r for r in t.recommendations if r.standard not in gone],
    }) for t in thresholds]
    commitments = [c for c in fw.commitments if keep(c)]
    clauses = [c for c in fw.escape_clauses if keep(c)]
    info = fw.framework.model_copy(update={"changelog": [
        entry.model_copy(update={"acknowledges": [a for a in entry.acknowledges if a not in gone]})
        for entry in fw.framework.changelog]})
    return fw.model_copy(update={"framework": info, "thresholds": thresholds, "standards": standards,
                                 "commitments": commitments, "escape_clauses": clauses}), gone


def counts(withheld: Iterable[Withheld]) -> dict[str, int]:
    """Withheld items per section (every section present, zero included)."""
    out = {s: 0 for s in SECTIONS}
    for w in withheld:
        out[w.section] = out.get(w.section, 0) + 1
    return out
