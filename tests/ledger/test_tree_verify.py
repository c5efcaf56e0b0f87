"""`verify_log`: a log written as the store writes it verifies; any changed, missing, extra or
reordered entry, projection or stored hash is found and named by its first bad index."""

from __future__ import annotations

import gc
import hashlib
import sqlite3

import pytest

from mast.errors import IntegrityFailure
from mast.ledger import merkle, tree
from mast.ledger import verify as verify_module
from mast.ledger.verify import LogIntegrityFailure, VerifyResult, verify_log
from mast.records.canonical import record_bytes, sha256_hex
from mast.records.kinds import parse_record
from mast.records.store import Store
from mast.vocabulary import iso

N = 700  # two full tiles and a partial one


def _record(i: int):
    data = {"kind": "model", "at": "2025-01-01T00:00:00Z", "id": f"m{i}", "name": f"Model {i}"}
    if i % 5 == 0:
        data["at"] = "2025-01-01T02:30:00+02:30"       # the at column holds it in UTC
    if i % 3 == 0:
        data["ref"] = f"model-{i}"
    if i % 11 == 0:
        data = {"kind": "stage", "at": "2025-02-01T00:00:00Z", "model": f"m{i - 1}", "stage": "training"}
    return parse_record(data)


def append(store: Store, records) -> None:
    """What the workspace does, less the checkpoint: the store's one write path, the tree
    extended in the same transaction."""
    store.append(records, within=tree.extend)


@pytest.fixture
def db(tmp_path):
    store = Store.sqlite(tmp_path / "mast.db", create=True)
    tree.create_tables(store.engine)
    records = [_record(i) for i in range(N)]
    for lo, hi in [(0, 1), (1, 300), (300, 301), (301, 650), (650, N)]:
        append(store, records[lo:hi])
    store.close()
    return tmp_path / "mast.db"


def check(db, **kwargs) -> VerifyResult:
    store = Store.sqlite(db)
    try:
        with store.engine.connect() as conn:
            return verify_log(conn, **kwargs)
    finally:
        store.close()


def tamper(db, *statements: str, params=()) -> None:
    """Change the database behind mast's back, as someone with the file could."""
    con = sqlite3.connect(db)
    for name, in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        con.execute(statement, params) if "?" in statement else con.execute(statement)
    con.commit()
    con.close()


def body_of(db, index: int) -> bytes:
    con = sqlite3.connect(db)
    body = con.execute("SELECT body FROM entries WHERE idx = ?", (index,)).fetchone()[0]
    con.close()
    return body


def failed_at(result: VerifyResult, index: int | None, *words: str) -> None:
    assert not result.ok
    assert result.bad_index == index, result.message
    for word in words:
        assert word in result.message


# -- a good log ------------------------------------------------------------------------------


def test_a_log_written_in_batches_verifies(db):
    result = check(db)
    assert result.ok and result.size == N and result.message is None
    assert result.root == merkle.MemoryTree.of_leaves(record_bytes(_record(i)) for i in range(N)).root()
    assert result.raise_for_failure() is result


def test_an_empty_log_verifies(tmp_path):
    store = Store.sqlite(tmp_path / "e.db", create=True)
    tree.create_tables(store.engine)
    store.close()
    result = check(tmp_path / "e.db")
    assert result.ok and result.size == 0 and result.root == merkle.EMPTY_ROOT


def test_small_batches_of_verification_agree(db):
    store = Store.sqlite(db)
    with store.engine.connect() as conn:
        assert verify_log(conn, batch=256).root == verify_log(conn).root
        with pytest.raises(ValueError):
            verify_log(conn, batch=100)
    store.close()


def test_checkpoints_are_compared_with_the_recomputed_tree(db):
    roots = {s: merkle.MemoryTree.of_leaves(record_bytes(_record(i)) for i in range(s)).root() for s in (1, 300, N)}
    result = check(db, checkpoints=list(roots.items()))
    assert result.ok and result.checkpoints == 3
    wrong = check(db, checkpoints=[(300, roots[1])])
    failed_at(wrong, None, "checkpoint of size 300", roots[1].hex())
    beyond = check(db, checkpoints=[(N + 5, roots[N])])
    failed_at(beyond, N, f"size {N + 5}", "beyond")


