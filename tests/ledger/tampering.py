"""Tampering with a log's database as someone holding the file could: the sqlite3 module on it,
the append-only triggers dropped first. The store keeps entries in chunks (`entry_chunks`:
first, count, kinds, framed bodies) with the refs beside them (`entry_refs`); these helpers
change one entry at a time and keep everything else as the store would have written it, so
that a test says which single thing an attacker changed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from mast import bundles
from mast.ledger import tree


def connect(db: Path) -> sqlite3.Connection:
    """A connection to `db` with every trigger dropped (commit it when done)."""
    con = sqlite3.connect(db)
    drop_triggers(con)
    return con


def drop_triggers(con: sqlite3.Connection) -> None:
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')


# -- reading ----------------------------------------------------------------------------------


def chunks(con: sqlite3.Connection) -> list[tuple[int, int, list[str], list[bytes]]]:
    """(first, count, kinds, bodies) of every chunk, in order."""
    return [(first, count, kinds.split(","), bundles.split(bytes(blob)))
            for first, count, kinds, blob in con.execute("SELECT first, count, kinds, bodies FROM entry_chunks "
                                                         "ORDER BY first")]


def entries(con: sqlite3.Connection) -> list[tuple[int, str, bytes]]:
    """(index, kind, body) of every entry, as the chunks place them."""
    return [(first + k, kind, body) for first, _, kinds, bodies in chunks(con)
            for k, (kind, body) in enumerate(zip(kinds, bodies))]


def bodies(con: sqlite3.Connection) -> list[bytes]:
    return [body for _, _, body in entries(con)]


def body_of(con: sqlite3.Connection, index: int) -> bytes:
    return _find(con, index)[3][index - _find(con, index)[0]]


def chunk_first(con: sqlite3.Connection, index: int) -> int:
    """Where the chunk holding entry `index` starts."""
    return _find(con, index)[0]


def _find(con: sqlite3.Connection, index: int) -> tuple[int, int, list[str], list[bytes]]:
    return next(c for c in chunks(con) if c[0] <= index < c[0] + c[1])


def _put(con: sqlite3.Connection, first: int, kinds: list[str], bodies_: list[bytes], at: int | None = None) -> None:
    """Replace the chunk that starts at `first` by one of these entries (starting at `at`)."""
    con.execute("DELETE FROM entry_chunks WHERE first = ?", (first,))
    if bodies_:
        con.execute("INSERT INTO entry_chunks (first, count, kinds, bodies) VALUES (?, ?, ?, ?)",
                    (first if at is None else at, len(bodies_), ",".join(kinds), bundles.frame(bodies_)))


# -- changing entries -------------------------------------------------------------------------


def set_body(con: sqlite3.Connection, index: int, body: bytes) -> None:
    """Entry `index`'s body replaced; its kind and ref rows left as they were."""
    first, _, kinds, bodies_ = _find(con, index)
    bodies_[index - first] = body
    _put(con, first, kinds, bodies_)


def flip_byte(con: sqlite3.Connection, index: int, marker: bytes) -> None:
    """One byte of entry `index` changed: the first after `marker` (which must be in its body)."""
    body = body_of(con, index)
    at = body.index(marker) + len(marker)
    set_body(con, index, body[:at] + bytes([body[at] ^ 0x01]) + body[at + 1:])


def set_kind(con: sqlite3.Connection, index: int, kind: str) -> None:
    """Entry `index`'s item in its chunk's `kinds` changed."""
    first, _, kinds, bodies_ = _find(con, index)
    kinds[index - first] = kind
    _put(con, first, kinds, bodies_)


def delete_entry(con: sqlite3.Connection, index: int) -> None:
    """Entry `index` removed and every later one moved down a place (chunks and refs), so that
    the chunks still tile the log: only the tree (or a checkpoint) can tell."""
    first, _, kinds, bodies_ = _find(con, index)
    k = index - first
    _put(con, first, kinds[:k] + kinds[k + 1:], bodies_[:k] + bodies_[k + 1:])
    for later, in con.execute("SELECT first FROM entry_chunks WHERE first > ? ORDER BY first", (index,)).fetchall():
        con.execute("UPDATE entry_chunks SET first = ? WHERE first = ?", (later - 1, later))
    con.execute("DELETE FROM entry_refs WHERE idx = ?", (index,))
    con.execute("UPDATE entry_refs SET idx = idx - 1 WHERE idx > ?", (index,))


