"""`verify_log`: a log written as the store writes it verifies; any changed, missing, extra or
reordered entry, kind, ref or stored hash is found and named by its first bad index."""

from __future__ import annotations

import gc
import sqlite3
from contextlib import contextmanager

import pytest

from mast.errors import IntegrityFailure
import tampering

from mast import bundles
from mast.ledger import merkle, tree
from mast.ledger.verify import LogIntegrityFailure, VerifyResult, verify_log
from mast.records.canonical import record_bytes
from mast.records.kinds import parse_record
from mast.records.store import Store

N = 700  # two full tiles and a partial one


def _record(i: int):
    data = {"kind": "model", "at": "2025-01-01T00:00:00Z", "id": f"m{i}", "name": f"Model {i}"}
    if i % 5 == 0:
        data["at"] = "2025-01-01T02:30:00+02:30"
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


@contextmanager
def tampered(db):
    """A connection to the database behind mast's back (triggers dropped), committed at the end."""
    con = tampering.connect(db)
    try:
        yield con
        con.commit()
    finally:
        con.close()


def tamper(db, *statements: str, params=()) -> None:
    """Run SQL on the database behind mast's back (the stored tree's tables, here)."""
    with tampered(db) as con:
        for statement in statements:
            con.execute(statement, params) if "?" in statement else con.execute(statement)


def body_of(db, index: int) -> bytes:
    con = sqlite3.connect(db)
    try:
        return tampering.body_of(con, index)
    finally:
        con.close()


def failed_at(result: VerifyResult, index: int | None, *words: str) -> None:
    assert not result.ok
    assert result.bad_index == index, result.message
    for word in words:
        assert word in result.message, result.message


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
    with tampered(db) as con:
        tampering.flip_byte(con, 123, b"Model")
    failed_at(check(db), 123, "entry 123", "not the entry the tree holds")


def test_a_changed_body_with_its_leaf_hash_fixed_up(db):
    # The stored leaf hash made the new body's: the node above it no longer agrees.
    with tampered(db) as con:
        tampering.set_body(con, 400, body_of(db, 400).replace(b"Model 400", b"Model 4OO"))
        tampering.fix_leaf_hash(con, 400)
    failed_at(check(db), 400, "node 200 at level 1 (over entries from 400)")


def test_a_changed_body_with_the_tree_rebuilt_is_caught_by_a_checkpoint(db):
    roots = {s: merkle.MemoryTree.of_leaves(record_bytes(_record(i)) for i in range(s)).root() for s in (300, N)}
    with tampered(db) as con:
        tampering.set_body(con, 400, body_of(db, 400).replace(b"Model 400", b"Model 4OO"))
        tampering.rebuild_tree(con)
    assert check(db).ok                                   # the tree alone agrees with the entries
    failed_at(check(db, checkpoints=list(roots.items())), None, f"checkpoint of size {N}", "was changed")


def test_a_body_that_is_not_json(db):
    with tampered(db) as con:
        tampering.set_body(con, 650, b"not json at all")
    failed_at(check(db), 650, "entry 650", "not JSON")


def test_a_deleted_entry(db):
    with tampered(db) as con:
        tampering.delete_entry(con, 256)
    failed_at(check(db), 256, "entry 256 is missing")


def test_a_deleted_chunk_leaves_a_gap(db):
    with tampered(db) as con:
        first = tampering.delete_chunk(con, 400)
    failed_at(check(db), first, f"entry {first} is missing", "jump")


def test_overlapping_chunks(db):
    with tampered(db) as con:
        tampering.move_chunk(con, 650, 640)
    failed_at(check(db), 640, "entry 640", "out of order")


def test_two_swapped_entries(db):
    with tampered(db) as con:
        tampering.swap(con, 10, 20)
    failed_at(check(db), 10, "entry 10", "reordered")


def test_the_first_entry_deleted(db):
    with tampered(db) as con:
        tampering.delete_chunk(con, 0)
    failed_at(check(db), 0, "entry 0 is missing")


def test_an_entry_moved_before_the_first(db):
    with tampered(db) as con:
        tampering.move_chunk(con, 0, -1)
    failed_at(check(db), 0, "entry 0", "out of order", "index -1")


def test_a_count_that_disagrees_with_the_framing(db):
    first = 1                                                  # batch 2's first chunk: 1-256
    with tampered(db) as con:
        con.execute("UPDATE entry_chunks SET count = count + 1 WHERE first = ?", (first,))
    failed_at(check(db), 257, "entry 257", "says it holds 257 entries but frames 256")


def test_a_broken_framing(db):
    with tampered(db) as con:
        (blob,) = con.execute("SELECT bodies FROM entry_chunks WHERE first = 300").fetchone()
        con.execute("UPDATE entry_chunks SET bodies = ? WHERE first = 300", (bytes(blob)[:-1],))
    failed_at(check(db), 300, "entry 300", "framing")


def test_a_gap_is_named_after_the_entries_before_it_are_checked(db):
    # Entry 200 changed and a chunk from 557 deleted: 200 is the first bad one.
    with tampered(db) as con:
        tampering.flip_byte(con, 200, b"Model")
        tampering.delete_chunk(con, 600)
    failed_at(check(db), 200, "entry 200", "not the entry the tree holds")


