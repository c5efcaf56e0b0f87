"""A framework diff as HTML: side by side (old | new), weakenings first, for the web and reports.

The same Jinja2 environment as the HTML edition (autoescaped: every title, reason and value
from a framework file is escaped), and the same stylesheet, inlined, so that a standalone page
needs no network and prints like a Risk Report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mast.reports.render_html import _css, _environment

if TYPE_CHECKING:
    from mast.framework.diff import FrameworkDiff

TEMPLATE = "framework_diff.html.j2"


def render_diff_html(diff: "FrameworkDiff", *, standalone: bool = True) -> str:
    """`diff` as HTML, its changes in the diff's own order (weakened and removed first).

    Each change is a table row (class `diff-row diff-<change>`, `data-id` = the element id)
    with its change badge, element id and field, reason, and its old and new values.
    `standalone=True` gives a whole page with the CSS inline; `False` gives a `<section
    class="framework-diff">` fragment (no `<html>`, no styles) to embed in another page.
    """
    return _environment().get_template(TEMPLATE).render(diff=diff, standalone=standalone,
                                                        css=_css() if standalone else "")
