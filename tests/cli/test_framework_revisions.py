"""`mast framework publish|diff|log` across four revisions of a test framework, each modelled on
a real revision (tests/framework/revisions/): a weakening the changelog does not acknowledge
is refused with exit 3 and nothing written; acknowledged, it is published; the notice period
holds unless an emergency is declared, and `mast framework log` shows that it was.

The CLI runs in-process (tests/cli_runner.py), as `python -m mast` runs it but without a second
of interpreter start-up per call."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Callable

import pytest
from rich.console import Console

from cli_runner import Result, run
import stored
from stored import bodies
from mast.framework.diff import diff_frameworks
from mast.framework.loader import load_framework
from mast.sourcemap import load_file

cli_framework = importlib.import_module("mast.cli.framework")

REVISIONS = Path(__file__).resolve().parents[1] / "framework" / "revisions"
V = {n: REVISIONS / f"v{n}.yaml" for n in range(1, 5)}
APPROVE = ("--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe")
#: when each version is published: v4 (effective 1 Oct) 47 days ahead, past v3's 30-day notice
PUBLISHED_AT = {1: "2024-12-01T00:00:00Z", 2: "2025-03-01T00:00:00Z", 3: "2025-06-01T00:00:00Z",
                4: "2025-08-15T00:00:00Z"}
TOO_SOON = "2025-09-15T00:00:00Z"  # 16 days before v4 takes effect


Mast = Callable[..., Result]


@pytest.fixture
def mast() -> Mast:
    """Run `mast ARGS` in-process (tests/cli_runner.py)."""
    return run


def snapshot(ws: Path) -> tuple[int, bytes]:
    """The number of log entries and the database's bytes: equal before and after means nothing
    was written."""
    return stored.count(ws), stored.database(ws).read_bytes()


def publish(mast: Mast, ws: Path, n: int, path: Path | None = None, *extra: str) -> Result:
    return mast("-w", ws, "framework", "publish", path or V[n], *APPROVE, "--at", PUBLISHED_AT[n], *extra)


@pytest.fixture
def workspace(tmp_path: Path, mast: Mast) -> Callable[[int], Path]:
    """`workspace(n)`: a new workspace with versions 1..n published, as the sequence publishes them."""
    def make(n: int) -> Path:
        ws = tmp_path / f"ws{n}"
        assert mast("init", ws).code == 0
        for k in range(1, n + 1):
            done = publish(mast, ws, k)
            assert done.code == 0, done.stderr
        return ws

    return make


def quiet(tmp_path: Path, n: int, *hidden: str) -> Path:
    """Version n as a file whose changelog no longer acknowledges `hidden`."""
    data = load_file(V[n]).data
    for entry in data["framework"]["changelog"]:
        entry["acknowledges"] = [a for a in entry.get("acknowledges", []) if a not in hidden]
    path = tmp_path / f"v{n}-without-{'-'.join(h.replace('/', '_') for h in hidden)}.json"
    path.write_text(json.dumps(data))
    return path


def refused(result: Result, code: int = 3) -> str:
    assert result.code == code, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    return result.stderr


# -- publish: the sequence ---------------------------------------------------------------------

SEQUENCE = [
    pytest.param(2, ("pause-plan",), "commitment pause-plan removed", id="pause-plan-removed"),
    pytest.param(2, ("next-level-evals",), "commitment next-level-evals removed",
                 id="next-level-evals-removed-disclosed-a-version-later"),
    pytest.param(3, ("asl3-security/insider-monitoring",), "safeguard asl3-security/insider-monitoring removed",
                 id="insider-monitoring-removed"),
    pytest.param(3, ("asl3-security/insider-access",), "safeguard asl3-security/insider-access weakened (audience)",
                 id="insider-access-audience-raised"),
    pytest.param(4, ("cbrn-3",), "threshold cbrn-3 weakened (indicators.not_ruled_out)", id="cbrn-3-line-raised"),
    pytest.param(4, ("competitor-parity",), "escape_clause competitor-parity weakened",
                 id="competitor-escape-clause-added"),
]


@pytest.mark.parametrize("n,hidden,named", SEQUENCE)
def test_an_unacknowledged_weakening_is_refused_and_the_acknowledged_version_published(
        tmp_path, mast, workspace, n, hidden, named):
    ws = workspace(n - 1)
    before = snapshot(ws)
    stderr = refused(publish(mast, ws, n, quiet(tmp_path, n, *hidden)))
    assert named in stderr
    assert f'add "{hidden[0]}" to a changelog entry\'s `acknowledges`' in stderr
    assert stderr.rstrip().endswith("Nothing was written.")
    assert snapshot(ws) == before
    done = publish(mast, ws, n)
    assert done.code == 0, done.stderr
    assert done.stdout.startswith(f"published revision-test-rsp {n}.0 at index {n - 1} ")


def test_publish_warns_of_an_acknowledgement_that_matches_nothing_weakened(tmp_path, mast, workspace):
    ws = workspace(1)
    data = load_file(V[2]).data
    data["framework"]["changelog"].append({"text": "Tidied.", "acknowledges": ["pause-plna"]})
    path = tmp_path / "v2-typo.json"
    path.write_text(json.dumps(data))
    done = publish(mast, ws, 2, path)
    assert done.code == 0, done.stderr
    assert "warning: the changelog acknowledges 'pause-plna', but nothing of that id is removed or weakened" in done.stderr
    assert "warning" not in publish(mast, workspace(0), 1).stderr


def test_a_refusal_names_every_unacknowledged_weakening(tmp_path, mast, workspace):
    ws = workspace(1)
    stderr = refused(publish(mast, ws, 2, quiet(tmp_path, 2, "pause-plan", "next-level-evals")))
    assert 'add "pause-plan"' in stderr and 'add "next-level-evals"' in stderr


def test_missing_approvals_of_the_previous_version_are_refused_even_if_the_new_one_drops_the_roles(
        tmp_path, mast, workspace):
    ws = workspace(1)
    data = load_file(V[2]).data
    data["amendment"]["approvals"] = ["rso"]
    data["framework"]["changelog"].append({"text": "Amendments need the RSO only.", "acknowledges": ["amendment"]})
    path = tmp_path / "v2-rso-only.json"
    path.write_text(json.dumps(data))
    before = snapshot(ws)
    stderr = refused(mast("-w", ws, "framework", "publish", path, "--approve", "rso=Jane Roe"))
    assert "needs the approval of ceo (required by revision-test-rsp 1.0's amendment rules)" in stderr
    assert snapshot(ws) == before
    assert publish(mast, ws, 2, path).code == 0


def test_the_notice_period_holds_unless_an_emergency_is_declared_and_recorded(mast, workspace):
    ws = workspace(3)
    before = snapshot(ws)
    late = ("-w", ws, "framework", "publish", V[4], *APPROVE, "--at", TOO_SOON)
    stderr = refused(mast(*late))
    assert "framework.effective 2025-10-01T00:00:00Z is too soon" in stderr
    assert "revision-test-rsp 3.0's amendment.notice (P30D)" in stderr and "--emergency REASON" in stderr
    for empty in ("", "  "):
        assert "--emergency: expected a reason" in refused(mast(*late, "--emergency", empty), code=2)
    assert snapshot(ws) == before

    done = mast(*late, "--emergency", "a competitor released open weights; the escape clause is needed now")
    assert done.code == 0, done.stderr
    assert "emergency recorded: a competitor released open weights" in done.stdout
    record = json.loads(bodies(ws)[3])
    assert record["emergency"] == "a competitor released open weights; the escape clause is needed now"
    assert record["framework"]["framework"]["version"] == "4.0"


def test_an_emergency_does_not_excuse_an_unacknowledged_weakening(tmp_path, mast, workspace):
    ws = workspace(3)
    stderr = refused(mast("-w", ws, "framework", "publish", quiet(tmp_path, 4, "cbrn-3"), *APPROVE,
                          "--at", TOO_SOON, "--emergency", "urgent"))
    assert 'add "cbrn-3"' in stderr and "too soon" not in stderr


def test_an_ordinary_publication_records_no_emergency(mast, workspace):
    ws = workspace(1)
    [body] = bodies(ws)
    assert "emergency" not in json.loads(body)


def test_a_version_of_another_framework_is_invalid_input(tmp_path, mast, workspace):
    ws = workspace(1)
    other = tmp_path / "other.yaml"
    other.write_text(V[2].read_text().replace("id: revision-test-rsp", "id: another-rsp"))
    before = snapshot(ws)
    stderr = refused(publish(mast, ws, 2, other), code=2)
    assert f"{other}:6:" in stderr
    assert "this workspace's framework is revision-test-rsp (published 1.0), not another-rsp" in stderr
    assert snapshot(ws) == before


# -- diff --------------------------------------------------------------------------------------


def table_rows(stdout: str) -> list[list[str]]:
    """A Rich table's body as cells, one list per printed line (continuation lines included)."""
    return [[cell.strip() for cell in line.strip("│").split("│")] for line in stdout.splitlines()
            if line.startswith("│")]


