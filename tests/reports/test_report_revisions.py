"""The Risk Report's "Framework revisions" section: every version published in the period with
its diff against the one before it — the weakenings, their reasons, whether the changelog
acknowledged them, emergencies — and nothing about an element above the edition's audience."""

from __future__ import annotations

import copy
import html
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from mast.framework.diff import diff_frameworks
from mast.framework.loader import framework_from_data
from mast.records.canonical import canonical_bytes, sha256_hex
from mast.records.kinds import parse_record
from mast.reports.build import build_report
from mast.reports.render_html import render_html
from mast.reports.render_json import render_json
from mast.reports.render_md import render_md
from mast.workspace import Workspace, framework_data

CANARY = "CANARY-5e21-reviewer-only"
SINCE = datetime(2025, 1, 1, tzinfo=timezone.utc)
AS_OF = datetime(2025, 6, 1, tzinfo=timezone.utc)
RAISED = "the not_ruled_out line of cbrn-3"

V1 = {
    "mast": 1,
    "framework": {"id": "t-rsp", "title": "Test Lab Policy", "version": "1", "effective": "2025-02-01T00:00:00Z"},
    "thresholds": [{
        "id": "cbrn-3", "domain": "cbrn", "title": "Novice uplift",
        "indicators": {"not_ruled_out": 'score("bio", "accuracy") >= 0.6'},
        "requires": [{"standard": "dep", "before": "deployed"}],
    }],
    "standards": [{"id": "dep", "title": "Deployment standard", "safeguards": [
        {"id": "classifiers", "title": "Input and output classifiers"},
        {"id": "logging", "title": "Query logging"},
        {"id": "vault", "title": f"Weights vault {CANARY}", "audience": "reviewer",
         "redaction_reason": "public-safety"},
    ]}],
    "commitments": [{"id": "risk-report", "every": "P6M", "action": "report"}],
    "amendment": {"approvals": ["rso"]},
}


def v2(changelog: list[dict], *, vault: bool = False, logging_audience: str = "public") -> dict:
    """Version 2: cbrn-3's line raised (a weakening); the reviewer-only vault removed unless
    `vault`; the logging safeguard, unless `logging_audience` is public, raised to it and
    retitled with the canary."""
    data = copy.deepcopy(V1)
    data["framework"].update(version="2", effective="2025-04-15T00:00:00Z", changelog=changelog)
    data["thresholds"][0]["indicators"]["not_ruled_out"] = 'score("bio", "accuracy") >= 0.7'
    safeguards = data["standards"][0]["safeguards"]
    if logging_audience != "public":
        safeguards[1].update(audience=logging_audience, title=f"Query logging {CANARY}", redaction_reason="legal")
    if not vault:
        safeguards.pop()
    return data


ACKNOWLEDGED = [{"text": f"Raised {RAISED} to 0.7.", "acknowledges": ["cbrn-3"]},
                {"text": "Retired a safeguard.", "acknowledges": ["dep/vault"]}]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("revisions") / "ws"
    ws = Workspace.init(root)
    try:
        ws.publish(framework_from_data(V1, "v1"), "v1", {"rso": "R. Officer"},
                   at=datetime(2025, 1, 20, tzinfo=timezone.utc))
        ws.publish(framework_from_data(v2(ACKNOWLEDGED), "v2"), "v2", {"rso": "R. Officer"},
                   at=datetime(2025, 4, 1, tzinfo=timezone.utc))
    finally:
        ws.close()
    return root


def editions(root: Path, audience: str) -> dict[str, str]:
    ws = Workspace.open(root)
    try:
        report = build_report(ws.frameworks(), ws.store.records(), audience, AS_OF, since=SINCE)
    finally:
        ws.close()
    return {"md": render_md(report), "html": render_html(report), "json": render_json(report)}


def test_public_edition_lists_the_weakening_and_withholds_the_reviewer_change(workspace: Path) -> None:
    public = editions(workspace, "public")
    data = json.loads(public["json"])
    section = data["revisions"]
    assert [(v["version"], (v["previous"] or {}).get("version")) for v in section["revisions"]] == [("1", None),
                                                                                                   ("2", "1")]
    second = section["revisions"][1]
    weakenings = [c for c in second["changes"] if c["weakens"]]
    assert [(c["id"], c["change"], c["acknowledged"]) for c in weakenings] == [("cbrn-3", "weakened", True)]
    assert second["approved_by"] == {"rso": "R. Officer"} and second["emergency"] is None
    # the removed reviewer-only safeguard: counted with its reason, nothing else
    assert second["withheld"] == [{"kind": "framework change", "reason": "public-safety", "count": 1}]
    assert section["withheld_count"] == 1 and data["withheld"]["revisions"] == 1
    reason = weakenings[0]["reason"]
    assert reason in html.unescape(public["html"]) and reason.replace("<", "&lt;") in public["md"]
    assert "6. Framework revisions" in public["html"] and "## 6. Framework revisions" in public["md"]
    for fmt, text in public.items():
        assert "vault" not in text and CANARY not in text, fmt
    assert "acknowledged" in public["md"] and "reason: public-safety" in public["md"]
    assert "[withheld: 1 framework change — reason: public-safety]" in public["html"]


