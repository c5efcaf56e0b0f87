"""Verify the log from scratch: every entry, every stored hash, every given checkpoint.

`verify_log(conn)` reads the entry chunks once, in log order, and checks:

- the chunks tile the log: each starts where the one before it ended, from 0 (a gap or an
  overlap names the first index out of place), and frames exactly `count` entries;
- each entry's kind in its chunk's `kinds` is the record's top-level `kind`;
- `entry_refs` holds exactly the (ref, index) of the records that have a top-level `ref`;

then rebuilds the Merkle tree from the bodies and compares it with every stored tile and
single hash (`mast.ledger.tree`), and checks that the stored tree holds nothing more. Finally
each (size, root) in `checkpoints` must be a root of the recomputed tree — the hook through
which signed checkpoints, the log's own and those an outsider kept, are checked.

It returns a `VerifyResult` naming the first bad index; `result.raise_for_failure()` raises
`LogIntegrityFailure` (an `IntegrityFailure`: exit 4). Of several failures the lowest index is
named; at one index, a misplaced entry first, then its kind or ref, then the tree.

Kinds and refs are checked without parsing most bodies. A record's canonical JSON holds its
top-level kind as the bytes `"kind":"<kind>"`; if a body holds `"kind":` once, that is it (a
nested key "kind" or one ending in an escaped quote would make it twice), else the body is
parsed. A chunk whose bodies hold `"kind":` once each and `"kind":"model"` as often, for a chunk
of models, needs two `bytes.count`s. This relies on each body being a record mast wrote: one
that is not is not the entry the tree holds (or, if the tree was rebuilt to match, not the one
the signed checkpoints hold), which the same run finds. Only bodies holding `"ref":` are parsed
for their ref. Everything is read in the connection's one transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from pydantic_core import from_json
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection

from mast import bundles
from mast.errors import IntegrityFailure
from mast.gcpause import gc_paused
from mast.ledger import merkle
from mast.ledger.merkle import EMPTY_ROOT, HASH_SIZE, fold_right, reduce_level
from mast.ledger.tree import TILE_HEIGHT, TILE_WIDTH, SqlNodeSource, log_nodes, log_tiles, pyramid, tile_blob

#: Entries per step of the tree check: a multiple of TILE_WIDTH.
_BATCH = 1 << 16
#: The store's tables (named here, not imported: `ledger` must not depend on the store).
_CHUNKS = "SELECT first, count, kinds, bodies FROM entry_chunks ORDER BY first"
_REFS = "SELECT idx, ref FROM entry_refs ORDER BY idx, ref"
_KIND = b'"kind":'
_REF = b'"ref":'
#: A kind as canonical JSON writes a plain one: no escapes.
_KIND_VALUES = re.compile(rb'"kind":"([^"\\]*)"')

# Of failures at one index, the one named: lowest rank first.
_PLACE, _CONTENT, _TREE = 0, 1, 2


class LogIntegrityFailure(IntegrityFailure):
    """The log does not verify. `index` is the first bad entry, when one can be named."""

    def __init__(self, message: str, index: int | None = None):
        self.index = index
        super().__init__(message)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify_log` found. `size` entries were checked (up to the first bad one)."""

    ok: bool
    size: int
    root: bytes | None = None
    bad_index: int | None = None
    message: str | None = None
    checkpoints: int = 0

    def raise_for_failure(self) -> "VerifyResult":
        if not self.ok:
            raise LogIntegrityFailure(self.message or "the log does not verify", self.bad_index)
        return self


class _Bad(Exception):
    def __init__(self, index: int | None, message: str):
        self.index = index
        self.message = message


class _First:
    """The failure to name: the lowest index, and at one index the lowest rank."""

    def __init__(self) -> None:
        self.bad: _Bad | None = None
        self.rank = 0

    def add(self, bad: _Bad | None, rank: int) -> None:
        if bad is None:
            return
        if self.bad is None or (bad.index, rank) < (self.bad.index, self.rank):
            self.bad, self.rank = bad, rank


def verify_log(conn: Connection, checkpoints: Iterable[tuple[int, bytes]] = (), *,
               batch: int = _BATCH) -> VerifyResult:
    """Recompute the log from its entries and compare with everything stored (see module).

    `checkpoints`: (tree size, root hash) pairs, each of which must be the root of the first
    `size` recomputed entries. `batch`: entries per step of the tree check (whose stored
    tiles are read a step at a time).

    One process, one thread: at a million entries the whole check took 1.2–1.9× the time of
    hashing the tree in plain Python on a shared machine (docs/log.md, "Measured"); a process
    hashing beside this one paid off only on an idle second core and cost more CPU in all
    (the bodies and hashes crossing a pipe), so there is none.
    """
    if batch % TILE_WIDTH:
        raise ValueError(f"batch must be a multiple of {TILE_WIDTH}")
    with gc_paused():
        return _verify(conn, sorted(checkpoints), batch)


