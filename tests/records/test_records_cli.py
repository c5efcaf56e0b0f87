"""`mast init`, `mast record add` and `mast framework publish`, run as a user runs them.

Every refusal is checked the way a user would notice it: the exit code, a FILE:LINE message
on stderr, no traceback, and a store that is byte-for-byte what it was before.
"""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

import pytest

from cli_runner import run

DATA = Path(__file__).parent / "data"
V1 = str(DATA / "framework-v1.yaml")
V2 = str(DATA / "framework-v2.yaml")


def write(path: Path, text: str) -> str:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def assert_refused(result, code: int = 2) -> str:
    assert result.code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    return result.stderr


# -- mast init -----------------------------------------------------------------------------------


def test_init_creates_a_workspace(tmp_path, mast):
    result = mast("init", "lab")
    assert result.code == 0, result.stderr
    assert (tmp_path / "lab" / "mast.toml").is_file()
    assert (tmp_path / "lab" / ".mast" / "mast.db").is_file()
    toml = (tmp_path / "lab" / "mast.toml").read_text()
    assert 'origin = "mast.local/lab"' in toml
    assert "# database = \"postgresql://" in toml


def test_init_uses_the_workspace_option_when_no_dir_is_given(tmp_path, mast):
    assert mast("-w", "there", "init").code == 0
    assert (tmp_path / "there" / "mast.toml").is_file()


def test_init_twice_is_refused(tmp_path, mast, ws):
    before = (ws / "mast.toml").read_text()
    stderr = assert_refused(mast("init", "ws"))
    assert "already a mast workspace" in stderr
    assert (ws / "mast.toml").read_text() == before


def test_commands_outside_a_workspace_say_run_mast_init(tmp_path, mast):
    stderr = assert_refused(mast("record", "add", "-", input="[]"))
    assert "not a mast workspace: run mast init" in stderr


# -- mast record add -------------------------------------------------------------------------------


def test_add_appends_and_says_where(tmp_path, mast, published):
    path = write(tmp_path / "r.yaml", """\
        - {kind: stage, at: 2025-02-03T00:00:00Z, model: m1, stage: training}
        - {kind: eval, at: 2025-02-04T00:00:00Z, model: m1, task: wmdp_bio, metrics: {accuracy: 0.5}}
        """)
    result = mast("-w", str(published), "record", "add", path)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "appended 2 records (index 3\u20134)"


def test_add_reads_a_single_json_record_from_stdin(mast, published):
    result = mast("-w", str(published), "record", "add", "-",
                  input='{"kind": "roadmap", "at": "2025-03-01T00:00:00Z", "goal": "g", "status": "met", "note": "n"}')
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "appended 1 record (index 3)"


def test_workspace_from_environment(tmp_path, published):
    result = run("record", "add", "-", cwd=tmp_path, env={"MAST_WORKSPACE": str(published)},
                 input="{kind: roadmap, at: 2025-03-01T00:00:00Z, goal: g, status: met, note: n}")
    assert result.code == 0, result.stderr


GOOD_BEFORE = """\
- {kind: stage, at: 2025-02-03T00:00:00Z, model: m1, stage: training}
- {kind: eval, at: 2025-02-04T00:00:00Z, model: m1, task: wmdp_bio, metrics: {accuracy: 0.5}}
"""
GOOD_AFTER = """\
- {kind: stage, at: 2025-02-05T00:00:00Z, model: m2, stage: internal}
- {kind: roadmap, at: 2025-02-06T00:00:00Z, goal: ASL-4, status: on_track, note: fine}
"""