def test_diff_of_two_files_lists_weakenings_first_and_the_summary(tmp_path, mast):
    done = mast("-w", tmp_path, "framework", "diff", V[2], V[3])
    assert done.code == 0, done.stderr
    diff = diff_frameworks(load_framework(V[2]), load_framework(V[3]))
    assert done.stdout.splitlines()[-1] == f"revision-test-rsp 2.0 → 3.0: {diff.summary()}"
    rows = table_rows(done.stdout)
    changes = [cells[0] for cells in rows if cells[0] in ("added", "removed", "strengthened", "weakened", "changed")]
    assert changes == [c.change for c in diff.changes] == ["weakened", "removed", "strengthened"]
    monitoring = next(i for i, cells in enumerate(rows) if cells[0] == "removed")
    assert rows[monitoring][1] == "safeguard"  # the address folds onto the next lines
    assert rows[monitoring + 1][0] == "acknowledged"
    assert "insider-monitoring" in "".join(cells[1] for cells in rows[monitoring:])
    assert "not acknowledged" not in done.stdout


def test_diff_marks_a_weakening_new_does_not_acknowledge(tmp_path, mast):
    done = mast("-w", tmp_path, "framework", "diff", V[3], quiet(tmp_path, 4, "competitor-parity"))
    assert done.code == 0, done.stderr
    rows = table_rows(done.stdout)
    clause = next(i for i, cells in enumerate(rows) if "competitor-parity" in cells[1])
    assert (rows[clause][0], rows[clause + 1][0]) == ("weakened", "NOT acknowledged")
    assert "1 weakening not acknowledged in 4.0's changelog: `mast framework publish` would refuse it" in done.stdout


