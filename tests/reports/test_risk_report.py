"""Risk Reports: redaction by construction (a canary in every format), the competitive-
landscape rule, "changes since", publishing, and bad input."""

from __future__ import annotations

import io
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

from cli_runner import Result, run
from mast.framework.loader import framework_from_data
from mast.records.kinds import parse_record
from mast.reports.build import build_report
from mast.reports.redaction import make_view
from mast.workspace import Workspace

CANARY_INTERNAL = "CANARY-7f3a-internal-only"
CANARY_REVIEWER = "CANARY-91bd-reviewer-only"
EFFECTIVE = "2025-01-01T00:00:00Z"
AS_OF = datetime(2025, 6, 1, tzinfo=timezone.utc)


def framework_data() -> dict:
    return {
        "mast": 1,
        "framework": {"id": "t-rsp", "title": "Test Lab Policy", "version": "1", "effective": EFFECTIVE},
        "thresholds": [{
            "id": "cbrn-3", "domain": "cbrn", "title": "Novice uplift",
            "indicators": {"warning": 'score("bio", "accuracy") >= 0.5',
                           "not_ruled_out": 'score("bio", "accuracy") >= 0.7'},
            "requires": [{"standard": "dep", "before": "deployed"}],
        }],
        "standards": [{"id": "dep", "title": "Deployment standard", "safeguards": [
            {"id": "classifiers", "title": "Input and output classifiers"},
            {"id": "vault", "title": f"Weights vault {CANARY_REVIEWER}", "audience": "reviewer",
             "redaction_reason": "public-safety"},
        ]}],
        "commitments": [{"id": "risk-report", "every": "P6M", "action": "report"}],
        "escape_clauses": [{"id": "parity", "notify": ["board"], "within": "P3D"}],
        "amendment": {"approvals": ["rso"]},
    }


def base_records(deploy_hot: bool = False, escape: bool = False, statement: bool = False) -> list[dict]:
    out = [
        {"kind": "model", "at": "2025-01-02T00:00:00Z", "id": "m1", "name": "Model One"},
        {"kind": "stage", "at": "2025-01-03T00:00:00Z", "model": "m1", "stage": "deployed"},
        {"kind": "safeguard", "at": "2025-01-02T00:00:00Z", "safeguard": "dep/classifiers", "status": "implemented"},
        {"kind": "safeguard", "at": "2025-01-02T00:00:00Z", "safeguard": "dep/vault", "status": "implemented",
         "audience": "reviewer"},
        {"kind": "eval", "at": "2025-01-04T00:00:00Z", "model": "m1", "task": "bio",
         "metrics": {"accuracy": 0.8 if deploy_hot else 0.3}},
        {"kind": "incident", "at": "2025-02-01T00:00:00Z", "severity": "low", "audience": "internal",
         "redaction_reason": "privacy", "description": f"An employee matter {CANARY_INTERNAL}"},
        # in the period: an exemption granted, a safeguard withdrawn
        {"kind": "exemption", "at": "2025-03-01T00:00:00Z", "safeguard": "dep/classifiers", "scope": "m1",
         "reason": "Migration to a new gateway", "approved_by": {"rso": "R. Officer"},
         "expires": "2025-09-01T00:00:00Z"},
        {"kind": "safeguard", "at": "2025-03-02T00:00:00Z", "safeguard": "dep/classifiers", "status": "absent",
         "note": "Gateway decommissioned"},
    ]
    if escape:
        out += [
            {"kind": "safeguard", "at": "2025-03-03T00:00:00Z", "safeguard": "dep/classifiers", "status": "absent",
             "scope": "m1"},
            {"kind": "escape", "at": "2025-04-01T00:00:00Z", "ref": "esc-1", "clause": "parity", "models": ["m1"],
             "rationale": "A competitor shipped."},
            {"kind": "notice", "at": "2025-04-02T00:00:00Z", "to": "board", "about": "esc-1", "text": "Told."},
        ]
    if statement:
        out.append({"kind": "statement", "at": "2025-04-03T00:00:00Z", "topic": "competitive-landscape",
                    "text": "A rival released comparable weights; we told the regulator."})
    return out


def make_workspace(tmp_path: Path, **kw) -> Path:
    root = tmp_path / "ws"
    ws = Workspace.init(root)
    try:
        ws.publish(framework_from_data(framework_data(), "fw"), "fw", {"rso": "R. Officer"},
                   at=datetime(2024, 12, 1, tzinfo=timezone.utc))
        ws.add([parse_record(r) for r in base_records(**kw)])
    finally:
        ws.close()
    return root