#: (case, the bad record placed in the middle of a good batch, what stderr must say).
#: The bad record is always on line 3 of the file.
BAD_MIDDLE = [
    ("unknown kind", "- {kind: memo, at: 2025-02-04T12:00:00Z, text: hi}",
     "records[2].kind: unknown kind 'memo' (expected one of: model, stage, eval"),
    ("unknown reference", "- {kind: eval, at: 2025-02-04T12:00:00Z, model: m1, task: t, metrics: {a: 1}, supersedes: nope}",
     "records[2].supersedes: no earlier record has ref or id 'nope'"),
    ("naive time", "- {kind: stage, at: 2025-02-04T12:00:00, model: m1, stage: internal}",
     "records[2].at: expected a time with a zone"),
    ("non-numeric metric", "- {kind: eval, at: 2025-02-04T12:00:00Z, model: m1, task: t, metrics: {accuracy: high}}",
     "records[2].metrics.accuracy: expected a number (got 'high')"),
    ("duplicate ref", "- {kind: roadmap, at: 2025-02-04T12:00:00Z, ref: m1-def, goal: g, status: met, note: n}",
     "records[2].ref: ref 'm1-def' is already used at index 1"),
    ("eval for an undefined model", "- {kind: eval, at: 2025-02-04T12:00:00Z, model: m9, task: t, metrics: {a: 1}}",
     "records[2].model: unknown model 'm9': define it first with a `model` record"),
    ("determination for an unknown threshold",
     "- {kind: determination, at: 2025-02-04T12:00:00Z, model: m1, threshold: bio-9, status: crossed, rationale: r}",
     "records[2].threshold: unknown threshold 'bio-9' in test-lab-rsp 1.0"),
    ("unknown safeguard", "- {kind: safeguard, at: 2025-02-04T12:00:00Z, safeguard: asl3-deployment/nope, status: implemented}",
     "records[2].safeguard: unknown safeguard 'asl3-deployment/nope' in test-lab-rsp 1.0"),
    ("statement about an undefined model",
     "- {kind: statement, at: 2025-02-04T12:00:00Z, topic: competitive-landscape, text: t, models: [m1, m9]}",
     "records[2].models[1]: unknown model 'm9': define it first with a `model` record"),
    ("unknown escape clause", "- {kind: escape, at: 2025-02-04T12:00:00Z, clause: because, models: [m1], rationale: r}",
     "records[2].clause: unknown escape clause 'because'"),
    ("notice about nothing", "- {kind: notice, at: 2025-02-04T12:00:00Z, to: board, about: nothing, text: t}",
     "records[2].about: 'nothing' is neither an earlier record's ref or id"),
    ("unknown field", "- {kind: stage, at: 2025-02-04T12:00:00Z, model: m1, stage: internal, colour: red}",
     "records[2].colour: unknown field (expected one of: kind, at, ref"),
    ("missing field", "- {kind: stage, at: 2025-02-04T12:00:00Z, model: m1}",
     "records[2]: missing required field 'stage'"),
    ("bad enum", "- {kind: stage, at: 2025-02-04T12:00:00Z, model: m1, stage: shipped}",
     "records[2].stage: expected 'training', 'internal', 'deployed' or 'retired' (got 'shipped')"),
    ("framework through record add", "- {kind: framework, at: 2025-02-04T12:00:00Z, framework: {}, sha256: " + "a" * 64 + "}",
     "records[2].kind: framework versions are published with `mast framework publish FILE`"),
    ("same record twice", "- {kind: stage, at: 2025-02-03T00:00:00Z, model: m1, stage: training}",
     "records[2]: the same record as records[0]"),
]


@pytest.mark.parametrize("case,bad,message", BAD_MIDDLE, ids=[c[0] for c in BAD_MIDDLE])
def test_a_bad_record_in_the_middle_writes_nothing(tmp_path, mast, published, snapshot, case, bad, message):
    path = write(tmp_path / "batch.yaml", GOOD_BEFORE + bad + "\n" + GOOD_AFTER)
    before = snapshot(published)
    stderr = assert_refused(mast("-w", str(published), "record", "add", path))
    assert f"{path}:3:" in stderr
    assert message in stderr
    assert "nothing was written" in stderr
    assert snapshot(published) == before


def test_malformed_yaml_writes_nothing(tmp_path, mast, published, snapshot):
    # lines 3-5: a record whose third key is indented one space too far
    path = write(tmp_path / "batch.yaml", GOOD_BEFORE + "- kind: stage\n  at: 2025-02-04T12:00:00Z\n   model: m1\n" + GOOD_AFTER)
    before = snapshot(published)
    stderr = assert_refused(mast("-w", str(published), "record", "add", path))
    assert f"{path}:5:9: mapping values are not allowed here" in stderr
    assert snapshot(published) == before


def test_every_problem_of_a_batch_is_reported(tmp_path, mast, published, snapshot):
    path = write(tmp_path / "batch.yaml", """\
        - {kind: stage, at: 2025-02-03T00:00:00, model: m1, stage: training}
        - kind: eval
          at: 2025-02-04T00:00:00Z
          model: m1
          task: wmdp_bio
          metrics: {accuracy: "0.5"}
        - {kind: eval, at: 2025-02-04T00:00:00Z, model: m7, task: t, metrics: {a: 1}}
        """)
    before = snapshot(published)
    stderr = assert_refused(mast("-w", str(published), "record", "add", path))
    assert f"{path}:1:" in stderr and "records[0].at" in stderr
    assert f"{path}:6:" in stderr and "records[1].metrics.accuracy: expected a number" in stderr
    assert stderr.count("records[1].metrics.accuracy") == 1  # int|float collapsed into one
    assert snapshot(published) == before


