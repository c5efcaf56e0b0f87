"""The store: append-only in the database itself, atomic, ordered, and quick to read."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time

import pytest
from mast import bundles
from mast.errors import InvalidInput
from mast.records.canonical import record_bytes, record_id
from mast.records.kinds import parse_record
from mast.records.store import CHUNK, Entry, Store


def model(i: int, **extra) -> dict:
    return {"kind": "model", "at": "2025-01-01T00:00:00Z", "id": f"m{i}", "name": f"Model {i}", **extra}


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(tmp_path / "mast.db", create=True)
    yield s
    s.close()


@pytest.mark.parametrize("statement", [
    "UPDATE entry_chunks SET kinds = 'stage'",
    "UPDATE entry_chunks SET bodies = x'00' WHERE first = 0",
    "UPDATE entry_chunks SET first = first + 1",
    "DELETE FROM entry_chunks",
    "DELETE FROM entry_chunks WHERE first = 1",
    "UPDATE entry_refs SET idx = 2",
    "DELETE FROM entry_refs",
])
def test_the_database_refuses_to_change_or_remove_an_entry(published, statement):
    db = published / ".mast" / "mast.db"
    con = sqlite3.connect(db)
    dump = "SELECT * FROM entry_chunks ORDER BY first"
    before = con.execute(dump).fetchall()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(statement)
    con.rollback()
    assert con.execute(dump).fetchall() == before
    con.close()


def test_sqlite_runs_in_wal_mode_with_full_sync(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_append_returns_entries_at_consecutive_indexes(store):
    first = store.append([parse_record(model(1)), parse_record(model(2, ref="two"))])
    second = store.append([parse_record(model(3))])
    assert [e.index for e in first + second] == [0, 1, 2]
    assert all(isinstance(e, Entry) and e.id == record_id(e.record) for e in first + second)
    assert store.count() == 3
    assert store.by_ref("two") == first[1]
    assert store.by_ref("nope") is None
    assert store.by_id(second[0].id) == second[0]
    assert store.by_index(2) == second[0]
    assert store.by_index(3) is None and store.by_id("0" * 64) is None and store.by_id("not hex") is None
    assert [e.record.id for e in store.entries(kind="model")] == ["m1", "m2", "m3"]
    assert list(store.keys()) == [(e.index, e.id, "model", e.record.ref) for e in first + second]


def test_entries_of_a_kind_are_found_in_chunks_of_mixed_kinds(store):
    records = [parse_record(model(i)) if i % 3 else
               parse_record({"kind": "stage", "at": "2025-01-01T00:00:00Z", "model": f"m{i}", "stage": "training"})
               for i in range(600)]
    store.append(records)
    assert [e.index for e in store.entries(kind="stage")] == list(range(0, 600, 3))
    assert [i for i, _ in store.bodies_of("stage")] == list(range(0, 600, 3))
    assert list(store.entries(kind="stag")) == [] and store.records(kind="model") == [r for r in records if r.kind == "model"]
    assert store.by_index(599).record == records[599] and store.by_id(record_id(records[300])).index == 300
    assert [i for i, _, _ in store.bodies(250, 260)] == list(range(250, 260))


def test_the_same_record_twice_is_invalid_and_writes_nothing(store):
    store.append([parse_record(model(1))])
    with pytest.raises(InvalidInput, match="already recorded at index 0"):
        store.append([parse_record(model(2)), parse_record(model(1))])
    assert store.count() == 1


def test_a_ref_is_unique_in_the_store(store):
    store.append([parse_record(model(1, ref="x"))])
    with pytest.raises(InvalidInput, match="'x' is already used at index 0"):
        store.append([parse_record(model(2, ref="x"))])
    assert store.count() == 1


def test_bodies_are_the_canonical_bytes(store):
    records = [parse_record(model(i)) for i in range(3)]
    store.append(records)
    assert list(store.bodies()) == [(i, record_id(r), record_bytes(r)) for i, r in enumerate(records)]
    assert [i for i, _, _ in store.bodies(1, 2)] == [1]


def test_concurrent_writers_get_distinct_consecutive_indexes(tmp_path):
    path = tmp_path / "mast.db"
    Store.sqlite(path, create=True).close()
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        s = Store.sqlite(path)
        try:
            for i in range(10):
                s.append([parse_record(model(w * 100 + i))])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = Store.sqlite(path)
    assert [e.index for e in s.entries()] == list(range(40))
    s.close()


@pytest.mark.slow
def test_reading_100k_records_is_fast(store):
    # Written straight into the table: this measures reading, not canonicalisation. With
    # integers and ASCII text only, sorted compact json.dumps *is* RFC 8785.
    bodies = []
    for i in range(100_000):
        data = {"kind": "eval", "at": "2025-01-01T00:00:00Z", "audience": "public", "model": "m1",
                "task": f"t{i % 50}", "metrics": {"correct": i, "n": 100_000}}
        bodies.append(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO entry_chunks (first, count, kinds, bodies) VALUES (?, ?, ?, ?)",
                             [(k, len(bodies[k:k + CHUNK]), ",".join(["eval"] * len(bodies[k:k + CHUNK])),
                               bundles.frame(bodies[k:k + CHUNK])) for k in range(0, len(bodies), CHUNK)])
    start = time.perf_counter()
    records = store.records()
    elapsed = time.perf_counter() - start
    assert len(records) == 100_000
    assert record_bytes(records[-1]) == bodies[-1]
    assert elapsed < 10, f"reading 100k records took {elapsed:.1f}s"