def test_diff_colours_changes_by_kind(tmp_path, mast, monkeypatch):
    monkeypatch.setattr(cli_framework, "out", Console(width=200, force_terminal=True, color_system="standard"))
    done = mast("-w", tmp_path, "framework", "diff", V[2], V[3])
    assert "│\x1b[1;31mremoved\x1b[0m" in done.stdout and "│\x1b[32mstrengthened\x1b[0m" in done.stdout
    assert "│\x1b[32macknowledged\x1b[0m" in done.stdout


def test_diff_of_identical_versions_exits_0_with_no_changes(tmp_path, mast):
    done = mast("-w", tmp_path, "framework", "diff", V[1], V[1])
    assert (done.code, done.stdout) == (0, "revision-test-rsp 1.0 → 1.0: no changes\n")


def test_diff_json_is_the_framework_diff(tmp_path, mast):
    done = mast("-w", tmp_path, "framework", "diff", V[3], V[4], "--json")
    assert done.code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data == diff_frameworks(load_framework(V[3]), load_framework(V[4])).to_json()
    assert set(data) == {"old", "new", "changes", "summary"}
    assert data["old"] == {"id": "revision-test-rsp", "version": "3.0"}
    assert {(c["id"], c["change"]) for c in data["changes"]} >= {("cbrn-3", "weakened"),
                                                                ("competitor-parity", "weakened")}


def test_diff_of_published_versions_by_version_string(mast, workspace):
    ws = workspace(4)
    by_version = mast("-w", ws, "framework", "diff", "1.0", "4.0", "--json")
    assert by_version.code == 0, by_version.stderr
    mixed = mast("-w", ws, "framework", "diff", "1.0", V[4], "--json")
    files = mast("-w", ws, "framework", "diff", V[1], V[4], "--json")
    assert json.loads(by_version.stdout) == json.loads(mixed.stdout) == json.loads(files.stdout)
    assert {c["id"] for c in json.loads(by_version.stdout)["changes"]} >= {"pause-plan", "cbrn-3"}


