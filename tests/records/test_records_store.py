"""The store: append-only in the database itself, atomic, ordered, and quick to read."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time

import pytest
from sqlalchemy import insert

from mast.errors import InvalidInput
from mast.records.canonical import record_bytes, record_id
from mast.records.kinds import parse_record
from mast.records.store import Entry, Store, entries_table


def model(i: int, **extra) -> dict:
    return {"kind": "model", "at": "2025-01-01T00:00:00Z", "id": f"m{i}", "name": f"Model {i}", **extra}


@pytest.fixture
def store(tmp_path):
    s = Store.sqlite(tmp_path / "mast.db", create=True)
    yield s
    s.close()


@pytest.mark.parametrize("statement", [
    "UPDATE entries SET kind = 'stage'",
    "UPDATE entries SET body = x'00' WHERE idx = 0",
    "DELETE FROM entries",
    "DELETE FROM entries WHERE idx = 1",
])
def test_the_database_refuses_to_change_or_remove_an_entry(published, statement):
    db = published / ".mast" / "mast.db"
    con = sqlite3.connect(db)
    before = con.execute("SELECT * FROM entries ORDER BY idx").fetchall()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(statement)
    con.rollback()
    assert con.execute("SELECT * FROM entries ORDER BY idx").fetchall() == before
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
    assert [e.record.id for e in store.entries(kind="model")] == ["m1", "m2", "m3"]


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
    rows = []
    for i in range(100_000):
        data = {"kind": "eval", "at": "2025-01-01T00:00:00Z", "audience": "public", "model": "m1",
                "task": f"t{i % 50}", "metrics": {"correct": i, "n": 100_000}}
        body = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        rows.append({"idx": i, "id": hashlib.sha256(body).hexdigest(), "kind": "eval", "at": data["at"],
                     "ref": None, "body": body})
    with store.engine.begin() as conn:
        conn.execute(insert(entries_table), rows)
    start = time.perf_counter()
    records = store.records()
    elapsed = time.perf_counter() - start
    assert len(records) == 100_000
    assert record_bytes(records[-1]) == rows[-1]["body"]
    assert elapsed < 10, f"reading 100k records took {elapsed:.1f}s"