def test_a_deleted_entry_with_the_tree_rebuilt_to_match_is_caught_by_a_checkpoint(db):
    # The remaining bodies, in order, are a consistent log of N - 1 entries: only a
    # checkpoint of the log as it was can tell.
    roots = [(s, merkle.MemoryTree.of_leaves(record_bytes(_record(i)) for i in range(s)).root()) for s in (1, 300)]
    with tampered(db) as con:
        tampering.delete_entry(con, 5)
        tampering.rebuild_tree(con)
    assert check(db).ok and check(db).size == N - 1
    failed_at(check(db, checkpoints=roots), None, "checkpoint of size 300", "an entry from 1 to 299")


def test_a_chunk_stored_as_text(db):
    # The same bytes, but TEXT instead of the BLOB the store writes: the hashes still match,
    # yet readers that expect bytes would fail on it. Named at the chunk's first entry.
    with tampered(db) as con:
        first = tampering.chunk_first(con, 42)
        con.execute("UPDATE entry_chunks SET bodies = CAST(bodies AS TEXT) WHERE first = ?", (first,))
    failed_at(check(db), first, f"entry {first}", "stored as TEXT")


def test_a_body_not_json_is_named_as_such_before_the_tree(db):
    # Not the entry the tree holds either; of one entry's failures, that it is not JSON is named.
    with tampered(db) as con:
        tampering.set_body(con, 3, b'{"kind": "model", "at": ')
    failed_at(check(db), 3, "entry 3", "not JSON")


def test_a_kind_that_disagrees_with_its_record(db):
    with tampered(db) as con:
        tampering.set_kind(con, 320, "eval")
    failed_at(check(db), 320, "entry 320", "says it is of kind 'eval' but the record is of kind 'model'")


def small_log(path, records) -> None:
    store = Store.sqlite(path, create=True)
    tree.create_tables(store.engine)
    append(store, records)
    store.close()


def test_a_kind_in_a_chunk_of_one_kind(tmp_path):
    # Kinds are not hashed: changing one leaves the tree as it was.
    small_log(tmp_path / "u.db", [_record(i) for i in range(1, 11)])      # models only
    assert check(tmp_path / "u.db").ok
    with tampered(tmp_path / "u.db") as con:
        tampering.set_kind(con, 3, "stage")
    failed_at(check(tmp_path / "u.db"), 3, "entry 3", "says it is of kind 'stage' but the record is of kind 'model'")


def test_a_record_with_a_nested_kind_key_is_parsed_for_its_own(tmp_path):
    # A body holding `"kind":` twice is parsed: the nested key does not stand in for its kind.
    record = parse_record({"kind": "eval", "at": "2025-01-01T00:00:00Z", "model": "m1", "task": "t",
                           "metrics": {"kind": 1}})
    assert record_bytes(record).count(b'"kind":') == 2
    small_log(tmp_path / "n.db", [_record(1), record])
    assert check(tmp_path / "n.db").ok
    with tampered(tmp_path / "n.db") as con:
        tampering.set_kind(con, 1, "model")
    failed_at(check(tmp_path / "n.db"), 1, "kind 'model' but the record is of kind 'eval'")


def test_a_kinds_list_of_the_wrong_length(db):
    with tampered(db) as con:
        con.execute("UPDATE entry_chunks SET kinds = kinds || ',model' WHERE first = 300")
    failed_at(check(db), 301, "entry 301", "2 kinds for 1 entries")


def test_a_changed_ref_row(db):
    with tampered(db) as con:
        tampering.set_ref(con, 300, "someone-else")
    failed_at(check(db), 300, "entry 300", "entry_refs gives it the ref 'someone-else'", "'model-300'")


def test_a_missing_ref_row(db):
    with tampered(db) as con:
        tampering.remove_ref(con, 300)
    failed_at(check(db), 300, "entry 300", "entry_refs has no row for it")


def test_an_extra_ref_row(db):
    with tampered(db) as con:
        tampering.add_ref(con, 301, "extra")
    failed_at(check(db), 301, "entry 301", "entry_refs gives it the ref 'extra', but the record has no ref")


def test_a_ref_row_beyond_the_log(db):
    with tampered(db) as con:
        tampering.add_ref(con, N + 3, "later")
    failed_at(check(db), N + 3, f"entry {N + 3}", f"the log has {N} entries")


def test_a_ref_row_moved_to_another_entry(db):
    with tampered(db) as con:
        con.execute("UPDATE entry_refs SET idx = 301 WHERE idx = 300")
    failed_at(check(db), 300, "entry 300", "entry_refs has no row for it")


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
    with tampered(db) as con:
        tampering.truncate(con, N - 3)
    failed_at(check(db), N - 3, "beyond", "entries are missing")


def test_a_log_cut_back_to_a_tile_boundary(db):
    with tampered(db) as con:
        tampering.truncate(con, 512)
    failed_at(check(db), 512, "beyond")


def test_an_entry_added_without_the_tree(db):
    record = _record(10_000)
    with tampered(db) as con:
        tampering.append(con, record_bytes(record), record.kind, record.ref)
    failed_at(check(db), N, f"node {N}", "missing")


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
    with tampered(db) as con:
        tampering.delete_entry(con, 7)
    result = check(db)
    with pytest.raises(LogIntegrityFailure) as caught:
        result.raise_for_failure()
    assert isinstance(caught.value, IntegrityFailure) and caught.value.exit_code == 4
    assert caught.value.index == 7 and "entry 7" in str(caught.value)


def test_an_in_memory_log_verifies_on_its_one_connection():
    store = Store.open("sqlite://")
    tree.create_tables(store.engine)
    append(store, [_record(i) for i in range(20)])
    with store.engine.connect() as conn:
        assert verify_log(conn).ok
    store.close()
