"""The revision gate (`check_revision`) on a test framework in four versions, each modelled on
a real revision: a weakening is publishable only when the changelog acknowledges it, with the
sign-offs the previous version requires, after its notice period (or in a declared emergency)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from mast.errors import InvalidInput, Refused
from mast.framework.diff import diff_frameworks
from mast.framework.loader import load_framework
from mast.framework.model import ChangelogEntry, Framework
from mast.framework.revision import check_revision, unmatched_acknowledgements

REVISIONS = Path(__file__).parent / "revisions"
V1, V2, V3, V4 = (load_framework(REVISIONS / f"v{n}.yaml") for n in range(1, 5))
SIGNED = {"rso": "Jane Roe", "ceo": "Sam Poe"}
EARLY = datetime(2024, 12, 1, tzinfo=timezone.utc)  # long before every version takes effect

#: (previous, new, the weakenings `new` makes, each acknowledged in its changelog)
STEPS = [
    pytest.param(V1, V2, {"pause-plan", "next-level-evals"}, id="pause-plan-and-next-level-evals-removed"),
    pytest.param(V2, V3, {"asl3-security/insider-monitoring", "asl3-security/insider-access"},
                 id="insider-scope-narrowed"),
    pytest.param(V3, V4, {"cbrn-3", "competitor-parity"}, id="line-raised-and-escape-clause-added"),
]


def quiet(framework: Framework, *hidden: str) -> Framework:
    """`framework` with `hidden` dropped from every changelog entry's `acknowledges`."""
    changelog = [e.model_copy(update={"acknowledges": [a for a in e.acknowledges if a not in hidden]})
                 for e in framework.framework.changelog]
    return framework.model_copy(update={"framework": framework.framework.model_copy(update={"changelog": changelog})})


def amended(framework: Framework, **amendment) -> Framework:
    return framework.model_copy(update={"amendment": framework.amendment.model_copy(update=amendment)})


def disclosing(framework: Framework, text: str, *acknowledges: str) -> Framework:
    """`framework` with one more changelog entry."""
    entry = ChangelogEntry(text=text, acknowledges=list(acknowledges))
    info = framework.framework.model_copy(update={"changelog": [*framework.framework.changelog, entry]})
    return framework.model_copy(update={"framework": info})


def refusal(previous: Framework | None, new: Framework, *, approvals=SIGNED, published_at=EARLY,
            emergency: str | None = None) -> str:
    with pytest.raises(Refused) as info:
        check_revision(previous, new, approvals=approvals, published_at=published_at, emergency=emergency)
    return str(info.value)


@pytest.mark.parametrize("previous,new,weakened", STEPS)
def test_each_step_weakens_what_its_changelog_acknowledges(previous, new, weakened):
    diff = check_revision(previous, new, approvals=SIGNED, published_at=EARLY)
    assert diff is not None and diff.new == (new.id, new.version)
    assert {c.id for c in diff.weakenings} == weakened


@pytest.mark.parametrize("previous,new,weakened", STEPS)
def test_each_weakening_left_unacknowledged_is_refused_by_name_and_reason(previous, new, weakened):
    changes = {c.id: c for c in diff_frameworks(previous, new).weakenings}
    for hidden in sorted(weakened):
        message = refusal(previous, quiet(new, hidden))
        assert f'add "{hidden}" to a changelog entry\'s `acknowledges`' in message
        assert changes[hidden].reason in message
        others = weakened - {hidden}
        assert not any(f'add "{other}"' in message for other in others), message  # still acknowledged
        assert message.endswith("Nothing was written.")


def test_a_removal_disclosed_only_in_the_next_version_cannot_be_published_first():
    # A real framework dropped a commitment in one version and owned up in the next one's
    # changelog. Here the version that drops it is refused, so the removal never reaches the log.
    message = refusal(V1, quiet(V2, "next-level-evals"))
    assert "commitment next-level-evals removed" in message
    assert "pause-plan" not in message  # acknowledged in the same version


