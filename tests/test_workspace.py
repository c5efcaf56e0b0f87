"""The workspace API the CLI, the demo and the engine build on: references checked against
the log and the framework in force, publication with approvals, frameworks rebuilt from the log."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from cli_runner import run
from mast.errors import InvalidInput, Refused
from mast.framework.loader import load_framework
from mast.records.kinds import parse_record
from mast.framework.versions import framework_in_force
from mast.records.references import check_references
from mast.workspace import Workspace, framework_data

DATA = Path(__file__).parent / "records" / "data"
V1 = load_framework(DATA / "framework-v1.yaml")
V2 = load_framework(DATA / "framework-v2.yaml")
BOTH = {"rso": "Jane Roe", "ceo": "Sam Poe"}


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def lab(tmp_path):
    ws = Workspace.init(tmp_path / "lab")
    yield ws
    ws.close()


def test_init_refuses_an_existing_workspace_and_open_needs_one(tmp_path, lab):
    with pytest.raises(InvalidInput, match="already a mast workspace"):
        Workspace.init(lab.root)
    with pytest.raises(InvalidInput, match="not a mast workspace: run mast init"):
        Workspace.open(tmp_path / "elsewhere")
    assert lab.origin == "mast.local/lab"


def test_framework_in_force_is_the_latest_effective_version():
    assert framework_in_force([], t("2025-01-01T00:00:00Z")) is None
    both = [V1, V2]  # effective 2025-01-01 and 2025-07-01
    assert framework_in_force(both, t("2025-06-30T23:59:59Z")) is V1
    assert framework_in_force(both, t("2025-07-01T00:00:00Z")) is V2
    assert framework_in_force(list(reversed(both)), t("2026-01-01T00:00:00Z")) is V2
    assert framework_in_force(both, t("2020-01-01T00:00:00Z")) is V1  # before all: the earliest


def test_published_frameworks_are_rebuilt_from_the_log(lab):
    entry = lab.publish(V1, None, BOTH, at=t("2025-01-01T00:00:00Z"))
    lab.publish(V2, None, BOTH)
    again = Workspace.open(lab.root)
    assert again.frameworks() == [V1, V2]
    assert entry.record.framework == framework_data(V1)
    assert again.store.by_index(0).record.approved_by == BOTH
    again.close()


def test_publish_needs_the_approvals(lab):
    with pytest.raises(Refused, match="needs the approval of ceo"):
        lab.publish(V1, None, {"rso": "Jane Roe"})
    assert lab.store.count() == 0
    lab.publish(V1, None, {**BOTH, "cfo": "Extra Person"})  # more approvals than needed is fine
    with pytest.raises(InvalidInput, match="already published"):
        lab.publish(V1, None, BOTH)
    with pytest.raises(InvalidInput, match="expected a time with a zone"):
        lab.publish(V2, None, BOTH, at=datetime(2025, 7, 1))
    assert lab.store.count() == 1


def test_add_checks_the_whole_batch_before_writing(lab):
    lab.publish(V1, None, BOTH, at=t("2025-01-01T00:00:00Z"))
    good = [parse_record({"kind": "model", "at": "2025-02-01T00:00:00Z", "id": "m1", "name": "One"})]
    bad = good + [parse_record({"kind": "exemption", "at": "2025-02-02T00:00:00Z", "safeguard": "classifier-guards",
                                "scope": "m1", "reason": "r", "expires": "2025-03-01T00:00:00Z"})]
    with pytest.raises(InvalidInput) as info:
        lab.add(bad)
    [problem] = info.value.problems
    assert "records[1].safeguard: unknown safeguard 'classifier-guards'" in str(problem)
    assert "addressed standard/safeguard" in str(problem)
    assert lab.store.count() == 1
    assert [e.index for e in lab.add(good)] == [1]


def test_check_references_accepts_entries_or_the_store(lab):
    lab.publish(V1, None, BOTH, at=t("2025-01-01T00:00:00Z"))
    lab.add([parse_record({"kind": "model", "at": "2025-02-01T00:00:00Z", "id": "m1", "name": "One", "ref": "one"})])
    batch = [
        parse_record({"kind": "stage", "at": "2025-02-02T00:00:00Z", "model": "m1", "stage": "training"}),
        parse_record({"kind": "escape", "at": "2025-02-02T00:00:00Z", "clause": "competitor-parity",
                      "models": ["m1", "m2"], "rationale": "r", "supersedes": "one"}),
    ]
    for existing in (lab.store, list(lab.store.entries())):
        problems = [p.message for p in check_references(batch, existing, lab.frameworks())]
        assert problems == ["records[1].models[1]: unknown model 'm2': define it first with a `model` record"]


def test_a_framework_too_large_for_a_leaf_is_published_as_a_blob(tmp_path: Path) -> None:
    from mast.records.canonical import MAX_RECORD_BYTES, canonical_bytes, record_bytes, sha256_hex

    big = V1.model_copy(update={"framework": V1.framework.model_copy(update={"title": "x" * MAX_RECORD_BYTES})})
    ws = Workspace.init(tmp_path / "ws")
    try:
        entry = ws.publish(big, "big.yaml", {role: "A. Person" for role in big.amendment.approvals})
        leaf = record_bytes(entry.record)
        assert len(leaf) < MAX_RECORD_BYTES  # the leaf names the document...
        assert entry.record.framework is None and entry.record.version == big.version
        document = ws.store.blob(entry.record.sha256)  # ...which is stored once, by its hash
        assert document is not None and sha256_hex(document) == entry.record.sha256
        assert canonical_bytes(framework_data(big)) == document
        assert ws.frameworks()[0] == big
    finally:
        ws.close()


def test_a_determination_without_its_approvals_is_refused_however_it_arrives(tmp_path: Path) -> None:
    """`determinations.approvals` binds `mast record add` as much as `mast determine`."""
    framework = V1.model_copy(update={"determinations": V1.determinations.model_copy(update={"approvals": ["rso"]})})
    ws = Workspace.init(tmp_path / "ws")
    try:
        ws.publish(framework, "f.yaml", {role: "A. Person" for role in framework.amendment.approvals},
                   at=datetime(2024, 1, 1, tzinfo=timezone.utc))
        threshold = framework.thresholds[0].id
        ws.add([parse_record({"kind": "model", "at": "2025-01-01T00:00:00Z", "id": "m1", "name": "M1"})])
        before = ws.store.count()
        unsigned = {"kind": "determination", "at": "2025-02-01T00:00:00Z", "model": "m1",
                    "threshold": threshold, "status": "ruled_out", "rationale": "evals far below the line"}
        with pytest.raises(Refused, match="rso"):
            ws.add([parse_record(unsigned)])
        assert ws.store.count() == before
        ws.add([parse_record({**unsigned, "approved_by": {"rso": "Jane Roe"}})])
        assert ws.store.count() == before + 1
    finally:
        ws.close()


def test_a_workspace_of_the_schema_before_chunks_is_refused_with_a_message(tmp_path):
    import sqlite3

    Workspace.init(tmp_path / "old").close()
    con = sqlite3.connect(tmp_path / "old" / ".mast" / "mast.db")
    con.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, id TEXT, kind TEXT, at TEXT, ref TEXT, body BLOB)")
    con.commit()
    con.close()
    done = run("-w", tmp_path / "old", "log", "verify", width=80)
    assert done.code == 1 and "Traceback" not in done.stderr, done.stderr
    assert "this workspace was made by an older mast" in done.stderr and "re-create it" in done.stderr
