"""The revision gate: may `new` be published as the version after `previous`?

A framework may change; it may not change quietly. Publishing a version is refused unless
every element it removes or weakens (by `mast.framework.diff`) is named in one of its
changelog entries' `acknowledges`, every role the *previous* version's `amendment.approvals`
names has signed (a revision cannot drop its own sign-off rules), and, when the previous
version sets `amendment.notice`, the new version takes effect at least that long after it is
published — unless the publisher declares an emergency, with a reason, which is recorded.

Pure: no I/O, no clock. The workspace calls it with the latest published version.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from mast.errors import InvalidInput, Refused
from mast.framework.diff import Change, FrameworkDiff, diff_frameworks
from mast.framework.model import Framework
from mast.vocabulary import iso

__all__ = ["acknowledged_ids", "check_revision", "unmatched_acknowledgements", "valid_emergency"]


def check_revision(previous: Framework | None, new: Framework, *, approvals: Mapping[str, str],
                   published_at: datetime, emergency: str | None = None) -> FrameworkDiff | None:
    """Check that `new` may be published after `previous` (None: `new` is the first version).

    Returns the diff from `previous` (None for a first version), so that callers can show it.
    Raises `Refused` (exit 3) naming every problem at once — each unacknowledged weakening,
    each missing sign-off, a notice period cut short — so that the author fixes them in one
    pass; the message ends "Nothing was written.". An `emergency` that is given but empty is
    invalid input (exit 2): an emergency without a reason is not one.
    """
    emergency = valid_emergency(emergency)
    diff = diff_frameworks(previous, new) if previous is not None else None
    problems = [
        *(_unacknowledged(c) for c in _unacknowledged_weakenings(diff, new)),
        *_missing_approvals(previous, new, approvals),
        *_notice_cut_short(previous, new, published_at, emergency),
    ]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise Refused(f"publishing {new.id} {new.version} is refused:\n{lines}\nNothing was written.")
    return diff


def valid_emergency(reason: str | None) -> str | None:
    """The emergency reason with surrounding blanks removed; an empty one is invalid input."""
    if reason is None:
        return None
    if not reason.strip():
        raise InvalidInput("--emergency: expected a reason, e.g. --emergency 'actively exploited weight-access flaw'")
    return reason.strip()


def acknowledged_ids(framework: Framework) -> set[str]:
    """Every id a changelog entry of `framework` acknowledges (what a `Change` of the diff
    into `framework` may be acknowledged by)."""
    return {ack for entry in framework.framework.changelog for ack in entry.acknowledges}


def unmatched_acknowledgements(diff: FrameworkDiff | None, new: Framework) -> list[str]:
    """Ids `new`'s changelog acknowledges that no removal or weakening in `diff` carries.

    Not refused — over-disclosure hides nothing — but worth a warning: a stray id is most
    often a typo, and then the weakening it meant to disclose is the one the gate refuses.
    A first version (`diff` None) may acknowledge changes to documents before mast; nothing
    is reported for it."""
    if diff is None:
        return []
    weakened = {c.id for c in diff.weakenings} | {c.old_id for c in diff.weakenings if c.old_id}
    return sorted(acknowledged_ids(new) - weakened)


def _unacknowledged_weakenings(diff: FrameworkDiff | None, new: Framework) -> list[Change]:
    if diff is None:
        return []
    acknowledged = acknowledged_ids(new)
    return [c for c in diff.weakenings if not c.acknowledged_by(acknowledged)]


def _unacknowledged(change: Change) -> str:
    what = f"{change.element} {change.id} {change.change}"
    if change.field:
        what += f" ({change.field})"
    return (f"{what}: {change.reason}; not acknowledged: add \"{change.id}\" to a changelog entry's "
            "`acknowledges` (and say what changed in its text)")


def _missing_approvals(previous: Framework | None, new: Framework, approvals: Mapping[str, str]) -> list[str]:
    required = (previous or new).amendment.approvals
    missing = [role for role in required if not approvals.get(role)]
    if not missing:
        return []
    whose = f"{previous.id} {previous.version}'s amendment rules" if previous else "its own amendment.approvals"
    return [f"needs the approval of {', '.join(missing)} (required by {whose}); "
            "give --approve ROLE=NAME for each"]


def _notice_cut_short(previous: Framework | None, new: Framework, published_at: datetime,
                      emergency: str | None) -> list[str]:
    notice = previous.amendment.notice if previous is not None else None
    if notice is None or emergency is not None:
        return []
    earliest = notice.after(published_at)
    if new.effective >= earliest:
        return []
    return [f"framework.effective {iso(new.effective)} is too soon: {previous.id} {previous.version}'s "
            f"amendment.notice ({notice}) needs a new version to take effect at least {notice} after it is "
            f"published ({iso(published_at)}), i.e. at {iso(earliest)} or later; set a later effective, "
            "or publish with --emergency REASON (recorded with the version)"]