def test_shape_errors_come_before_reference_errors(tmp_path, mast, published):
    """References are checked only once the whole batch has a valid shape, but then all of them."""
    path = write(tmp_path / "batch.yaml", """\
        - {kind: eval, at: 2025-02-04T00:00:00Z, model: m7, task: t, metrics: {a: 1}}
        - {kind: eval, at: 2025-02-04T00:00:00Z, model: m8, task: t, metrics: {a: 1}}
        """)
    stderr = assert_refused(mast("-w", str(published), "record", "add", path))
    assert "unknown model 'm7'" in stderr and "unknown model 'm8'" in stderr


BATCH_WITH_INNER_REFERENCES = """\
- {kind: model, at: 2025-03-01T00:00:00Z, id: m3, name: Three, parent: m2, ref: m3-def}
- {kind: incident, at: 2025-03-02T00:00:00Z, model: m3, severity: low, description: d, ref: inc-1}
- {kind: notice, at: 2025-03-02T10:00:00Z, to: authority, about: inc-1, text: t}
- {kind: notice, at: 2025-03-02T11:00:00Z, to: board, about: incident-72h, text: t}
- {kind: model, at: 2025-03-03T00:00:00Z, id: m3, name: Three (renamed), supersedes: m3-def}
"""


def test_records_can_refer_to_earlier_records_of_the_same_batch(tmp_path, mast, published):
    result = mast("-w", str(published), "record", "add", "-", input=BATCH_WITH_INNER_REFERENCES)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "appended 5 records (index 3\u20137)"


def test_a_model_is_defined_once_unless_corrected(tmp_path, mast, published):
    text = BATCH_WITH_INNER_REFERENCES.replace("supersedes: m3-def", "supersedes: m3-other")
    stderr = assert_refused(mast("-w", str(published), "record", "add", "-", input=text))
    assert stderr.count("error:") == 2, stderr
    assert "<stdin>:5:" in stderr
    assert "records[4].supersedes: no earlier record has ref or id 'm3-other'" in stderr
    assert "records[4].id: model 'm3' is already defined at records[0]" in stderr


def test_a_record_cannot_refer_to_a_later_one(tmp_path, mast, published):
    text = """\
- {kind: notice, at: 2025-03-02T10:00:00Z, to: authority, about: inc-1, text: t}
- {kind: incident, at: 2025-03-02T00:00:00Z, severity: low, description: d, ref: inc-1}
"""
    stderr = assert_refused(mast("-w", str(published), "record", "add", "-", input=text))
    assert "<stdin>:1:" in stderr and "records[0].about: 'inc-1' is neither" in stderr


def test_a_record_already_in_the_log_is_refused(tmp_path, mast, published, snapshot):
    before = snapshot(published)
    stderr = assert_refused(mast("-w", str(published), "record", "add", "-",
                                 input="{kind: model, at: 2025-02-01T00:00:00Z, id: m1, name: Model One, ref: m1-def}"))
    assert "<stdin>:1:1: record: this record is already recorded at index 1" in stderr
    assert snapshot(published) == before


def test_framework_records_need_a_published_framework(tmp_path, mast, ws):
    result = mast("-w", str(ws), "record", "add", "-", input="""\
- {kind: model, at: 2025-02-01T00:00:00Z, id: m1, name: One}
- {kind: determination, at: 2025-02-04T00:00:00Z, model: m1, threshold: cbrn-3, status: crossed, rationale: r}
""")
    stderr = assert_refused(result)
    assert "<stdin>:2:" in stderr
    assert "publish one first with `mast framework publish FILE`" in stderr


def test_thresholds_are_checked_against_the_version_in_force(tmp_path, mast, published):
    # v2 (effective 2025-07-01) adds cyber-3; the board must now also sign amendments
    result = mast("-w", str(published), "framework", "publish", V2, "--approve", "rso=Jane Roe",
                  "--approve", "ceo=Sam Poe", "--at", "2025-06-15T00:00:00Z")
    assert result.code == 0, result.stderr
    det = "{{kind: determination, at: {at}, model: m1, threshold: cyber-3, status: ruled_out, rationale: r}}"
    stderr = assert_refused(mast("-w", str(published), "record", "add", "-", input=det.format(at="2025-06-30T00:00:00Z")))
    assert "unknown threshold 'cyber-3' in test-lab-rsp 1.0" in stderr
    ok = mast("-w", str(published), "record", "add", "-", input=det.format(at="2025-07-01T00:00:00Z"))
    assert ok.code == 0, ok.stderr
    # before every version: the earliest applies
    stderr = assert_refused(mast("-w", str(published), "record", "add", "-", input=det.format(at="2024-01-01T00:00:00Z")))
    assert "in test-lab-rsp 1.0" in stderr