def _verify(conn: Connection, checkpoints: Sequence[tuple[int, bytes]], batch: int) -> VerifyResult:
    # The first statement through SQLAlchemy begins the transaction that every read below runs in.
    refs = _Refs(conn.exec_driver_sql(_REFS).all())
    tree = _TreeCheck(conn)
    first_bad = _First()
    sha = hashlib.sha256
    position = 0                       # entries read so far: the index of the next
    hashes: list[bytes] = []           # leaf hashes not yet given to the tree check
    # The chunks straight from the driver's cursor (in the same transaction): through
    # SQLAlchemy's result, row by row, they cost ≈40 ms more at a million entries.
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        # Read on, past a misplaced or misdescribed entry, until the tree check fails or the
        # log ends: a stored hash over an earlier entry may be wrong too, and is named first.
        for first, count, kinds, blob in cursor.execute(_CHUNKS):
            if first != position:
                first_bad.add(_misplaced(position, first), _PLACE)
            bodies = _bodies(position, first, count, blob, first_bad)
            joined = b"".join(bodies)          # the bodies without their framing, for byte counts
            first_bad.add(_kinds_problem(position, kinds, bodies, joined), _CONTENT)
            first_bad.add(refs.problem(position, bodies, joined), _CONTENT)
            hashes += [sha(b"\x00" + body).digest() for body in bodies]
            position += len(bodies)
            if len(hashes) >= batch:
                tree.add(hashes)
                hashes = []
        tree.add(hashes)
        first_bad.add(refs.beyond(position), _CONTENT)
        tree.finish()
    except _Bad as exc:
        first_bad.add(exc, _TREE)
    finally:
        cursor.close()
    if first_bad.bad is not None:
        return _failed(position, first_bad.bad)
    root = tree.root()
    try:
        _check_checkpoints(conn, position, checkpoints)
    except _Bad as exc:
        return VerifyResult(False, position, root, exc.index, exc.message, 0)
    return VerifyResult(True, position, root, None, None, len(checkpoints))


def _failed(size: int, exc: _Bad) -> VerifyResult:
    size = size if exc.index is None else max(0, min(size, exc.index))
    return VerifyResult(False, size, None, exc.index, exc.message)


# -- chunks ----------------------------------------------------------------------------------


def _misplaced(position: int, first: int) -> _Bad:
    if first > position:
        return _Bad(position, f"entry {position} is missing: the entries jump from {position - 1} to {first}"
                    if position else "entry 0 is missing")
    return _Bad(max(first, 0), f"entry {max(first, 0)}: the entries are out of order (a chunk of entries "
                               f"from index {first} follows entries up to {position - 1})" if position else
                f"entry 0: the entries are out of order (the first chunk starts at index {first})")


_SQL_TYPES = {str: "TEXT", int: "an INTEGER", float: "a REAL", type(None): "NULL"}


def _bodies(position: int, first: int, count: object, blob: object, first_bad: _First) -> list[bytes]:
    """The bodies a chunk frames (those before a break in the framing, if any); a chunk whose
    bodies are not bytes, or whose framing breaks or disagrees with its `count`, is a failure
    at the first entry it misplaces."""
    if not isinstance(blob, bytes):
        # The store writes BLOBs: a TEXT chunk, say, was written by someone else, and
        # readers expecting bytes would fail on it.
        what = _SQL_TYPES.get(type(blob), type(blob).__name__)
        first_bad.add(_Bad(position, f"entry {position}: its chunk's bodies are stored as {what}, not as the "
                                     "bytes (BLOB) the store writes"), _PLACE)
        blob = (blob.encode("utf-8", "surrogatepass") if isinstance(blob, str) else
                bytes(blob) if isinstance(blob, (bytearray, memoryview)) else b"")
    try:
        bodies = bundles.split(blob)
    except bundles.BrokenBundle as broken:
        bodies = broken.entries
        at = position + len(bodies)
        first_bad.add(_Bad(at, f"entry {at}: the framing of the chunk from index {first} breaks there "
                               "(a length runs past the chunk's end)"), _PLACE)
        return bodies
    if count != len(bodies):
        at = position + min(len(bodies), count if isinstance(count, int) and count >= 0 else 0)
        first_bad.add(_Bad(at, f"entry {at}: the chunk from index {first} says it holds {count} entries but "
                               f"frames {len(bodies)}"), _PLACE)
    return bodies


