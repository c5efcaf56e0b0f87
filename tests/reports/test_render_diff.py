"""The framework diff as HTML (issue 6 item 4): side by side, weakenings first, escaped,
standalone without network and as a fragment for a Risk Report."""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import pytest

from mast.framework.diff import FrameworkDiff, diff_frameworks
from mast.framework.loader import framework_from_data
from mast.reports.render_diff import render_diff_html
from test_report_revisions import V1  # the same small framework the report tests revise

HOSTILE = 'Novice uplift <script>alert("x")</script> & more'


def v2_data() -> dict:
    data = copy.deepcopy(V1)
    data["framework"]["version"] = "2"
    threshold = data["thresholds"][0]
    threshold["title"] = HOSTILE  # changed (text only)
    threshold["indicators"]["not_ruled_out"] = 'score("bio", "accuracy") >= 0.7'  # weakened
    data["standards"][0]["safeguards"].pop()  # dep/vault removed
    data["commitments"][0]["every"] = "P3M"  # strengthened
    data["commitments"].append({"id": "incident-72h", "after": "incident", "within": "PT72H",
                                "action": "notice", "to": "authority"})  # added
    return data


@pytest.fixture(scope="module")
def diff() -> FrameworkDiff:
    return diff_frameworks(framework_from_data(V1, "v1"), framework_from_data(v2_data(), "v2"))


class Page(HTMLParser):
    """The tags of a page, and each diff row: its attributes and its cells' text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[dict] = []
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if tag == "tr" and "diff-row" in (a.get("class") or "").split():
            self.rows.append({"change": a["data-change"], "id": a["data-id"], "cells": {}})
        elif tag == "td" and self.rows:
            self._cell = []
            self.rows[-1]["cells"][(a.get("class") or "").split()[0]] = self._cell
        elif tag == "span" and self.rows and "badge" in (a.get("class") or "").split():
            self.rows[-1]["badge"] = a["class"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def cell(self, row: dict, name: str) -> str:
        return " ".join("".join(row["cells"][name]).split())


def test_rows_follow_the_diff_with_weakenings_first(diff: FrameworkDiff) -> None:
    page = Page(render_diff_html(diff))
    kinds = [row["change"] for row in page.rows]
    assert {"weakened", "removed", "strengthened", "added", "changed"} <= set(kinds)
    weak = [i for i, k in enumerate(kinds) if k in ("weakened", "removed")]
    assert weak == list(range(len(weak))), kinds  # every weakening before every other change
    assert [(row["change"], row["id"]) for row in page.rows] == [(c.change, c.id) for c in diff.changes]


def test_each_row_names_the_element_its_reason_and_both_values(diff: FrameworkDiff) -> None:
    page = Page(render_diff_html(diff))
    for row, change in zip(page.rows, diff.changes):
        assert change.id in page.cell(row, "diff-element")
        assert page.cell(row, "diff-reason") == " ".join(change.reason.split())
        assert f"badge-{change.change}" in row["badge"]
    raised = next(row for row in page.rows if row["id"] == "cbrn-3" and row["change"] == "weakened")
    assert "0.6" in page.cell(raised, "diff-old") and "0.7" in page.cell(raised, "diff-new")
    removed = next(row for row in page.rows if row["change"] == "removed")
    assert removed["id"] == "dep/vault" and page.cell(removed, "diff-new") == "—"


def test_user_text_is_escaped(diff: FrameworkDiff) -> None:
    text = render_diff_html(diff)
    assert "<script>" not in text
    page = Page(text)
    assert "script" not in page.tags
    titled = [row for row in page.rows if HOSTILE in page.cell(row, "diff-new")]
    assert titled and titled[0]["change"] == "changed"


def test_standalone_page_needs_no_network(diff: FrameworkDiff) -> None:
    text = render_diff_html(diff)
    page = Page(text)
    assert {"html", "head", "style", "body", "section"} <= set(page.tags)
    assert not {"link", "script", "img", "iframe"} & set(page.tags)
    assert ".badge-weakened" in text and "@media print" in text
    assert "t-rsp 1" in text and "t-rsp 2" in text and diff.summary() in text


def test_fragment_is_a_section_only(diff: FrameworkDiff) -> None:
    text = render_diff_html(diff, standalone=False)
    page = Page(text)
    assert text.lstrip().startswith('<section class="framework-diff">')
    assert not {"html", "head", "body", "style"} & set(page.tags)
    assert len(page.rows) == len(diff.changes)


def test_no_changes_says_so() -> None:
    fw = framework_from_data(V1, "v1")
    diff = diff_frameworks(fw, fw)
    page = Page(render_diff_html(diff, standalone=False))
    assert page.rows == [] and "table" not in page.tags
    assert diff.summary() in render_diff_html(diff, standalone=False)