def mast(*args: str, cwd: Path | None = None) -> Result:
    return run(*args, cwd=cwd, width=80)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def canary_ws(tmp_path_factory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("canary"))


@pytest.mark.parametrize("fmt", ["html", "md", "json", "pdf"])
def test_canaries_reach_exactly_their_audiences(canary_ws: Path, fmt: str) -> None:
    if fmt == "pdf" and not os.environ.get("CI"):  # in CI (.ci/run) WeasyPrint must be there
        pytest.importorskip("weasyprint")
        pytest.importorskip("pypdf")
    seen = {}
    for audience in ("public", "reviewer", "internal"):
        done = mast("-w", str(canary_ws), "report", "risk", "--audience", audience, "--format", fmt,
                    "--as-of", "2025-06-01T00:00:00Z")
        assert done.code == 0, done.stderr
        text = pdf_text(done.stdout_bytes) if fmt == "pdf" else done.stdout
        if fmt == "pdf":  # text extraction may break long tokens across lines
            text = text.replace("\n", "")
        seen[audience] = (CANARY_INTERNAL in text, CANARY_REVIEWER in text)
        assert "withheld" in text.lower()
    assert seen == {"public": (False, False), "reviewer": (False, True), "internal": (True, True)}


def test_markers_carry_reasons_and_counts(canary_ws: Path) -> None:
    done = mast("-w", str(canary_ws), "report", "risk", "--audience", "public", "--format", "json",
                "--as-of", "2025-06-01T00:00:00Z")
    data = json.loads(done.stdout)
    assert data["withheld"]["safeguards"] == 2  # the vault safeguard and its status record
    assert data["withheld"]["changes"] == 1  # the internal incident
    reasons = {(m["kind"], m["reason"]) for m in data["safeguards"]["withheld"]}
    assert ("safeguard", "public-safety") in reasons
    assert data["changes"]["withheld"] == [{"kind": "incident record", "reason": "privacy", "count": 1}]
    assert data["safeguards"]["withheld_count"] == 2
    md = mast("-w", str(canary_ws), "report", "risk", "--audience", "public", "--format", "md",
              "--as-of", "2025-06-01T00:00:00Z").stdout
    assert "reason: privacy" in md and "reason: public-safety" in md


def test_view_drops_records_that_name_withheld_things() -> None:
    fw = framework_from_data(framework_data(), "fw")
    records = [parse_record(r) for r in base_records()]
    view = make_view([fw], records, "public")
    assert all("vault" not in json.dumps(r.model_dump(mode="json")) for r in view.records)
    assert [g.id for g in view.frameworks[0].standards[0].safeguards] == ["classifiers"]
    reviewer = make_view([fw], records, "reviewer")
    assert any(getattr(r, "safeguard", "") == "dep/vault" for r in reviewer.records)


def test_changes_since_list_the_exemption_and_the_withdrawn_safeguard(tmp_path: Path) -> None:
    fw = framework_from_data(framework_data(), "fw")
    records = [parse_record(r) for r in base_records()]
    report = build_report([fw], records, "public", AS_OF, since=datetime(2025, 2, 15, tzinfo=timezone.utc))
    kinds = {(c.kind, c.subject) for c in report.changes.changes}
    assert ("exemption-granted", "dep/classifiers") in kinds
    assert ("safeguard-withdrawn", "dep/classifiers") in kinds
    withdrawn = next(c for c in report.changes.changes if c.kind == "safeguard-withdrawn")
    assert "was implemented" in withdrawn.text
    # outside the period, they are not changes "since"
    later = build_report([fw], records, "public", AS_OF, since=datetime(2025, 5, 1, tzinfo=timezone.utc))
    assert not {c.kind for c in later.changes.changes} & {"exemption-granted", "safeguard-withdrawn"}


@pytest.mark.parametrize("hot,escape,statement,required,missing", [
    (False, False, False, False, False),   # nothing deployed past a line: no section
    (True, False, False, True, True),      # deployed, not ruled out, no statement: loud
    (True, False, True, True, False),      # ... with a statement
    (False, True, True, False, False),     # escape invoked, but no gate broken under it
])
def test_landscape_section_appears_exactly_when_required(hot, escape, statement, required, missing) -> None:
    fw = framework_from_data(framework_data(), "fw")
    records = [parse_record(r) for r in base_records(deploy_hot=hot, escape=escape, statement=statement)]
    report = build_report([fw], records, "public", AS_OF)
    assert report.landscape.required is required
    assert report.landscape.missing is missing
    assert any(p.kind == "missing-statement" for p in report.problems) is missing
    from mast.reports.render_html import render_html
    from mast.reports.render_md import render_md

    html, md = render_html(report), render_md(report)
    heading = "The competitive landscape"
    assert (heading in html) is required and (heading in md) is required
    assert ("REQUIRED STATEMENT MISSING" in html) is missing