# -- tampering with entries ------------------------------------------------------------------


def test_a_changed_byte_of_a_body(db):
    body = bytearray(body_of(db, 123))
    body[body.index(b"Model")] ^= 0x20
    tamper(db, "UPDATE entries SET body = ? WHERE idx = 123", params=(bytes(body),))
    failed_at(check(db), 123, "entry 123", "SHA-256")


def test_a_changed_body_with_its_id_recomputed(db):
    body = body_of(db, 400).replace(b"Model 400", b"Model 4OO")
    tamper(db, "UPDATE entries SET body = ?, id = ? WHERE idx = 400", params=(body, sha256_hex(body)))
    failed_at(check(db), 400, "entry 400", "not the entry the tree holds")


def test_a_body_that_is_not_json(db):
    body = b"not json at all"
    tamper(db, "UPDATE entries SET body = ?, id = ? WHERE idx = 650", params=(body, sha256_hex(body)))
    failed_at(check(db), 650, "entry 650", "not JSON")


def test_a_deleted_entry(db):
    tamper(db, "DELETE FROM entries WHERE idx = 256")
    failed_at(check(db), 256, "entry 256 is missing")


def test_two_swapped_entries(db):
    tamper(db, "UPDATE entries SET idx = -1 WHERE idx = 10", "UPDATE entries SET idx = 10 WHERE idx = 20",
           "UPDATE entries SET idx = 20 WHERE idx = -1")
    failed_at(check(db), 10, "entry 10", "reordered")


def test_the_first_entry_deleted(db):
    tamper(db, "DELETE FROM entries WHERE idx = 0")
    failed_at(check(db), 0, "entry 0 is missing")


def test_an_entry_moved_before_the_first(db):
    tamper(db, "UPDATE entries SET idx = -1 WHERE idx = 0")
    failed_at(check(db), 0, "entry 0", "out of order", "index -1")


def test_a_gap_is_named_after_the_entries_before_it_are_checked(db):
    # Entry 200 changed (its id fixed up) and entry 500 deleted: 200 is the first bad one.
    body = body_of(db, 200).replace(b"Model 200", b"Model 2OO")
    tamper(db, "UPDATE entries SET body = ?, id = ? WHERE idx = 200", params=(body, sha256_hex(body)))
    tamper(db, "DELETE FROM entries WHERE idx = 500")
    failed_at(check(db), 200, "entry 200", "not the entry the tree holds")


def test_a_deleted_entry_is_found_even_with_the_tree_rebuilt_to_match(db):
    # The remaining bodies, in order, are a consistent log of N - 1 entries; but index 5 is
    # missing from the entries, and that is named.
    tamper(db, "DELETE FROM entries WHERE idx = 5", "DELETE FROM log_tiles", "DELETE FROM log_nodes")
    store = Store.sqlite(db)
    with store._write() as conn:
        bodies = [bytes(b) for (b,) in conn.exec_driver_sql("SELECT body FROM entries ORDER BY idx")]
        tree.extend(conn, 0, bodies)
    store.close()
    failed_at(check(db), 5, "entry 5 is missing")


def test_a_body_stored_as_text(db):
    # The same bytes, but TEXT instead of the BLOB the store writes: its id and hash still
    # match, yet readers that expect bytes would fail on it.
    tamper(db, "UPDATE entries SET body = CAST(body AS TEXT) WHERE idx = 42")
    failed_at(check(db), 42, "entry 42", "stored as TEXT")


def test_a_body_not_json_is_named_as_such_before_the_tree(db):
    # Its id fixed up: the stream finds it is not the entry the tree holds, the projection
    # pass that it is not JSON; of one entry's failures, that one is named.
    body = b'{"kind": "model", "at": '
    tamper(db, "UPDATE entries SET body = ?, id = ? WHERE idx = 3", params=(body, sha256_hex(body)))
    failed_at(check(db), 3, "entry 3", "not JSON")