def _kinds_problem(position: int, kinds: object, bodies: list[bytes], blob: bytes) -> _Bad | None:
    """The first entry of a chunk whose kind in `kinds` is not its record's (see module)."""
    if not isinstance(kinds, str):
        return _Bad(position, f"entry {position}: its chunk's kinds are stored as "
                              f"{_SQL_TYPES.get(type(kinds), type(kinds).__name__)}, not as TEXT")
    n = len(bodies)
    # If every body holds `"kind":` once (each record holds it at least once), it is the
    # record's own, and its values in order are the records' kinds. A chunk of one kind (the
    # common case) is then two counts, and its `kinds` compared whole with that kind n times.
    # (An empty chunk's kinds, "", list one kind: the general check below says so.)
    listed, said = _one_kind(kinds.partition(",")[0], n)
    if n and kinds == listed and blob.count(_KIND) == n and blob.count(said) == n:
        return None
    items = kinds.split(",")
    if len(items) != n:
        at = position + min(len(items), n)
        return _Bad(at, f"entry {at}: its chunk lists {len(items)} kinds for {n} entries")
    if blob.count(_KIND) == n and b",".join(_KIND_VALUES.findall(blob)) == kinds.encode():
        return None
    for k, (body, kind) in enumerate(zip(bodies, items)):
        try:
            found = _kind_of(body, position + k)
        except _Bad as bad:
            return bad
        if found != kind:
            return _Bad(position + k, f"entry {position + k}: its chunk says it is of kind {kind!r} but the "
                                      f"record is of kind {found!r}")
    return None


@lru_cache(maxsize=4096)
def _one_kind(kind: str, n: int) -> tuple[str, bytes]:
    """`kinds` for a chunk of n entries of `kind`, and the bytes each of their bodies holds once."""
    return ",".join([kind] * n), b'"kind":"' + kind.encode() + b'"'


def _kind_of(body: bytes, index: int) -> object:
    if body.count(_KIND) == 1:
        at = body.find(_KIND) + len(_KIND)
        end = body.find(b'"', at + 1)
        if body[at:at + 1] == b'"' and end > 0 and b"\\" not in body[at:end]:
            return body[at + 1:end].decode("utf-8", "replace")
    return _parsed(body, index).get("kind")


def _parsed(body: bytes, index: int) -> dict:
    try:
        data = from_json(body)
    except ValueError:
        raise _Bad(index, f"entry {index}: its body is not JSON") from None
    if not isinstance(data, dict):
        raise _Bad(index, f"entry {index}: its body is not a JSON object")
    return data


class _Refs:
    """`entry_refs` as stored, in index order, compared chunk by chunk with the refs the
    bodies hold."""

    def __init__(self, rows: list) -> None:
        self.rows = [(idx, ref) for idx, ref in rows]
        self.at = 0

    def problem(self, position: int, bodies: list[bytes], blob: bytes) -> _Bad | None:
        """The first entry in [position, position + len(bodies)) whose top-level ref and
        `entry_refs` rows disagree; `blob` is the bodies joined. Only bodies holding `"ref":`
        are parsed, and a chunk none of whose bodies does is one search."""
        end = position + len(bodies)
        stored = []
        while self.at < len(self.rows) and self.rows[self.at][0] < end:
            stored.append(self.rows[self.at])
            self.at += 1
        if not stored and _REF not in blob:
            return None
        found = []
        for k, body in enumerate(bodies):
            if _REF in body:
                try:
                    ref = _parsed(body, position + k).get("ref")
                except _Bad as bad:
                    return bad
                if ref is not None:
                    found.append((position + k, ref))
        if stored == found:
            return None
        return self._difference(stored, found, position)

    def beyond(self, size: int) -> _Bad | None:
        """A row for an entry past the log's end."""
        if self.at < len(self.rows):
            idx, ref = self.rows[self.at]
            return _Bad(max(idx, 0), f"entry {idx}: entry_refs gives it the ref {ref!r}, but the log has "
                                     f"{size} entries")
        return None

    @staticmethod
    def _difference(stored: list, found: list, position: int) -> _Bad:
        """The first entry whose rows and ref differ. A row for an index before the chunk (a
        negative one: every other was taken by an earlier chunk) is named at the chunk."""
        odd = set(stored) ^ set(found)
        index = min(idx for idx, _ in odd)
        says = [ref for idx, ref in stored if idx == index]
        has = [ref for idx, ref in found if idx == index]
        at = max(index, position)
        if not has:
            return _Bad(at, f"entry {index}: entry_refs gives it the ref {says[0]!r}, but the record has no ref")
        if not says:
            return _Bad(at, f"entry {index}: the record's ref is {has[0]!r}, but entry_refs has no row for it")
        return _Bad(at, f"entry {index}: entry_refs gives it the ref {', '.join(map(repr, says))}, but the "
                        f"record's ref is {has[0]!r}")