def test_diff_of_an_unknown_version_names_the_published_ones(mast, workspace):
    ws = workspace(2)
    stderr = refused(mast("-w", ws, "framework", "diff", "2.2", "2.0"), code=2)
    assert "OLD '2.2': neither a framework file nor a published version (published versions: 1.0, 2.0)" in stderr


def test_diff_outside_a_workspace_says_there_are_no_versions_to_name(tmp_path, mast):
    stderr = refused(mast("-w", tmp_path, "framework", "diff", V[1], "2.0"), code=2)
    assert "NEW '2.0': neither a framework file nor a published version" in stderr
    assert "is not a mast workspace" in stderr


def test_diff_html_writes_the_rendered_page(tmp_path, mast):
    from mast.reports.render_diff import render_diff_html

    page = tmp_path / "diff.html"
    done = mast("-w", tmp_path, "framework", "diff", V[1], V[2], "--html", page)
    assert done.code == 0, done.stderr
    assert page.read_text(encoding="utf-8") == render_diff_html(
        diff_frameworks(load_framework(V[1]), load_framework(V[2])))
    assert "pause-plan" in page.read_text(encoding="utf-8")
    assert f"wrote {page}" in done.stderr


def test_diff_html_to_an_unwritable_place_is_invalid_input(tmp_path, mast):
    stderr = refused(mast("-w", tmp_path, "framework", "diff", V[1], V[2], "--html", tmp_path / "no" / "d.html"),
                     code=2)
    assert f"--html {tmp_path / 'no' / 'd.html'}: cannot write" in stderr


# -- log ---------------------------------------------------------------------------------------


@pytest.fixture
def history(mast: Mast, workspace) -> Path:
    """Versions 1..3 published in order, and 4 under an emergency."""
    ws = workspace(3)
    done = mast("-w", ws, "framework", "publish", V[4], *APPROVE, "--at", TOO_SOON, "--emergency", "zero-day")
    assert done.code == 0, done.stderr
    return ws


def test_log_json_lists_every_version_in_log_order(mast, history):
    done = mast("-w", history, "framework", "log", "--json")
    assert done.code == 0, done.stderr
    rows = json.loads(done.stdout)
    frameworks = [load_framework(V[n]) for n in range(1, 5)]
    assert [r["version"] for r in rows] == ["1.0", "2.0", "3.0", "4.0"]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert [r["effective"] for r in rows] == ["2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z",
                                              "2025-07-01T00:00:00Z", "2025-10-01T00:00:00Z"]
    assert [r["published_at"] for r in rows] == [PUBLISHED_AT[1], PUBLISHED_AT[2], PUBLISHED_AT[3], TOO_SOON]
    assert all(r["approved_by"] == {"rso": "Jane Roe", "ceo": "Sam Poe"} for r in rows)
    assert [r["emergency"] for r in rows] == [None, None, None, "zero-day"]
    assert [r["summary"] for r in rows] == ["first version"] + [
        diff_frameworks(a, b).summary() for a, b in zip(frameworks, frameworks[1:])]
    assert all(r["id"] == "revision-test-rsp" and len(r["sha256"]) == 64 for r in rows)


def test_log_table_shows_versions_approvers_summaries_and_the_emergency(mast, history):
    done = mast("-w", history, "framework", "log")
    assert done.code == 0, done.stderr
    assert done.stdout.startswith("revision-test-rsp: 4 published versions")
    rows = table_rows(done.stdout)
    first = [cells[0] for cells in rows].index("1.0")
    assert rows[first][:5] == ["1.0", "2025-01-01 00:00", "2024-12-01 00:00", "0", "ceo=Sam Poe"]
    assert rows[first + 1][4] == "rso=Jane Roe" and rows[first][5] == "first version"
    last = [cells[0] for cells in rows].index("4.0")
    assert rows[last][1:4] == ["2025-10-01 00:00", "2025-09-15 00:00", "3"]
    assert rows[last + 1][5] == "emergency: zero-day"


def test_log_of_an_empty_workspace(mast, workspace):
    ws = workspace(0)
    assert json.loads(mast("-w", ws, "framework", "log", "--json").stdout) == []
    assert "no framework version is published yet" in mast("-w", ws, "framework", "log").stdout
