"""The tree's storage in SQL: batches of any size, proofs from stored tiles, append-only."""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, create_engine, inspect, text

from mast.errors import IntegrityFailure
from mast.ledger import merkle, tree


@pytest.fixture
def engine(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'tree.db'}")
    tree.create_tables(eng)
    yield eng
    eng.dispose()


def _leaves(start: int, count: int) -> list[bytes]:
    return [b"leaf %d" % i for i in range(start, start + count)]


def _grow(engine, batches: list[int]) -> merkle.MemoryTree:
    mem = merkle.MemoryTree()
    size = 0
    for count in batches:
        leaves = _leaves(size, count)
        with engine.begin() as conn:
            got = tree.extend(conn, size, leaves)
        for leaf in leaves:
            mem.append(merkle.leaf_hash(leaf))
        size += count
        assert got == mem.root(), f"root after {size} leaves"
    return mem


def test_an_empty_tree(engine):
    with engine.connect() as conn:
        assert tree.tree_size(conn) == 0
        assert tree.root(conn) == merkle.EMPTY_ROOT
    with engine.begin() as conn:
        assert tree.extend(conn, 0, []) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("batches", [
    [1] * 300,                       # one record at a time, across a tile boundary
    [256, 256, 1],
    [255, 1, 255, 2],
    [70_000],                        # a full tile of tile level 1
    [3, 65_533, 1, 700],
    [65_536 + 300, 1],
])
def test_batches_of_any_size_build_the_same_tree(engine, batches):
    mem = _grow(engine, batches)
    n = mem.size
    with engine.connect() as conn:
        assert tree.tree_size(conn) == n
        assert tree.root(conn) == mem.root()
        source = tree.SqlNodeSource(conn)
        rnd = random.Random(n)
        for _ in range(40):
            size = rnd.randint(1, n)
            index = rnd.randrange(size)
            assert tree.root(conn, size) == mem.root(size)
            assert merkle.inclusion_proof(source, index, size) == merkle.inclusion_proof(mem, index, size)
            old = rnd.randint(1, size)
            assert merkle.consistency_proof(source, old, size) == merkle.consistency_proof(mem, old, size)
        assert tree.inclusion_proof(conn, n - 1) == merkle.inclusion_proof(mem, n - 1, n)
        assert tree.consistency_proof(conn, 1) == merkle.consistency_proof(mem, 1, n)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=8))
def test_any_batches_give_the_roots_and_proofs_of_the_whole_tree(batches):
    eng = create_engine("sqlite://")
    tree.create_tables(eng)
    mem = _grow(eng, batches)
    with eng.connect() as conn:
        source = tree.SqlNodeSource(conn)
        for level, row in enumerate(mem.levels):
            for index in range(0, len(row), max(1, len(row) // 20)):
                assert source.node(level, index) == row[index]
    eng.dispose()


def test_every_complete_subtree_is_readable_and_nothing_else(engine):
    mem = _grow(engine, [300, 5])
    with engine.connect() as conn:
        source = tree.SqlNodeSource(conn)
        for level, row in enumerate(mem.levels):
            assert [source.node(level, i) for i in range(len(row))] == row
        with pytest.raises(KeyError):
            source.node(0, 305)
        with pytest.raises(KeyError):
            source.node(3, 38)        # leaves 304..311: incomplete
        with pytest.raises(KeyError):
            source.node(9, 0)


def test_a_proof_at_a_size_costs_two_queries(engine):
    _grow(engine, [5000])
    with engine.connect() as conn:
        source = tree.SqlNodeSource(conn)
        merkle.inclusion_proof(source, 1234, 5000)
        assert source.queries <= 2
        source = tree.SqlNodeSource(conn)
        merkle.consistency_proof(source, 777, 5000)
        assert source.queries <= 2


def test_extending_elsewhere_than_the_end_is_refused(engine):
    _grow(engine, [10])
    with engine.begin() as conn, pytest.raises(IntegrityFailure, match="next leaf is 10"):
        tree.extend(conn, 9, [b"x"])
    with engine.begin() as conn, pytest.raises(IntegrityFailure, match="next leaf is 10"):
        tree.extend(conn, 11, [b"x"])


def test_no_root_or_proof_beyond_the_tree(engine):
    _grow(engine, [10])
    with engine.connect() as conn:
        with pytest.raises(ValueError):
            tree.root(conn, 11)
        with pytest.raises(ValueError):
            tree.inclusion_proof(conn, 3, 11)
        with pytest.raises(ValueError):
            tree.consistency_proof(conn, 3, 11)


def test_tiles_are_tlog_tiles(engine):
    mem = _grow(engine, [600])
    with engine.connect() as conn:
        assert tree.read_tile(conn, 0, 0) == b"".join(mem.levels[0][:256])
        assert tree.read_tile(conn, 0, 1, 10) == b"".join(mem.levels[0][256:266])
        assert tree.read_tile(conn, 0, 2, 88) == b"".join(mem.levels[0][512:600])
        assert tree.read_tile(conn, 0, 2, 89) is None
        assert tree.read_tile(conn, 0, 3) is None
        assert tree.read_tile(conn, 1, 0, 2) == b"".join(mem.levels[8][:2])
        with pytest.raises(ValueError):
            tree.read_tile(conn, 0, 0, 0)


@pytest.mark.parametrize("statement", [
    "UPDATE log_tiles SET hashes = x'00'",
    "DELETE FROM log_tiles",
    "UPDATE log_nodes SET hash = x'00'",
    "DELETE FROM log_nodes WHERE idx = 0",
])
def test_the_database_refuses_to_rewrite_the_tree(engine, tmp_path, statement):
    _grow(engine, [300])
    con = sqlite3.connect(tmp_path / "tree.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute(statement)
    con.close()


def test_tables_can_join_the_stores_metadata(tmp_path):
    md = MetaData()
    tree.create_tables(md)
    tree.create_tables(md)           # twice is harmless
    assert {"log_tiles", "log_nodes"} <= set(md.tables)
    eng = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    md.create_all(eng)
    with eng.begin() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
        assert names == {"log_tiles_no_update", "log_tiles_no_delete", "log_nodes_no_update", "log_nodes_no_delete"}
        assert tree.extend(conn, 0, [b"a", b"b"]) == merkle.MemoryTree.of_leaves([b"a", b"b"]).root()
    assert set(inspect(eng).get_table_names()) == {"log_tiles", "log_nodes"}
    eng.dispose()


def test_extend_runs_in_the_callers_transaction(engine):
    _grow(engine, [5])
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            tree.extend(conn, 5, [b"x"] * 300)
            raise RuntimeError("the entries failed to insert")
    with engine.connect() as conn:
        assert tree.tree_size(conn) == 5