def test_landscape_required_under_escape(tmp_path: Path) -> None:
    fw = framework_from_data(framework_data(), "fw")
    records = [parse_record(r) for r in base_records(deploy_hot=True, escape=True) if r["kind"] != "exemption"]
    report = build_report([fw], records, "public", AS_OF)
    assert "escape" in [f.kind for f in report.findings.current if f.commitment == "cbrn-3"]
    assert any("under an escape clause" in r for r in report.landscape.reasons)
    assert report.escapes.escapes and report.escapes.escapes[0].notified == ["board"]


def test_publish_meets_the_cadence(tmp_path: Path) -> None:
    root = make_workspace(tmp_path)
    before = json.loads(mast("-w", str(root), "status", "--as-of", "2025-07-20T00:00:00Z", "--json").stdout)
    assert any(f["commitment"] == "risk-report" and f["kind"] == "overdue" for f in before["findings"])
    out = tmp_path / "public.html"
    done = mast("-w", str(root), "report", "risk", "--audience", "public", "--format", "html",
                "--as-of", "2025-06-20T00:00:00Z", "-o", str(out), "--publish")
    assert done.code == 0, done.stderr
    after = json.loads(mast("-w", str(root), "status", "--as-of", "2025-07-20T00:00:00Z", "--json").stdout)
    assert not any(f["commitment"] == "risk-report" for f in after["findings"])
    from mast.records.canonical import sha256_hex

    ws = Workspace.open(root)
    try:
        [entry] = list(ws.store.entries(kind="report"))
        assert entry.record.sha256 == sha256_hex(out.read_bytes())
        assert ws.store.blob(entry.record.sha256) == out.read_bytes()
        assert entry.record.edition.value == "public"
        assert entry.record.period.start == datetime(2025, 1, 1, tzinfo=timezone.utc)
    finally:
        ws.close()
    # the next report's period starts where this one ended
    nxt = json.loads(mast("-w", str(root), "report", "risk", "--audience", "public", "--format", "json",
                          "--as-of", "2025-08-01T00:00:00Z").stdout)
    assert nxt["period_from"] == "2025-06-20T00:00:00Z"
    assert not [c for c in nxt["changes"]["changes"] if c["kind"] == "report"]  # the previous one is no change
    by_hash = json.loads(mast("-w", str(root), "report", "risk", "--audience", "public", "--format", "json",
                              "--as-of", "2025-08-01T00:00:00Z", "--since", sha256_hex(out.read_bytes())).stdout)
    assert by_hash["period_from"] == "2025-06-20T00:00:00Z"


@pytest.mark.parametrize("args", [
    ["--audience", "everyone"],
    ["--audience", "public", "--format", "docx"],
    ["--audience", "public", "--as-of", "2025-06-01T00:00:00"],
    ["--audience", "public", "--since", "no-such-report"],
    ["--audience", "public", "--as-of", "2025-06-01T00:00:00Z", "--since", "2025-07-01T00:00:00Z"],
    ["--audience", "public", "-o", "missing-dir/out.html"],
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str]) -> None:
    root = make_workspace(tmp_path)
    count = _count(root)
    extra = [] if "-o" in args else ["-o", str(tmp_path / "x.html")]
    done = mast("-w", str(root), "report", "risk", *args, *extra, "--publish", cwd=tmp_path)
    assert done.code == 2, done.stderr
    assert not (tmp_path / "x.html").exists()
    assert _count(root) == count


def _count(root: Path) -> int:
    ws = Workspace.open(root)
    try:
        return ws.store.count()
    finally:
        ws.close()


def test_json_schema_describes_the_json_edition() -> None:
    from mast.reports.model import report_json_schema

    schema = report_json_schema()
    assert schema["title"] == "mast Risk Report"
    assert {"scope", "thresholds", "safeguards", "findings", "changes", "escapes", "landscape", "reviews",
            "roadmap", "withheld"} <= set(schema["properties"])
    doc = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"
    assert json.loads(doc.read_text()) == schema, "regenerate docs/report.schema.json (docs/reports.md)"