def test_every_problem_is_named_in_one_refusal():
    ten_days_ahead = V4.effective - timedelta(days=10)  # v3's notice is 30 days
    message = refusal(V3, quiet(V4, "cbrn-3", "competitor-parity"), approvals={"rso": "Jane Roe"},
                      published_at=ten_days_ahead)
    lines = message.splitlines()
    assert lines[0] == "publishing revision-test-rsp 4.0 is refused:"
    assert sum('add "cbrn-3"' in line for line in lines) == 1
    assert sum('add "competitor-parity"' in line for line in lines) == 1
    assert any("needs the approval of ceo (required by revision-test-rsp 3.0's amendment rules)" in line
               for line in lines)
    assert any("amendment.notice (P30D)" in line and "--emergency" in line for line in lines)
    assert lines[-1] == "Nothing was written."


def test_the_first_version_needs_its_own_approvals_and_has_no_diff():
    assert check_revision(None, V1, approvals=SIGNED, published_at=EARLY) is None
    assert "needs the approval of ceo (required by its own amendment.approvals)" in refusal(
        None, V1, approvals={"rso": "Jane Roe"})


def test_the_previous_versions_approvals_bind_even_when_the_new_version_drops_them():
    fewer = amended(V2, approvals=["rso"])  # drops the CEO from the amendment rules ...
    assert "amendment" in {c.id for c in diff_frameworks(V1, fewer).weakenings}  # ... a weakening
    disclosed = disclosing(fewer, "Amendments need the RSO only.", "amendment")
    message = refusal(V1, disclosed, approvals={"rso": "Jane Roe"})
    assert "needs the approval of ceo (required by revision-test-rsp 1.0's amendment rules)" in message
    assert "acknowledges" not in message
    assert check_revision(V1, disclosed, approvals=SIGNED, published_at=EARLY) is not None


def test_roles_the_new_version_adds_are_not_needed_to_publish_it():
    stricter = amended(V2, approvals=["rso", "ceo", "board"])
    assert check_revision(V1, stricter, approvals=SIGNED, published_at=EARLY) is not None


def test_the_notice_period_is_measured_from_publication():
    earliest = V4.effective - timedelta(days=30)  # published this late, v4 is just in time
    assert check_revision(V3, V4, approvals=SIGNED, published_at=earliest) is not None
    message = refusal(V3, V4, published_at=earliest + timedelta(seconds=1))
    assert "framework.effective 2025-10-01T00:00:00Z is too soon" in message
    assert "at 2025-10-01T00:00:01Z or later" in message


def test_the_notice_is_the_previous_versions():
    # v3 introduces the notice; publishing v3 itself (after v2, which has none) is not held to it
    assert check_revision(V2, V3, approvals=SIGNED, published_at=V3.effective) is not None


def test_an_emergency_waives_the_notice_and_nothing_else():
    late = V4.effective - timedelta(days=1)
    assert check_revision(V3, V4, approvals=SIGNED, published_at=late, emergency="weights exfiltration") is not None
    message = refusal(V3, quiet(V4, "cbrn-3"), published_at=late, emergency="weights exfiltration")
    assert 'add "cbrn-3"' in message and "too soon" not in message
    assert "needs the approval of ceo" in refusal(V3, V4, approvals={"rso": "J"}, published_at=late,
                                                  emergency="weights exfiltration")


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_emergency_without_a_reason_is_invalid_input(reason):
    with pytest.raises(InvalidInput, match="--emergency: expected a reason"):
        check_revision(V3, V4, approvals=SIGNED, published_at=EARLY, emergency=reason)


def test_an_acknowledgement_of_nothing_weakened_is_reported_not_refused():
    typo = disclosing(V2, "Removed the pause plan.", "pause-plna")
    assert check_revision(V1, typo, approvals=SIGNED, published_at=EARLY) is not None
    assert unmatched_acknowledgements(diff_frameworks(V1, typo), typo) == ["pause-plna"]
    assert unmatched_acknowledgements(diff_frameworks(V1, V2), V2) == []
    assert unmatched_acknowledgements(None, V1) == []  # a first version may disclose pre-mast changes
