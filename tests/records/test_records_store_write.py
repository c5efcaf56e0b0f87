"""The store's one write path, `Store.append_bodies`: entries already serialised, with the same
constraints, checks and transaction as `Store.append` (which is it, after serialising)."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from mast.errors import InvalidInput
from mast.records.canonical import MAX_RECORD_BYTES, record_bytes
from mast.records.kinds import parse_record
from mast.records.store import SQLITE_CACHE_KIB, SQLITE_WAL_CHECKPOINT_PAGES, Store

AT = "2025-01-01T00:00:00Z"


def model(i: int, **extra) -> dict:
    return {"kind": "model", "at": AT, "id": f"m{i}", "name": f"Model {i}", **extra}


def row(i: int, ref: str | None = None) -> tuple:
    record = parse_record(model(i, **({"ref": ref} if ref else {})))
    return record_bytes(record), record.kind, AT, record.ref


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(tmp_path / "mast.db", create=True)
    yield s
    s.close()


def dump(path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT idx, id, kind, at, ref, body FROM entries ORDER BY idx").fetchall()
    finally:
        con.close()


def test_bodies_are_appended_as_append_appends_records(tmp_path):
    records = [parse_record(model(i, **({"ref": f"r{i}"} if i % 2 else {}))) for i in range(5)]
    by_records = Store.sqlite(tmp_path / "a.db", create=True)
    by_bodies = Store.sqlite(tmp_path / "b.db", create=True)
    entries = by_records.append(records)
    first, ids = by_bodies.append_bodies([(record_bytes(r), r.kind, AT, r.ref) for r in records])
    by_records.close()
    by_bodies.close()
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert first == 0 and ids == [e.id for e in entries]
    assert ids == [hashlib.sha256(record_bytes(r)).hexdigest() for r in records]


def test_append_bodies_returns_the_first_index_and_the_ids(store):
    assert store.append_bodies([row(1), row(2)])[0] == 0
    first, ids = store.append_bodies([row(3)])
    assert first == 2 and ids == [hashlib.sha256(row(3)[0]).hexdigest()]
    assert store.append_bodies([]) == (3, [])
    assert [i for i, _, _ in store.bodies()] == [0, 1, 2]


def test_the_hook_runs_in_the_transaction_with_the_bodies(store):
    seen = []

    def hook(conn, first, bodies):
        seen.append((first, bodies, conn.exec_driver_sql("SELECT count(*) FROM entries").scalar()))

    store.append_bodies([row(1)])
    store.append_bodies([row(2), row(3)], within=hook)
    assert seen == [(1, [row(2)[0], row(3)[0]], 3)]

    def failing(conn, first, bodies):
        raise RuntimeError("the tree could not be extended")

    with pytest.raises(RuntimeError):
        store.append_bodies([row(4)], within=failing)
    assert store.count() == 3


def test_a_body_already_in_the_log_is_refused_and_nothing_is_written(store):
    store.append_bodies([row(1)])
    with pytest.raises(InvalidInput, match=r"records\[1\]: already recorded at index 0"):
        store.append_bodies([row(2), row(1)])
    assert store.count() == 1


def test_the_same_body_twice_in_a_batch_is_refused(store):
    with pytest.raises(InvalidInput, match=r"records\[2\]: the same record as records\[0\]"):
        store.append_bodies([row(1), row(2), row(1)])
    assert store.count() == 0


def test_a_ref_is_unique_among_the_entries_that_have_one(store):
    store.append_bodies([row(1, ref="x"), row(2), row(3)])        # entries without a ref: many
    with pytest.raises(InvalidInput, match=r"records\[0\]\.ref: 'x' is already used at index 0"):
        store.append_bodies([row(4, ref="x")])
    with pytest.raises(InvalidInput, match=r"records\[1\]\.ref: 'y' is already used by records\[0\]"):
        store.append_bodies([row(5, ref="y"), row(6, ref="y")])
    assert store.count() == 3
    assert store.by_ref("x").index == 0 and store.by_ref("y") is None


def test_a_body_over_64_kib_is_refused(store):
    body = b'{"kind":"model","pad":"' + b"x" * MAX_RECORD_BYTES + b'"}'
    with pytest.raises(InvalidInput, match="too large"):
        store.append_bodies([row(1), (body, "model", AT, None)])
    assert store.count() == 0


def test_the_ref_index_is_partial_and_used_by_lookups(store):
    store.append_bodies([row(1, ref="x"), row(2), row(3)])
    with store.engine.connect() as conn:
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'entries_ref'").scalar()
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT idx FROM entries WHERE ref = 'x'").all()
    assert "UNIQUE" in sql and "WHERE ref IS NOT NULL" in sql
    assert "entries_ref" in plan[0][-1]


def test_every_connection_gets_the_larger_cache_and_rarer_checkpoints(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SQLITE_WAL_CHECKPOINT_PAGES
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL, still