def test_a_bad_id_is_named_before_a_bad_projection_of_the_same_entry(db):
    tamper(db, "UPDATE entries SET id = '" + "0" * 64 + "', kind = 'eval' WHERE idx = 320")
    failed_at(check(db), 320, "entry 320", "SHA-256")


def test_a_bad_projection_before_a_bad_id_is_named_first(db):
    tamper(db, "UPDATE entries SET kind = 'eval' WHERE idx = 310",
           "UPDATE entries SET id = '" + "0" * 64 + "' WHERE idx = 320")
    failed_at(check(db), 310, "entry 310", "kind column says 'eval'")


def test_verify_leaves_the_garbage_collector_as_it_was(db):
    assert gc.isenabled()
    assert check(db).ok
    assert gc.isenabled()
    gc.disable()
    try:
        assert check(db).ok
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_truncated_log(db):
    tamper(db, f"DELETE FROM entries WHERE idx >= {N - 3}")
    failed_at(check(db), N - 3, "beyond", "entries are missing")


def test_a_log_cut_back_to_a_tile_boundary(db):
    tamper(db, "DELETE FROM entries WHERE idx >= 512")
    failed_at(check(db), 512, "beyond")


def test_an_entry_added_without_the_tree(db):
    record = _record(10_000)
    body = record_bytes(record)
    tamper(db, "INSERT INTO entries (idx, id, kind, at, ref, body) VALUES (?, ?, ?, ?, ?, ?)",
           params=(N, sha256_hex(body), record.kind, iso(record.at), record.ref, body))
    failed_at(check(db), N, f"node {N}", "missing")


@pytest.mark.parametrize("column,value,words", [
    ("kind", "'eval'", ["kind column says 'eval'"]),
    ("ref", "'someone-else'", ["ref column says 'someone-else'"]),
    ("ref", "NULL", ["ref column says None"]),
    ("at", "'2024-01-01T00:00:00Z'", ["at column says '2024-01-01T00:00:00Z'"]),
    ("id", "'" + "0" * 64 + "'", ["SHA-256"]),
])
def test_a_projection_that_disagrees_with_its_record(db, column, value, words):
    tamper(db, f"UPDATE entries SET {column} = {value} WHERE idx = 300")
    failed_at(check(db), 300, "entry 300", *words)


def test_the_at_column_is_compared_as_an_instant(db):
    # Entry 5's record says 02:30+02:30; its column, 00:00Z: that is the same moment.
    assert b"+02:30" in body_of(db, 5)
    assert check(db).ok
    tamper(db, "UPDATE entries SET at = '2025-01-01T02:30:00Z' WHERE idx = 5")
    failed_at(check(db), 5, "at column")


# -- tampering with the stored tree ----------------------------------------------------------


