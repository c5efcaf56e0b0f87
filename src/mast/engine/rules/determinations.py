"""Determinations (DESIGN §4): when a model's own indicator fires, a determination is due
within the threshold's `determination_within` — a `warning` until then, `overdue` after.
A determination that puts a threshold below what its indicators say is a `warning` too."""

from __future__ import annotations

from datetime import datetime

from mast.engine.context import Judgement, RawFinding
from mast.engine.timeline import END
from mast.vocabulary import iso


def determination_findings(j: Judgement) -> list[RawFinding]:
    out: list[RawFinding] = []
    for ct in j.thresholds:
        threshold = ct.threshold
        within = threshold.determination_within
        for view in j.models.values():
            own = view.own[threshold.id]
            dets = j.facts.determinations.get((view.id, threshold.id), [])
            for fired in own.fires:
                done = next((d.at for d in dets if d.at >= fired), END)
                deadline = within.after(fired) if within else END
                label = fired
                out.append(RawFinding(
                    "warning", threshold.id, view.id, [(fired, min(done, deadline))],
                    lambda m, v=view.id, t=threshold.id, f=fired, d=deadline:
                        f"{v}: an indicator of {t} fired on {iso(f)}; a determination is due"
                        + (f" by {iso(d)}" if d != END else ""),
                    due=deadline if deadline != END else None, obligation=label))
                if deadline < done:
                    out.append(RawFinding(
                        "overdue", threshold.id, view.id, [(deadline, done)],
                        lambda m, v=view.id, t=threshold.id, d=deadline:
                            f"{v}: the determination on {t} was due by {iso(d)}",
                        due=deadline, obligation=label))
            if own.overrides:
                out.append(RawFinding(
                    "warning", threshold.id, view.id, own.overrides,
                    lambda m, v=view, t=threshold.id: _override_message(v, t, m, j),
                    obligation="override"))
    return out


def _override_message(view, threshold_id: str, moment: datetime, j: Judgement) -> str:
    dets = j.facts.determinations.get((view.id, threshold_id), [])
    last = next((d for d in reversed(dets) if d.at <= moment), None)
    said = last.status if last else "?"
    return f"{view.id}: the determination that {threshold_id} is {said} overrides its indicators"


def exemption_findings(j: Judgement) -> list[RawFinding]:
    """An exemption that expired gives a `warning` until the safeguard is implemented for its
    scope or a new exemption for it is granted (while the version in force has the safeguard)."""
    out: list[RawFinding] = []
    addresses = j.framework.safeguard_ids()
    for address, exemptions in j.facts.exemptions.items():
        if address not in addresses:
            continue  # a safeguard this version does not have (removed): nothing to judge
        standard = address.split("/", 1)[0]
        for x in exemptions:
            ends = [y.at for y in exemptions if y is not x and y.scope == x.scope and y.at >= x.at]
            ends += [r.at for r in j.facts.safeguards.get(address, [])
                     if r.status == "implemented" and r.scope in (None, x.scope) and r.at >= x.at]
            until = min([e for e in ends if e > x.expires], default=END)
            if any(x.at <= e <= x.expires for e in ends):
                continue  # replaced or made unnecessary before it ran out
            out.append(RawFinding(
                "warning", standard, x.scope, [(x.expires, until)],
                lambda m, x=x, address=address:
                    f"the exemption for {address}" + (f" ({x.scope})" if x.scope else "")
                    + f" expired on {iso(x.expires)}",
                standard=standard, obligation=j.facts.id_of(x), subject="standard"))
    return out