def delete_chunk(con: sqlite3.Connection, index: int) -> int:
    """The chunk holding entry `index` removed, nothing renumbered: a gap. Returns its first."""
    first, count, _, _ = _find(con, index)
    con.execute("DELETE FROM entry_chunks WHERE first = ?", (first,))
    con.execute("DELETE FROM entry_refs WHERE idx >= ? AND idx < ?", (first, first + count))
    return first


def move_chunk(con: sqlite3.Connection, index: int, to: int) -> None:
    """The chunk holding entry `index` made to start at `to` (an overlap or a gap)."""
    first = _find(con, index)[0]
    con.execute("UPDATE entry_chunks SET first = ? WHERE first = ?", (to, first))


def swap(con: sqlite3.Connection, a: int, b: int) -> None:
    """Entries a and b change places, each whole: body, kind and ref."""
    body_a, body_b = body_of(con, a), body_of(con, b)
    kind_a, kind_b = _find(con, a)[2][a - _find(con, a)[0]], _find(con, b)[2][b - _find(con, b)[0]]
    set_body(con, a, body_b)
    set_kind(con, a, kind_b)
    set_body(con, b, body_a)
    set_kind(con, b, kind_a)
    con.execute("UPDATE entry_refs SET idx = CASE idx WHEN ? THEN ? ELSE ? END WHERE idx IN (?, ?)", (a, b, a, a, b))


def truncate(con: sqlite3.Connection, m: int) -> None:
    """Every entry from `m` on removed (its refs too); the stored tree left as it was."""
    for first, count, kinds, bodies_ in chunks(con):
        if first >= m:
            con.execute("DELETE FROM entry_chunks WHERE first = ?", (first,))
        elif first + count > m:
            _put(con, first, kinds[:m - first], bodies_[:m - first])
    con.execute("DELETE FROM entry_refs WHERE idx >= ?", (m,))


def append(con: sqlite3.Connection, body: bytes, kind: str, ref: str | None = None) -> int:
    """An entry added after the last, as a chunk of its own (and its ref); returns its index."""
    end = con.execute("SELECT coalesce(max(first + count), 0) FROM entry_chunks").fetchone()[0]
    con.execute("INSERT INTO entry_chunks (first, count, kinds, bodies) VALUES (?, 1, ?, ?)",
                (end, kind, bundles.frame([body])))
    if ref is not None:
        con.execute("INSERT INTO entry_refs (ref, idx) VALUES (?, ?)", (ref, end))
    return end


# -- changing refs ----------------------------------------------------------------------------


def set_ref(con: sqlite3.Connection, index: int, ref: str) -> None:
    con.execute("UPDATE entry_refs SET ref = ? WHERE idx = ?", (ref, index))


def add_ref(con: sqlite3.Connection, index: int, ref: str) -> None:
    con.execute("INSERT INTO entry_refs (ref, idx) VALUES (?, ?)", (ref, index))


def remove_ref(con: sqlite3.Connection, index: int) -> None:
    con.execute("DELETE FROM entry_refs WHERE idx = ?", (index,))


# -- the stored tree --------------------------------------------------------------------------


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def fix_leaf_hash(con: sqlite3.Connection, index: int) -> None:
    """The stored tree's hash of leaf `index` made that of its body now (in its tile, or its
    single row at the right edge); the hashes above it are left as they were."""
    h = leaf_hash(body_of(con, index))
    row = con.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = ?", (index >> 8,)).fetchone()
    if row is not None:
        blob = bytearray(row[0])
        blob[32 * (index & 255):32 * (index & 255) + 32] = h
        con.execute("UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = ?", (bytes(blob), index >> 8))
    con.execute("UPDATE log_nodes SET hash = ? WHERE level = 0 AND idx = ?", (h, index))


def rebuild_tree(con: sqlite3.Connection) -> None:
    """Every stored hash thrown away and recomputed from the entries as they now are, as one
    batch would store them: the tree agrees with the entries (only a checkpoint can tell)."""
    con.execute("DELETE FROM log_tiles")
    con.execute("DELETE FROM log_nodes")
    tiles, nodes, _ = tree.grow(lambda level, s, e: [], 0, [leaf_hash(b) for b in bodies(con)])
    con.executemany("INSERT INTO log_tiles (level, idx, hashes) VALUES (:level, :idx, :hashes)", tiles)
    con.executemany("INSERT INTO log_nodes (level, idx, hash) VALUES (:level, :idx, :hash)", nodes)
