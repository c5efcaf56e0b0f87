"""The PDF edition: the HTML edition laid out by WeasyPrint (Pango; `mast[pdf]`)."""

from __future__ import annotations

import logging

from mast.errors import MastError
from mast.reports.model import Report
from mast.reports.render_html import render_html


#: HTML larger than this (characters) is laid out with whole fonts embedded
FULL_FONTS_OVER = 400_000


def render_pdf(report: Report) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango missing (scripts/install-pdf-deps.sh)
        raise MastError(f"PDF editions need WeasyPrint and Pango: pip install 'mast[pdf]' ({exc})") from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    text = render_html(report)
    html = weasyprint.HTML(string=text, base_url=".")
    # a long edition embeds whole fonts: subsetting them costs seconds there and saves little;
    # a short one is subset (a few tens of kB instead of a megabyte of fonts)
    return html.write_pdf(pdf_identifier=b"mast-risk-report", full_fonts=len(text) > FULL_FONTS_OVER)
