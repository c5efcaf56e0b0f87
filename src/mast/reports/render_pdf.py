"""The PDF edition: the HTML edition laid out by WeasyPrint (Pango; `mast[pdf]`)."""

from __future__ import annotations

import logging

from mast.errors import MastError
from mast.reports.model import Report
from mast.reports.render_html import render_html


def render_pdf(report: Report) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing (scripts/install-pdf-deps.sh)
        raise MastError(f"PDF editions need WeasyPrint and Pango: pip install 'mast[pdf]' ({exc})") from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    html = weasyprint.HTML(string=render_html(report), base_url=".")
    # full fonts: subsetting them costs seconds on a long edition and saves little
    return html.write_pdf(pdf_identifier=b"mast-risk-report", full_fonts=True)
