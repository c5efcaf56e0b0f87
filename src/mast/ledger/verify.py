"""Verify the log from scratch: every entry, every stored hash, every given checkpoint.

`verify_log(conn)` streams the entries in index order and checks, for each:

- the indexes run 0, 1, 2, ... with none missing;
- `entries.id` is the SHA-256 of `entries.body` (the record's canonical JSON);
- the `kind`, `at` and `ref` columns (projections the store keeps for queries) say what the
  body says (`at` as the same instant, in UTC);

then rebuilds the Merkle tree from the bodies and compares it with every stored tile and
single hash (`mast.ledger.tree`), and checks that the stored tree holds nothing more. Finally
each (size, root) in `checkpoints` must be a root of the recomputed tree — the hook through
which signed checkpoints, the log's own and those an outsider kept, are checked.

It returns a `VerifyResult` naming the first bad index; `result.raise_for_failure()` raises
`LogIntegrityFailure` (an `IntegrityFailure`: exit 4).

On SQLite the projections are read out of the bodies by SQLite's JSON functions, in C, while
the rows stream; elsewhere (or if a body is not JSON at all) by Python's `json`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence

from sqlalchemy import Integer, LargeBinary, Text, bindparam, cast, column, func, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from mast.errors import IntegrityFailure
from mast.ledger import merkle
from mast.ledger.merkle import EMPTY_ROOT, HASH_SIZE, fold_right
from mast.ledger.tree import TILE_HEIGHT, TILE_WIDTH, SqlNodeSource, log_nodes, log_tiles, pyramid, tile_blob

#: The entries table as `mast.records.store` creates it (named here, not imported: `ledger`
#: must not depend on the store).
entries = table(
    "entries",
    column("idx", Integer), column("id", Text), column("kind", Text), column("at", Text),
    column("ref", Text), column("body", LargeBinary),
)

_BATCH = 1 << 16  # entries per step: a multiple of TILE_WIDTH


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


def verify_log(conn: Connection, checkpoints: Iterable[tuple[int, bytes]] = (), *,
               batch: int = _BATCH) -> VerifyResult:
    """Recompute the log from its entries and compare with everything stored (see module).

    `checkpoints`: (tree size, root hash) pairs, each of which must be the root of the first
    `size` recomputed entries.
    """
    if batch % TILE_WIDTH:
        raise ValueError(f"batch must be a multiple of {TILE_WIDTH}")
    wanted = sorted(checkpoints)
    use_sql_json = conn.dialect.name == "sqlite"
    while True:
        try:
            return _verify(conn, wanted, batch, use_sql_json)
        except DBAPIError as exc:
            # SQLite stops a statement at the first body that is not JSON; the Python path
            # then names that entry.
            if use_sql_json and "JSON" in str(exc.orig):
                use_sql_json = False
                continue
            raise


def _verify(conn: Connection, checkpoints: Sequence[tuple[int, bytes]], batch: int, use_sql_json: bool) -> VerifyResult:
    e = entries
    if use_sql_json:
        text = cast(e.c.body, Text)
        query = select(e.c.idx, e.c.id, e.c.kind, e.c.at, e.c.ref, e.c.body,
                       func.json_extract(text, "$.kind"), func.json_extract(text, "$.at"),
                       func.json_extract(text, "$.ref"))
    else:
        query = select(e.c.idx, e.c.id, e.c.kind, e.c.at, e.c.ref, e.c.body)
    result = conn.execute(query.order_by(e.c.idx), execution_options={"yield_per": batch})
    tree = _TreeCheck(conn)
    size = 0
    try:
        for rows in result.partitions(batch):
            bad = None
            try:
                hashes = _check_entries(rows, size, use_sql_json)
            except _Bad as exc:
                bad = exc
                hashes = _leaf_hashes([r[5] for r in rows[: exc.index - size]])
            try:
                tree.add(hashes)
            except _Bad as exc:
                return _failed(size, exc)
            if bad is not None:
                return _failed(bad.index, bad)
            size += len(hashes)
        tree.finish()
        root = tree.root()
    except _Bad as exc:
        return _failed(size, exc)
    finally:
        result.close()
    try:
        _check_checkpoints(conn, size, checkpoints)
    except _Bad as exc:
        return VerifyResult(False, size, root, exc.index, exc.message, 0)
    return VerifyResult(True, size, root, None, None, len(checkpoints))


def _failed(size: int, exc: _Bad) -> VerifyResult:
    size = size if exc.index is None else min(size, exc.index)
    return VerifyResult(False, size, None, exc.index, exc.message)


# -- entries ---------------------------------------------------------------------------------


def _leaf_hashes(bodies: Sequence[bytes]) -> list[bytes]:
    sha = hashlib.sha256
    return [sha(b"\x00" + body).digest() for body in bodies]


def _check_entries(rows: Sequence, first: int, sql_json: bool) -> list[bytes]:
    """Leaf hashes of a batch of entry rows, after checking them (column by column: each
    check is one comparison of two lists, done in C). Raises _Bad at the first bad entry."""
    columns = list(zip(*rows))
    idxs, ids, kinds, ats, refs, bodies = columns[:6]
    count = len(rows)
    if idxs != tuple(range(first, first + count)):
        i = next(k for k in range(count) if idxs[k] != first + k)
        if idxs[i] > first + i:
            raise _Bad(first + i, f"entry {first + i} is missing: the entries jump from {first + i - 1} to {idxs[i]}")
        raise _Bad(first + i, f"entry {first + i}: the entries are out of order (index {idxs[i]} here)")
    bodies = [bytes(b) for b in bodies] if not isinstance(bodies[0], bytes) else bodies
    sha = hashlib.sha256
    if [sha(body).hexdigest() for body in bodies] != list(ids):
        i = next(k for k in range(count) if sha(bodies[k]).hexdigest() != ids[k])
        raise _Bad(first + i, f"entry {first + i}: its id {ids[i]} is not the SHA-256 of its body "
                              "(the body or the id was changed)")
    if sql_json:
        jkinds, jats, jrefs = columns[6:9]
    else:
        jkinds, jats, jrefs = _projections_in_python(bodies, first)
    if jkinds != kinds or jrefs != refs or jats != ats:
        for k in range(count):
            index = first + k
            if jkinds[k] != kinds[k]:
                raise _Bad(index, f"entry {index}: the kind column says {kinds[k]!r} but the record is of kind {jkinds[k]!r}")
            if jrefs[k] != refs[k]:
                raise _Bad(index, f"entry {index}: the ref column says {refs[k]!r} but the record's ref is {jrefs[k]!r}")
            if jats[k] != ats[k] and _utc_text(jats[k]) != ats[k]:
                raise _Bad(index, f"entry {index}: the at column says {ats[k]!r} but the record's at is {jats[k]!r}")
    return _leaf_hashes(bodies)


def _projections_in_python(bodies: Sequence[bytes], first: int) -> tuple[tuple, tuple, tuple]:
    kinds, ats, refs = [], [], []
    for k, body in enumerate(bodies):
        try:
            data = json.loads(body)
        except ValueError:
            raise _Bad(first + k, f"entry {first + k}: its body is not JSON") from None
        if not isinstance(data, dict):
            raise _Bad(first + k, f"entry {first + k}: its body is not a JSON object")
        kinds.append(data.get("kind"))
        ats.append(data.get("at"))
        refs.append(data.get("ref"))
    return tuple(kinds), tuple(ats), tuple(refs)


def _utc_text(value: object) -> str | None:
    """A zoned time as the store writes the `at` column: in UTC, ending in `Z`."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.utcoffset() is None:
        return None
    text = moment.astimezone(timezone.utc).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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
        first_tile = start >> TILE_HEIGHT
        pyramids = [pyramid(run[t * TILE_WIDTH:(t + 1) * TILE_WIDTH]) for t in range(full)]
        stored = dict(self.conn.execute(_TILES_IN, {"level": tile_level, "start": first_tile,
                                                    "end": first_tile + full}).all())
        for t, rows in enumerate(pyramids):
            idx = first_tile + t
            blob = stored.get(idx)
            if blob is None:
                raise _Bad(self._leaf(tile_level, 0, idx << TILE_HEIGHT),
                           f"the stored tree is missing tile {idx} of level {tile_level}")
            blob = bytes(blob)
            if blob != tile_blob(rows):
                self._mismatch(tile_level, idx, rows, blob)
        self._check_singles(tile_level, start, pyramids)
        return [rows[TILE_HEIGHT][0] for rows in pyramids]

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
                        raise _Bad(leaf, f"entry {leaf} is not the entry the tree holds at {leaf} "
                                         "(changed, replaced or reordered)")
                    raise _Bad(leaf, f"the stored tree's node {node} at level {tile_level * TILE_HEIGHT + height} "
                                     f"(over entries from {leaf}) differs from the one the entries give")
            offset += len(rows[height])
        raise _Bad(self._leaf(tile_level, 0, idx << TILE_HEIGHT),
                   f"the stored tile {idx} of level {tile_level} has {len(blob)} bytes, not {offset * HASH_SIZE}")

    def _check_singles(self, tile_level: int, start: int, pyramids: list[list[list[bytes]]],
                       partial: bool = False) -> None:
        """Compare the single hashes stored within the tiles whose rows are given, the first
        of which starts at bottom index `start`; in a partial tile every complete node must be
        there."""
        for height in range(TILE_HEIGHT):
            lo = start >> height
            row: list[bytes] = [h for rows in pyramids if height < len(rows) for h in rows[height]]
            if not row:
                continue
            level = tile_level * TILE_HEIGHT + height
            found = self.conn.execute(_SINGLES_IN, {"level": level, "start": lo, "end": lo + len(row)}).all()
            if partial and len(found) != len(row):
                have = {idx for idx, _ in found}
                node = next(lo + k for k in range(len(row)) if lo + k not in have)
                raise _Bad(self._leaf(tile_level, height, node),
                           f"the stored tree is missing the hash of node {node} at level {level}")
            for idx, h in found:
                if bytes(h) != row[idx - lo]:
                    leaf = self._leaf(tile_level, height, idx)
                    if level == 0:
                        raise _Bad(leaf, f"entry {leaf} is not the entry the tree holds at {leaf} "
                                         "(changed, replaced or reordered)")
                    raise _Bad(leaf, f"the stored tree's node {idx} at level {level} (over entries from {leaf}) "
                                     "differs from the one the entries give")

    def finish(self) -> None:
        """Check the partial tiles at the right edge, and that nothing is stored beyond."""
        edges = []
        for tile_level, rem in enumerate(self.pending):
            start = self.counts[tile_level] - len(rem)
            rows = pyramid(rem)
            if rem:
                self._check_singles(tile_level, start, [rows], partial=True)
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


def _check_checkpoints(conn: Connection, size: int, checkpoints: Sequence[tuple[int, bytes]]) -> None:
    """Every (size, root) must be a root of the verified tree. The stored tree has just been
    found equal to the one the entries give, so its nodes can answer."""
    source = SqlNodeSource(conn)
    for cp_size, cp_root in checkpoints:
        if cp_size > size:
            raise _Bad(size, f"a checkpoint of size {cp_size} is beyond the log's {size} entries "
                             "(entries were removed, or the log was rolled back)")
        got = merkle.root_at(source, cp_size)
        if got != bytes(cp_root):
            raise _Bad(None, f"the checkpoint of size {cp_size} has root {bytes(cp_root).hex()}, but the first "
                             f"{cp_size} entries give {got.hex()}: an entry before {cp_size} was changed "
                             "and the stored tree rebuilt to match")