def test_a_changed_leaf_hash_in_a_tile(db):
    con = sqlite3.connect(db)
    blob = bytearray(con.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 1").fetchone()[0])
    con.close()
    blob[32 * 7] ^= 1                              # leaf 256 + 7
    tamper(db, "UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = 1", params=(bytes(blob),))
    failed_at(check(db), 263, "entry 263")


def test_a_changed_inner_node_in_a_tile(db):
    con = sqlite3.connect(db)
    blob = bytearray(con.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0").fetchone()[0])
    con.close()
    blob[32 * (256 + 128 + 3)] ^= 1                # row 2 (height 2), node 3: leaves 12..15
    tamper(db, "UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = 0", params=(bytes(blob),))
    failed_at(check(db), 12, "node 3 at level 2")


def test_a_missing_tile(db):
    tamper(db, "DELETE FROM log_tiles WHERE level = 0 AND idx = 1")
    failed_at(check(db), 256, "missing tile 1")


def test_a_changed_single_hash(db):
    tamper(db, "UPDATE log_nodes SET hash = zeroblob(32) WHERE level = 0 AND idx = 690")
    failed_at(check(db), 690, "entry 690")


def test_a_missing_single_hash_at_the_right_edge(db):
    tamper(db, "DELETE FROM log_nodes WHERE level = 1 AND idx = 300")   # leaves 600, 601
    failed_at(check(db), 600, "missing", "node 300 at level 1")


def test_a_hash_stored_beyond_the_entries(db):
    tamper(db, f"INSERT INTO log_nodes VALUES (3, {N // 8 + 2}, zeroblob(32))")
    failed_at(check(db), N, "beyond")


# -- failures reach the CLI as exit 4 --------------------------------------------------------


def test_a_failure_raises_an_integrity_failure_with_the_index(db):
    tamper(db, "DELETE FROM entries WHERE idx = 7")
    result = check(db)
    with pytest.raises(LogIntegrityFailure) as caught:
        result.raise_for_failure()
    assert isinstance(caught.value, IntegrityFailure) and caught.value.exit_code == 4
    assert caught.value.index == 7 and "entry 7" in str(caught.value)


@pytest.mark.parametrize("statements,index,words", [
    (["UPDATE entries SET kind = 'eval' WHERE idx = 301"], 301, "kind column"),
    (["UPDATE entries SET body = CAST(body AS TEXT) WHERE idx = 42"], 42, "stored as TEXT"),
    (["UPDATE entries SET body = x'7b', id = '" + hashlib.sha256(b"{").hexdigest() + "' WHERE idx = 9"], 9, "not JSON"),
    (["UPDATE entries SET kind = 'eval' WHERE idx = 310", "UPDATE entries SET id = 'x' WHERE idx = 320"], 310, "kind"),
    (["UPDATE entries SET kind = 'eval', id = 'x' WHERE idx = 320"], 320, "SHA-256"),
    (["DELETE FROM entries WHERE idx = 600"], 600, "missing"),
])
def test_the_python_path_finds_what_the_sql_path_finds(db, statements, index, words):
    tamper(db, *statements)
    store = Store.sqlite(db)
    with store.engine.connect() as conn:
        sql = verify_log(conn)
        py = verify_module._verify(conn, [], 1 << 16, use_sql_json=False)
    store.close()
    assert (sql.bad_index, sql.message) == (py.bad_index, py.message) == (index, sql.message)
    assert words in py.message


def test_ids_are_sha256_of_the_body(db):
    body = body_of(db, 0)
    con = sqlite3.connect(db)
    assert con.execute("SELECT id FROM entries WHERE idx = 0").fetchone()[0] == hashlib.sha256(body).hexdigest()
    con.close()


# -- the pipeline ----------------------------------------------------------------------------


def test_a_hashing_worker_gives_the_same_answers(db):
    store = Store.sqlite(db)
    with store.engine.connect() as conn:
        serial = verify_log(conn, batch=256, workers=0)
        parallel = verify_log(conn, batch=256, workers=1)
    store.close()
    assert parallel == serial and parallel.ok


@pytest.mark.parametrize("statement,index", [
    ("UPDATE entries SET id = '" + "0" * 64 + "' WHERE idx = 600", 600),
    ("DELETE FROM entries WHERE idx = 5", 5),
    ("UPDATE entries SET kind = 'eval' WHERE idx = 257", 257),
])
def test_a_hashing_worker_stops_at_the_first_bad_entry(db, statement, index):
    tamper(db, statement)
    store = Store.sqlite(db)
    with store.engine.connect() as conn:
        serial = verify_log(conn, batch=256, workers=0)
        parallel = verify_log(conn, batch=256, workers=1)
    store.close()
    assert parallel == serial and parallel.bad_index == index


def test_an_in_memory_log_verifies_on_its_one_connection():
    store = Store.open("sqlite://")
    tree.create_tables(store.engine)
    append(store, [_record(i) for i in range(20)])
    with store.engine.connect() as conn:
        assert verify_log(conn).ok
    store.close()