# -- mast framework publish --------------------------------------------------------------------------


def test_publish_without_approvals_is_refused(mast, ws, snapshot):
    before = snapshot(ws)
    stderr = assert_refused(mast("-w", str(ws), "framework", "publish", V1, "--approve", "rso=Jane Roe"), code=3)
    assert "needs the approval of ceo" in stderr
    assert snapshot(ws) == before == (0, [])


def test_publish_with_approvals_writes_one_framework_record(mast, ws):
    result = mast("-w", str(ws), "framework", "publish", V1, "--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("published test-lab-rsp 1.0 at index 0 (sha256 ")
    con = sqlite3.connect(ws / ".mast" / "mast.db")
    [(kind, bundle)] = con.execute("SELECT kinds, bodies FROM entry_chunks").fetchall()
    con.close()
    import json

    from mast.bundles import split
    [body] = split(bundle)

    from mast.framework.loader import load_framework
    from mast.records.canonical import canonical_bytes, sha256_hex

    record = json.loads(body)
    assert kind == "framework"
    assert record["approved_by"] == {"rso": "Jane Roe", "ceo": "Sam Poe"}
    assert record["sha256"] == sha256_hex(canonical_bytes(record["framework"]))
    assert record["at"].endswith("Z")
    assert load_framework(V1).model_dump(mode="json", exclude_none=True) == record["framework"]


def test_a_later_version_needs_the_approvals_of_the_one_it_amends(mast, published, snapshot):
    before = snapshot(published)
    # v2 itself asks for rso, ceo and board; v1 (in force) asks for rso and ceo
    stderr = assert_refused(mast("-w", str(published), "framework", "publish", V2, "--approve", "rso=Jane Roe"), code=3)
    assert "needs the approval of ceo (required by test-lab-rsp 1.0's amendment rules)" in stderr
    assert snapshot(published) == before
    ok = mast("-w", str(published), "framework", "publish", V2, "--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe")
    assert ok.code == 0, ok.stderr


def test_the_same_version_twice_is_invalid(mast, published, snapshot):
    before = snapshot(published)
    stderr = assert_refused(mast("-w", str(published), "framework", "publish", V1,
                                 "--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe"))
    assert f"{V1}:5:" in stderr and "test-lab-rsp 1.0 is already published" in stderr
    assert snapshot(published) == before


@pytest.mark.parametrize("args,message", [
    (["--approve", "rso"], "expected ROLE=NAME"),
    (["--approve", "=Jane"], "expected ROLE=NAME"),
    (["--approve", "rso=Jane", "--approve", "rso=John"], "role 'rso' is given twice"),
    (["--approve", "rso=Jane", "--approve", "ceo=Sam", "--at", "2025-01-01T00:00:00"], "--at '2025-01-01T00:00:00': expected a time with a zone"),
])
def test_publish_rejects_malformed_options(mast, ws, snapshot, args, message):
    stderr = assert_refused(mast("-w", str(ws), "framework", "publish", V1, *args))
    assert message in stderr
    assert snapshot(ws) == (0, [])


def test_publish_reports_an_invalid_framework_file(tmp_path, mast, ws):
    path = write(tmp_path / "fw.yaml", Path(V1).read_text().replace("effective: 2025-01-01T00:00:00Z", "effective: soon"))
    stderr = assert_refused(mast("-w", str(ws), "framework", "publish", path, "--approve", "rso=J", "--approve", "ceo=S"))
    assert f"{path}:6:" in stderr
    assert snapshot_is_empty(ws)


def test_publish_backfills_with_at(mast, ws):
    result = mast("-w", str(ws), "framework", "publish", V1, "--approve", "rso=J", "--approve", "ceo=S",
                  "--at", "2024-12-20T09:00:00+01:00")
    assert result.code == 0, result.stderr
    import json

    from mast.bundles import split

    con = sqlite3.connect(ws / ".mast" / "mast.db")
    [(bundle,)] = con.execute("SELECT bodies FROM entry_chunks").fetchall()
    con.close()
    [body] = split(bundle)
    from datetime import datetime, timezone

    # The record keeps the time as given; it is the moment --at names (08:00 UTC).
    at = json.loads(body)["at"]
    assert at == "2024-12-20T09:00:00+01:00"
    assert datetime.fromisoformat(at).astimezone(timezone.utc) == datetime(2024, 12, 20, 8, tzinfo=timezone.utc)


def snapshot_is_empty(ws: Path) -> bool:
    con = sqlite3.connect(ws / ".mast" / "mast.db")
    try:
        return con.execute("SELECT count(*) FROM entry_chunks").fetchone()[0] == 0
    finally:
        con.close()