# -- the tree --------------------------------------------------------------------------------

_TILES_IN = (select(log_tiles.c.idx, log_tiles.c.hashes)
             .where(log_tiles.c.level == bindparam("level"), log_tiles.c.idx >= bindparam("start"),
                    log_tiles.c.idx < bindparam("end"))
             .order_by(log_tiles.c.idx))
_SINGLES_IN = (select(log_nodes.c.idx, log_nodes.c.hash)
               .where(log_nodes.c.level == bindparam("level"), log_nodes.c.idx >= bindparam("start"),
                      log_nodes.c.idx < bindparam("end"))
               .order_by(log_nodes.c.idx))
_LAST_TILES = select(log_tiles.c.level, func.max(log_tiles.c.idx)).group_by(log_tiles.c.level)
_LAST_SINGLES = select(log_nodes.c.level, func.max(log_nodes.c.idx)).group_by(log_nodes.c.level)


class _TreeCheck:
    """Rebuilds the tree tile by tile from the leaf hashes given in order, comparing every
    stored tile and single hash as it goes."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.size = 0
        self.pending: list[list[bytes]] = []   # per tile level: bottom hashes of the partial tile
        self.counts: list[int] = []            # per tile level: hashes given so far
        self.frontier: list[bytes] = []

    def add(self, hashes: list[bytes]) -> None:
        self.size += len(hashes)
        tile_level, new = 0, hashes
        while new:
            if tile_level == len(self.pending):
                self.pending.append([])
                self.counts.append(0)
            new = self._add_level(tile_level, new)
            tile_level += 1

    def _add_level(self, tile_level: int, new: list[bytes]) -> list[bytes]:
        """Add hashes of tree level 8·tile_level; return the roots of the tiles they filled."""
        run = self.pending[tile_level] + new
        start = self.counts[tile_level] - len(self.pending[tile_level])  # index of run[0]
        self.counts[tile_level] += len(new)
        full = len(run) >> TILE_HEIGHT
        self.pending[tile_level] = run[full * TILE_WIDTH:]
        if not full:
            return []
        # The full tiles' rows a whole row at a time (one comprehension a level, not eight a
        # tile): rows[h] is tree level 8·tile_level + h from node start >> h on.
        rows = [run[:full * TILE_WIDTH]]
        for _ in range(TILE_HEIGHT):
            rows.append(reduce_level(rows[-1]))
        first_tile = start >> TILE_HEIGHT
        stored = dict(self.conn.execute(_TILES_IN, {"level": tile_level, "start": first_tile,
                                                    "end": first_tile + full}).all())
        for t in range(full):
            idx = first_tile + t
            blob = stored.get(idx)
            if blob is None:
                raise _Bad(self._leaf(tile_level, 0, idx << TILE_HEIGHT),
                           f"the stored tree is missing tile {idx} of level {tile_level}")
            # Tile by tile: joining a batch's tiles into one blob to compare cost more (the
            # allocations of megabytes), as did hashing each tile's rows on its own.
            tile = [row[t << (TILE_HEIGHT - h):(t + 1) << (TILE_HEIGHT - h)] for h, row in enumerate(rows[:TILE_HEIGHT])]
            if blob != tile_blob(tile):
                self._mismatch(tile_level, idx, tile, bytes(blob))
        self._check_singles(tile_level, start, rows)
        return rows[TILE_HEIGHT]

    def _leaf(self, tile_level: int, height: int, index: int) -> int:
        """The first leaf under node `index` at height `height` above tree level 8·tile_level."""
        return index << (tile_level * TILE_HEIGHT + height)

    def _mismatch(self, tile_level: int, idx: int, rows: list[list[bytes]], blob: bytes) -> None:
        offset = 0
        for height in range(TILE_HEIGHT):
            for k, h in enumerate(rows[height]):
                if blob[(offset + k) * HASH_SIZE:(offset + k + 1) * HASH_SIZE] != h:
                    node = (idx << (TILE_HEIGHT - height)) + k
                    leaf = self._leaf(tile_level, height, node)
                    if tile_level == 0 and height == 0:
                        raise _not_held(leaf, h, blob[(k + 1) * HASH_SIZE:(k + 2) * HASH_SIZE])
                    raise _Bad(leaf, f"the stored tree's node {node} at level {tile_level * TILE_HEIGHT + height} "
                                     f"(over entries from {leaf}) differs from the one the entries give")
            offset += len(rows[height])
        raise _Bad(self._leaf(tile_level, 0, idx << TILE_HEIGHT),
                   f"the stored tile {idx} of level {tile_level} has {len(blob)} bytes, not {offset * HASH_SIZE}")

    def _check_singles(self, tile_level: int, start: int, rows: list[list[bytes]], partial: bool = False) -> None:
        """Compare the single hashes stored within the tiles whose rows are given (rows[h]: the
        nodes of height h above tree level 8·tile_level from start >> h on, `start` being a
        tile's first bottom index); in a partial tile every complete node must be there."""
        for height, row in enumerate(rows[:TILE_HEIGHT]):
            lo = start >> height
            if not row:
                continue
            level = tile_level * TILE_HEIGHT + height
            found = self.conn.execute(_SINGLES_IN, {"level": level, "start": lo, "end": lo + len(row)}).all()
            if partial and len(found) != len(row):
                have = {idx for idx, _ in found}
                node = next(lo + k for k in range(len(row)) if lo + k not in have)
                raise _Bad(self._leaf(tile_level, height, node),
                           f"the stored tree is missing the hash of node {node} at level {level}")
            for k, (idx, h) in enumerate(found):
                if h != row[idx - lo]:
                    leaf = self._leaf(tile_level, height, idx)
                    if level == 0:
                        after = found[k + 1][1] if k + 1 < len(found) and found[k + 1][0] == idx + 1 else b""
                        raise _not_held(leaf, row[idx - lo], after)
                    raise _Bad(leaf, f"the stored tree's node {idx} at level {level} (over entries from {leaf}) "
                                     "differs from the one the entries give")

    def finish(self) -> None:
        """Check the partial tiles at the right edge, and that nothing is stored beyond."""
        edges = []
        for tile_level, rem in enumerate(self.pending):
            start = self.counts[tile_level] - len(rem)
            rows = pyramid(rem)
            if rem:
                self._check_singles(tile_level, start, rows, partial=True)
            edges.append([row[-1] for height, row in enumerate(rows) if len(rem) >> height & 1][::-1])
        self.frontier = [h for edge in reversed(edges) for h in edge]
        n = self.size
        for level, last in self.conn.execute(_LAST_TILES):
            tiles = (n >> (level * TILE_HEIGHT)) >> TILE_HEIGHT
            if last >= tiles:
                raise _Bad(n, f"the stored tree holds tile {last} of level {level}, beyond the {n} entries "
                              "(entries are missing)")
        for level, last in self.conn.execute(_LAST_SINGLES):
            if last >= n >> level:
                raise _Bad(n, f"the stored tree holds node {last} at level {level}, beyond the {n} entries "
                              "(entries are missing)")

    def root(self) -> bytes:
        return fold_right(self.frontier) if self.frontier else EMPTY_ROOT


def _not_held(index: int, computed: bytes, next_stored: bytes) -> _Bad:
    """Entry `index` hashes to something else than the tree's leaf there. If it is the tree's
    next leaf, the entries moved down a place: one is missing."""
    if computed == next_stored:
        return _Bad(index, f"entry {index} is missing: the entry at {index} is the one the tree holds at "
                           f"{index + 1} (entries were removed and the later ones moved down)")
    return _Bad(index, f"entry {index} is not the entry the tree holds at {index} (changed, replaced or reordered)")


def _check_checkpoints(conn: Connection, size: int, checkpoints: Sequence[tuple[int, bytes]]) -> None:
    """Every (size, root) must be a root of the verified tree. The stored tree has just been
    found equal to the one the entries give, so its nodes can answer."""
    source = SqlNodeSource(conn)
    good = 0                           # the largest size found consistent so far
    for cp_size, cp_root in checkpoints:
        if cp_size > size:
            raise _Bad(size, f"a checkpoint of size {cp_size} is beyond the log's {size} entries "
                             "(entries were removed, or the log was rolled back)")
        got = merkle.root_at(source, cp_size)
        if got != bytes(cp_root):
            # The stored tree agrees with the entries, so it was rebuilt to match: which entry
            # changed, only the checkpoints' sizes can narrow down.
            where = f"before {cp_size}" if not good else f"from {good} to {cp_size - 1}"
            raise _Bad(None, f"the checkpoint of size {cp_size} has root {bytes(cp_root).hex()}, but the first "
                             f"{cp_size} entries give {got.hex()}: an entry {where} was changed, removed or "
                             "reordered and the stored tree rebuilt to match")
        good = max(good, cp_size)
