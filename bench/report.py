"""Benchmark: the Risk Report of the 1,000-model workspace of bench/synthetic.py (40
thresholds, 100,000 evals) — built (redacted view + assessment + report model) and rendered.

Targets (issue 5): HTML edition ≤ 5 s, PDF edition ≤ 30 s. Prints figures and the machine;
run by `make bench`. The PDF step is skipped (and said so) when WeasyPrint is missing.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(__file__))

from mast.reports.build import build_report  # noqa: E402
from mast.reports.render_html import render_html  # noqa: E402
from mast.reports.render_json import render_json  # noqa: E402
from mast.reports.render_md import render_md  # noqa: E402
import synthetic  # noqa: E402

HTML_TARGET_S = 5.0
PDF_TARGET_S = 30.0


def main() -> None:
    fw = synthetic.framework()
    recs = synthetic.records()
    as_of = synthetic.START + timedelta(days=560)
    print(f"workspace: 1,000 models, {len(fw.thresholds)} thresholds, {len(recs):,} records")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for audience in ("public", "internal"):
        t0 = time.perf_counter()
        report = build_report([fw], recs, audience, as_of)
        built = time.perf_counter() - t0
        t1 = time.perf_counter()
        html = render_html(report)
        rendered = time.perf_counter() - t1
        total = built + rendered
        verdict = "within target" if total <= HTML_TARGET_S else "OVER TARGET"
        print(f"{audience} HTML edition: {total:.2f} s (build {built:.2f} s, render {rendered:.2f} s), "
              f"{len(html) / 1e6:.1f} MB — target ≤ {HTML_TARGET_S:.0f} s: {verdict}")
    t0 = time.perf_counter()
    md = render_md(report)
    js = render_json(report)
    print(f"Markdown {time.perf_counter() - t0:.2f} s for both ({len(md) / 1e6:.1f} MB md, {len(js) / 1e6:.1f} MB json)")
    try:
        from mast.reports.render_pdf import render_pdf
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        print(f"PDF: skipped ({exc})")
        return
    t0 = time.perf_counter()
    report = build_report([fw], recs, "public", as_of)
    pdf = render_pdf(report)
    total = time.perf_counter() - t0
    verdict = "within target" if total <= PDF_TARGET_S else "OVER TARGET"
    print(f"public PDF edition: {total:.2f} s (build included), {len(pdf) / 1e6:.1f} MB — "
          f"target ≤ {PDF_TARGET_S:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