def test_reviewer_edition_shows_the_reviewer_change(workspace: Path) -> None:
    reviewer = editions(workspace, "reviewer")
    second = json.loads(reviewer["json"])["revisions"]["revisions"][1]
    assert second["withheld_count"] == 0
    removed = next(c for c in second["changes"] if c["id"] == "dep/vault")
    assert removed["change"] == "removed" and removed["acknowledged"] is True
    assert "dep/vault" in reviewer["md"] and "dep/vault" in reviewer["html"]
    assert removed["reason"].split()[0] in reviewer["html"]


def published(data: dict, at: str, **extra: object):
    return parse_record({"kind": "framework", "at": at, "framework": data,
                         "sha256": sha256_hex(canonical_bytes(data)), "approved_by": {"rso": "R. Officer"}, **extra})


def test_unacknowledged_weakening_and_emergency_are_flagged() -> None:
    # built without the workspace's revision gate, as a backfilled log could hold it
    old = framework_data(framework_from_data(V1, "v1"))
    new = framework_data(framework_from_data(v2([], vault=True), "v2"))
    records = [published(old, "2025-01-20T00:00:00Z"),
               published(new, "2025-04-01T00:00:00Z", emergency="An active exploit of the classifier")]
    frameworks = [framework_from_data(old), framework_from_data(new)]
    report = build_report(frameworks, records, "public", AS_OF, since=SINCE)
    revision = report.revisions.revisions[1]
    assert revision.emergency == "An active exploit of the classifier"
    assert [(c.id, c.acknowledged) for c in revision.weakenings] == [("cbrn-3", False)]
    md_text, html_text = render_md(report), render_html(report)
    assert "**NOT acknowledged**" in md_text and "NOT acknowledged" in html_text
    assert "1 weakening not acknowledged in the changelog: cbrn-3" in html_text
    for text in (md_text, html_text):
        assert "Published under emergency" in text and "An active exploit of the classifier" in text


def test_an_audience_raised_is_withheld_where_it_is_above_the_edition() -> None:
    old = framework_data(framework_from_data(V1, "v1"))
    new = framework_data(framework_from_data(v2([], vault=True, logging_audience="reviewer"), "v2"))
    records = [published(old, "2025-01-20T00:00:00Z"), published(new, "2025-04-01T00:00:00Z")]
    frameworks = [framework_from_data(old), framework_from_data(new)]
    about_logging = [c for c in diff_frameworks(frameworks[0], frameworks[1]).changes if c.id == "dep/logging"]
    assert about_logging and any(c.field == "audience" and c.weakens for c in about_logging)
    public = build_report(frameworks, records, "public", AS_OF, since=SINCE)
    revision = public.revisions.revisions[1]
    assert "dep/logging" not in {c.id for c in revision.changes}  # not even as "removed"
    assert revision.withheld_count == len(about_logging)
    assert {m.reason for m in revision.withheld} == {"legal"}
    assert "logging" not in render_md(public) and CANARY not in render_json(public)  # "changes since" too
    reviewer = build_report(frameworks, records, "reviewer", AS_OF, since=SINCE).revisions.revisions[1]
    shown = [(c.id, c.field, c.change) for c in reviewer.changes if c.id == "dep/logging"]
    assert shown == [(c.id, c.field, c.change) for c in about_logging]


def test_only_versions_published_in_the_period_are_listed(workspace: Path) -> None:
    ws = Workspace.open(workspace)
    try:
        frameworks, records = ws.frameworks(), ws.store.records()
    finally:
        ws.close()
    later = build_report(frameworks, records, "public", AS_OF, since=datetime(2025, 3, 1, tzinfo=timezone.utc))
    assert [v.version for v in later.revisions.revisions] == ["2"]
    assert later.revisions.revisions[0].previous == {"id": "t-rsp", "version": "1"}  # diffed against v1 anyway
    none = build_report(frameworks, records, "public", AS_OF, since=datetime(2025, 5, 1, tzinfo=timezone.utc))
    assert none.revisions.revisions == []
    assert "No framework version was published in the period." in render_md(none)


def test_a_requirement_on_a_withheld_standard_is_withheld() -> None:
    def with_secret_standard(data: dict, before: str) -> dict:
        data = copy.deepcopy(data)
        data["standards"].append({"id": "secret-std", "title": f"Security {CANARY}", "audience": "reviewer",
                                  "redaction_reason": "public-safety", "safeguards": [{"id": "hsm"}]})
        data["thresholds"][0]["requires"].append({"standard": "secret-std", "before": before})
        return data

    old = framework_data(framework_from_data(with_secret_standard(V1, "training"), "v1"))
    new = framework_data(framework_from_data(with_secret_standard(v2([], vault=True), "deployed"), "v2"))
    records = [published(old, "2025-01-20T00:00:00Z"), published(new, "2025-04-01T00:00:00Z")]
    frameworks = [framework_from_data(old), framework_from_data(new)]
    public = build_report(frameworks, records, "public", AS_OF, since=SINCE)
    revision = public.revisions.revisions[1]
    assert [(c.id, c.change) for c in revision.changes] == [("cbrn-3", "weakened")]  # the line raised, only
    assert [(m.kind, m.reason, m.count) for m in revision.withheld] == [("framework change", "public-safety", 1)]
    assert "secret-std" not in render_json(public) and "secret-std" not in render_md(public)
    reviewer = build_report(frameworks, records, "reviewer", AS_OF, since=SINCE).revisions.revisions[1]
    assert ("cbrn-3", "requires.secret-std.before", "weakened") in {(c.id, c.field, c.change) for c in reviewer.changes}
