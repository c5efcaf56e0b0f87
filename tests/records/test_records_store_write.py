"""The store's one write path, `Store.append_bodies`: entries already serialised, with the same
constraints, checks and transaction as `Store.append` (which is it, after serialising); the
chunks it writes; and `checked_through`, the part of the log its caller has already checked."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from mast import bundles
from mast.errors import InvalidInput, MastError
from mast.records.canonical import MAX_RECORD_BYTES, record_bytes
from mast.records.kinds import parse_record
from mast.records.store import CHUNK, SQLITE_CACHE_KIB, SQLITE_WAL_CHECKPOINT_PAGES, Store

AT = "2025-01-01T00:00:00Z"


def model(i: int, **extra) -> dict:
    return {"kind": "model", "at": AT, "id": f"m{i}", "name": f"Model {i}", **extra}


def row(i: int, ref: str | None = None) -> tuple:
    record = parse_record(model(i, **({"ref": ref} if ref else {})))
    return record_bytes(record), record.kind, record.ref


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(tmp_path / "mast.db", create=True)
    yield s
    s.close()


def dump(path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return (con.execute("SELECT first, count, kinds, bodies FROM entry_chunks ORDER BY first").fetchall()
                + con.execute("SELECT idx, ref FROM entry_refs ORDER BY idx").fetchall())
    finally:
        con.close()


def test_bodies_are_appended_as_append_appends_records(tmp_path):
    records = [parse_record(model(i, **({"ref": f"r{i}"} if i % 2 else {}))) for i in range(5)]
    by_records = Store.sqlite(tmp_path / "a.db", create=True)
    by_bodies = Store.sqlite(tmp_path / "b.db", create=True)
    entries = by_records.append(records)
    first = by_bodies.append_bodies([(record_bytes(r), r.kind, r.ref) for r in records])
    assert [e.id for e in by_bodies.entries()] == [e.id for e in entries]
    by_records.close()
    by_bodies.close()
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert first == 0 and [e.id for e in entries] == [hashlib.sha256(record_bytes(r)).hexdigest() for r in records]


def test_append_bodies_returns_the_first_index(store):
    assert store.append_bodies([row(1), row(2)]) == 0
    assert store.append_bodies([row(3)]) == 2
    assert store.append_bodies([]) == 3
    assert [i for i, _, _ in store.bodies()] == [0, 1, 2]


def test_a_batch_is_stored_in_chunks_of_256_framed_as_entry_bundles(store):
    rows = [row(i, ref=f"r{i}" if i % 100 == 0 else None) for i in range(600)]
    store.append_bodies(rows[:5])
    store.append_bodies(rows[5:])
    with store.engine.connect() as conn:
        chunks = conn.exec_driver_sql("SELECT first, count, kinds, bodies FROM entry_chunks ORDER BY first").all()
        refs = conn.exec_driver_sql("SELECT idx, ref FROM entry_refs ORDER BY idx").all()
    # not aligned to 256: a batch's chunks start where the batch does
    assert [(first, count) for first, count, _, _ in chunks] == [(0, 5), (5, CHUNK), (5 + CHUNK, CHUNK), (517, 83)]
    assert all(kinds == ",".join(["model"] * count) for _, count, kinds, _ in chunks)
    assert [b for _, _, _, blob in chunks for b in bundles.split(blob)] == [body for body, _, _ in rows]
    first_bundle = chunks[0][3]
    assert first_bundle[:2] == len(rows[0][0]).to_bytes(2, "big") and first_bundle[2:2 + len(rows[0][0])] == rows[0][0]
    assert refs == [(i, f"r{i}") for i in range(0, 600, 100)]


def test_the_hook_runs_in_the_transaction_with_the_bodies(store):
    seen = []

    def hook(conn, first, bodies):
        seen.append((first, bodies, conn.exec_driver_sql("SELECT sum(count) FROM entry_chunks").scalar()))

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
        store.append_bodies([row(1), (body, "model", None)])
    assert store.count() == 0


def test_only_entries_with_a_ref_have_a_ref_row_and_lookups_use_its_key(store):
    store.append_bodies([row(1, ref="x"), row(2), row(3)])
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT ref, idx FROM entry_refs").all() == [("x", 0)]
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN SELECT idx FROM entry_refs WHERE ref = 'x'").all()
    assert "USING INDEX sqlite_autoindex_entry_refs" in plan[0][-1]
    assert store.by_ref("x").record.id == "m1"


def test_ids_are_compared_with_the_entries_from_checked_through(store):
    store.append_bodies([row(1), row(2)])
    store.append_bodies([row(3)])
    # The caller checked the log up to its size 2; entry 2 came since, and is compared.
    with pytest.raises(InvalidInput, match=r"records\[1\]: already recorded at index 2"):
        store.append_bodies([row(4), row(3)], checked_through=2)
    # By default the whole log is compared.
    with pytest.raises(InvalidInput, match=r"records\[0\]: already recorded at index 0"):
        store.append_bodies([row(1)])
    assert store.count() == 3


def test_entries_before_checked_through_are_the_callers_to_check(store):
    # The workspace passes the size its reference check saw, having refused every id it
    # found: the store does not read those entries again (and so would not see a duplicate).
    store.append_bodies([row(1)])
    assert store.append_bodies([row(1)], checked_through=1) == 1


def test_a_database_of_the_schema_before_chunks_is_refused(tmp_path):
    con = sqlite3.connect(tmp_path / "old.db")
    con.execute("CREATE TABLE entries (idx INTEGER PRIMARY KEY, id TEXT, kind TEXT, at TEXT, ref TEXT, body BLOB)")
    con.commit()
    con.close()
    with pytest.raises(MastError, match="made by an older mast.*re-create it"):
        Store.sqlite(tmp_path / "old.db")


def test_every_connection_gets_the_larger_cache_and_rarer_checkpoints(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SQLITE_WAL_CHECKPOINT_PAGES
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL, still
