"""Verify the log from scratch: every entry, every stored hash, every given checkpoint.

`verify_log(conn)` reads the entries once, in index order, and checks, for each:

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

On SQLite the projections are compared with the bodies by SQLite's JSON functions, in C, in
a pass of their own beside the stream of entries (Python judges only the entries that pass
flags); elsewhere by Python's `json` as the entries stream. Everything the stream and the
tree check read is read in the connection's one transaction.
"""

from __future__ import annotations

from mast.gcpause import gc_paused

import array
import hashlib
import json
import multiprocessing
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Iterator, Sequence

from sqlalchemy import Integer, LargeBinary, Text, bindparam, column, func, select, table
from sqlalchemy.engine import Connection

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
               batch: int = _BATCH, workers: int | None = None) -> VerifyResult:
    """Recompute the log from its entries and compare with everything stored (see module).

    `checkpoints`: (tree size, root hash) pairs, each of which must be the root of the first
    `size` recomputed entries.

    `workers`: processes that hash the entries while this one reads the database and rebuilds
    the tree (a pipeline, one batch apart). Default: none. One pays off only when a core is
    idle: it takes the hashing off this process but costs more CPU in all, as the bodies and
    hashes cross a pipe. At a million entries, with another process keeping the second core
    busy: 5.9 s of CPU and of wall time without a worker, 7.9 s of each with one.
    """
    if batch % TILE_WIDTH:
        raise ValueError(f"batch must be a multiple of {TILE_WIDTH}")
    use_sql_json = conn.dialect.name == "sqlite" and _sqlite_version(conn) >= (3, 38, 0)
    worker = _HashWorker() if workers else None
    try:
        with gc_paused():
            return _verify(conn, sorted(checkpoints), batch, use_sql_json, worker)
    finally:
        if worker is not None:
            worker.close()




def _sqlite_version(conn: Connection) -> tuple[int, ...]:
    return getattr(conn.dialect.dbapi, "sqlite_version_info", (0, 0, 0))


# -- hashing ---------------------------------------------------------------------------------


def _hash_bodies(bodies: Sequence[bytes]) -> tuple[list[bytes], list[str]]:
    """Leaf hashes and ids: two comprehensions (one loop filling both lists measured no faster)."""
    sha = hashlib.sha256
    return [sha(b"\x00" + body).digest() for body in bodies], [sha(body).hexdigest() for body in bodies]


def _worker_loop(pipe) -> None:  # pragma: no cover  (runs in the worker process)
    """Receive bodies (lengths, then the bytes), send back leaf hashes and ids, until told to stop."""
    while True:
        lengths = pipe.recv_bytes()
        if not lengths:
            return
        blob = pipe.recv_bytes()
        sizes = array.array("I")
        sizes.frombytes(lengths)
        bodies, at = [], 0
        for n in sizes:
            bodies.append(blob[at:at + n])
            at += n
        leaves, ids = _hash_bodies(bodies)
        pipe.send_bytes(b"".join(leaves))
        pipe.send_bytes("".join(ids).encode("ascii"))


class _HashWorker:
    """A process that hashes one batch of entries while this one reads and checks the
    previous: SHA-256 of short entries holds the GIL, so threads would not help. Bodies go
    over a pipe as one blob; a pipe, not a Pool, so that no helper thread of ours fights this
    one for the GIL. Forked where possible: it starts in milliseconds and touches nothing of
    the parent's but its end of the pipe."""

    def __init__(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=_worker_loop, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.outstanding = 0

    def send(self, bodies: Sequence[bytes]) -> None:
        self.pipe.send_bytes(array.array("I", [len(b) for b in bodies]).tobytes())
        self.pipe.send_bytes(b"".join(bodies))
        self.outstanding += 1

    def receive(self) -> tuple[list[bytes], list[str]]:
        self.outstanding -= 1
        joined = self.pipe.recv_bytes()
        ids = self.pipe.recv_bytes().decode("ascii")
        return ([joined[i:i + HASH_SIZE] for i in range(0, len(joined), HASH_SIZE)],
                [ids[i:i + 64] for i in range(0, len(ids), 64)])

    def close(self) -> None:
        if self.outstanding:               # stopped early: its answer is not wanted
            self.process.kill()
        else:
            try:
                self.pipe.send_bytes(b"")
            except OSError:
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.pipe.close()


# -- the scan --------------------------------------------------------------------------------

_FIRST_INDEX = select(func.min(entries.c.idx))
_LAST_INDEX = select(func.max(entries.c.idx))


def _first_gap(conn: Connection) -> tuple[int, _Bad | None]:
    """How many entries are at their places (indexes 0, 1, ... with none missing), and the
    failure at the first that is not: every index read, so only for a log that fails."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute("SELECT idx FROM entries ORDER BY idx")
        position = 0
        while rows := cursor.fetchmany(_BATCH):
            for (idx,) in rows:
                if idx != position:
                    return position, _misplaced(position, idx)
                position += 1
    finally:
        cursor.close()
    return position, None


def _misplaced(position: int, idx: int) -> _Bad:
    if idx > position:
        return _Bad(position, f"entry {position} is missing: the entries jump from {position - 1} to {idx}"
                    if position else "entry 0 is missing")
    return _Bad(position, f"entry {position}: the entries are out of order (index {idx} here)")


def _verify(conn: Connection, checkpoints: Sequence[tuple[int, bytes]], batch: int, use_sql_json: bool,
            worker: _HashWorker | None = None) -> VerifyResult:
    # The first statement through SQLAlchemy begins the transaction that every read below,
    # the raw cursor's too, runs in.
    lowest, highest = conn.execute(_FIRST_INDEX).scalar(), conn.execute(_LAST_INDEX).scalar()
    limit, gap = 0 if highest is None else highest + 1, None
    if lowest is not None and lowest != 0:
        limit, gap = _first_gap(conn)
    # The stream reads the entries below `limit` by position, not by index (their Python ints
    # cost a quarter of the reading, ≈0.3 s at a million entries; counting them first, a
    # scan of an index, ≈0.15 s). An entry missing in between shifts every later one, which
    # the checks see as changed: on any failure, and if fewer rows came than `limit`, the
    # indexes are read after all, and a gap named if it comes first.

    def or_gap(failure: VerifyResult) -> VerifyResult:
        position, missing = (limit, gap) if gap is not None else _first_gap(conn)
        if missing is not None and (failure.bad_index is None or position <= failure.bad_index):
            return _first(projection, _failed(position, missing))
        return failure

    # On SQLite, one pass in C finds the entries whose projections differ from their bodies
    # (as text; Python then judges those few), beside the stream below, which then carries
    # no projections; its first bad index competes with the stream's.
    projection = _ProjectionPass(conn, limit) if use_sql_json else None
    # Rows straight from the DBAPI cursor: plain tuples, a third of the cost of Row objects
    # at a million entries. Same connection, same transaction.
    cursor = conn.connection.dbapi_connection.cursor()
    cursor.execute("SELECT id, body FROM entries WHERE idx < ? ORDER BY idx" if use_sql_json else
                   "SELECT id, body, kind, at, ref FROM entries WHERE idx < ? ORDER BY idx", (limit,))
    tree = _TreeCheck(conn)
    size = fetched = 0
    try:
        pending: _Batch | None = None
        while True:
            # Pipeline: read batch k+1 while the worker hashes batch k; then hand it k+1 and
            # check k here.
            rows = cursor.fetchmany(batch)
            ahead = _Batch(rows, fetched) if rows else None
            fetched += len(rows)
            if worker is not None:
                if pending is not None:
                    pending.hashes = worker.receive()
                if ahead is not None:
                    worker.send(ahead.bodies)
            if pending is not None:
                bad = _check_batch(pending)
                hashes = pending.hashes[0] if bad is None else _leaf_hashes(pending.bodies[: bad.index - size])
                try:
                    tree.add(hashes)
                except _Bad as exc:
                    return or_gap(_first(projection, _failed(size, exc)))
                if bad is not None:
                    return or_gap(_first(projection, _failed(bad.index, bad), wins_ties=True))
                size += len(hashes)
            if ahead is None:
                break
            pending = ahead
        if gap is None and fetched != limit:           # fewer rows than indexes: one is missing
            limit, gap = _first_gap(conn)
        if gap is not None:
            return _first(projection, _failed(limit, gap))
        tree.finish()
        root = tree.root()
    except _Bad as exc:
        return or_gap(_first(projection, _failed(size, exc)))
    finally:
        cursor.close()
    if projection is not None:
        bad = projection.get()
        if bad is not None:
            return _failed(bad.index, bad)
    try:
        _check_checkpoints(conn, size, checkpoints)
    except _Bad as exc:
        return VerifyResult(False, size, root, exc.index, exc.message, 0)
    return VerifyResult(True, size, root, None, None, len(checkpoints))


def _first(projection: "_ProjectionPass | None", failure: VerifyResult, wins_ties: bool = False) -> VerifyResult:
    """The stream's failure, or the projection pass's if that names an earlier entry. Of one
    entry's failures the id's is named first, then its projections' (or that it is not
    JSON), then the tree's: the order in which the Python path checks them."""
    bad = projection.get() if projection is not None else None
    if bad is not None and (failure.bad_index is None or bad.index < failure.bad_index
                            or (bad.index == failure.bad_index and not wins_ties)):
        return _failed(bad.index, bad)
    return failure


def _failed(size: int, exc: _Bad) -> VerifyResult:
    size = size if exc.index is None else min(size, exc.index)
    return VerifyResult(False, size, None, exc.index, exc.message)


# -- projections -----------------------------------------------------------------------------


class _ProjectionPass:
    """`_first_bad_projection` in a thread on a connection of its own: SQLite runs it in C
    with the GIL released, beside the hashing in this thread. (With an in-memory database
    another connection would be another database, so it runs inline there.) Only entries
    below `limit` count (the entries the stream reads, at their places), so a batch appended
    meanwhile changes nothing.

    Why a pass of its own rather than a column of the stream: SQLite's JSON costs the same
    CPU either way (≈1 µs a body here, the parse; a million entries with the stream: 2.06 s
    as a column of it, 1.99 s as this pass), but here it runs beside the hashing when a core
    is free."""

    def __init__(self, conn: Connection, limit: int):
        self.found: _Bad | None = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        database = conn.engine.url.database
        if not database or database == ":memory:" or database.startswith("file::memory:"):
            self.found = _first_bad_projection(conn, limit)
            return
        self.thread = threading.Thread(target=self._run, args=(conn.engine, limit), daemon=True)
        self.thread.start()

    def _run(self, engine, limit: int) -> None:
        try:
            with engine.connect() as conn:
                self.found = _first_bad_projection(conn, limit)
        except BaseException as exc:  # re-raised in the caller's thread
            self.error = exc

    def get(self) -> "_Bad | None":
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            raise self.error
        return self.found


def _first_bad_projection_sql(conn: Connection) -> str:
    """Entries whose body is not JSON, or whose projections are not the body's as text.
    SQLite parses a body once for the four calls (its JSON cache); `->>` needs 3.38."""
    # From SQLite 3.45 a BLOB argument to a JSON function is read as JSONB: text JSON stored
    # as a BLOB must be cast (which costs a copy).
    b = "CAST(body AS TEXT)" if _sqlite_version(conn) >= (3, 45, 0) else "body"
    # CASE, not AND: only CASE is sure not to run `->>` on a body that is not JSON (an error).
    return (f"SELECT idx, kind, at, ref, body FROM entries WHERE idx < ? AND NOT CASE WHEN json_valid({b}) THEN "
            f"{b} ->> '$.kind' IS kind AND {b} ->> '$.at' IS at AND {b} ->> '$.ref' IS ref ELSE 0 END ORDER BY idx")


def _first_bad_projection(conn: Connection, limit: int) -> "_Bad | None":
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_first_bad_projection_sql(conn), (limit,))
        for index, kind, at, ref, body in cursor:
            try:
                found = _projections_of(_as_bytes(body), index)
            except _Bad as bad:
                return bad
            problem = _projection_problem(index, (kind, at, ref), found)
            if problem is not None:
                return problem
    finally:
        cursor.close()
    return None


# -- entries ---------------------------------------------------------------------------------


class _Batch:
    """A batch of rows as the stream returns them, by column: the entries at `first`..."""

    def __init__(self, rows: list, first: int):
        self.first = first
        columns = list(zip(*rows))
        self.ids: Sequence = columns[0]
        bodies = columns[1]
        #: the first entry whose body is not bytes, and what it is instead (the store writes
        #: BLOBs: a TEXT body, say, was written by someone else, and readers would fail on it)
        self.not_bytes: tuple[int, str] | None = None
        if set(map(type, bodies)) != {bytes}:          # one check for the batch, in C
            self.not_bytes = next(((k, _SQL_TYPES.get(type(body), type(body).__name__))
                                   for k, body in enumerate(bodies)
                                   if not isinstance(body, (bytes, bytearray, memoryview))), None)
            bodies = tuple(_as_bytes(body) for body in bodies)
        self.bodies: Sequence[bytes] = bodies
        self.projections: tuple[Sequence, ...] | None = tuple(columns[2:5]) if len(columns) > 2 else None
        self.hashes: tuple[list[bytes], list[str]] | None = None


_SQL_TYPES = {str: "TEXT", int: "an INTEGER", float: "a REAL", type(None): "NULL"}


def _as_bytes(body: object) -> bytes:
    """A body as bytes: another driver may give a memoryview. Anything else (a body changed
    to TEXT, say) stands in as its UTF-8 or as nothing; `_Batch.not_bytes` names it."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8", "surrogatepass")
    return b""


def _leaf_hashes(bodies: Sequence[bytes]) -> list[bytes]:
    sha = hashlib.sha256
    return [sha(b"\x00" + body).digest() for body in bodies]


def _check_batch(batch: _Batch) -> _Bad | None:
    """The first bad entry of a batch, if any: its id not its body's SHA-256 or (without
    SQL JSON) its projections not its body's. The id check is one comparison, in C, for the
    whole batch; only a batch that fails is looked at entry by entry."""
    if batch.hashes is None:
        batch.hashes = _hash_bodies(batch.bodies)
    ids, first, count = batch.ids, batch.first, len(batch.bodies)
    computed = batch.hashes[1]
    bad: _Bad | None = None
    if batch.not_bytes is not None:
        k, what = batch.not_bytes
        bad = _Bad(first + k, f"entry {first + k}: its body is stored as {what}, not as the bytes (BLOB) "
                              "the store writes")
    if list(ids) != computed:
        i = next(k for k in range(count) if computed[k] != ids[k])
        if bad is None or first + i < bad.index:
            bad = _Bad(first + i, f"entry {first + i}: its id {ids[i]} is not the SHA-256 of its body "
                                  "(the body or the id was changed)")
    if batch.projections is not None:
        kinds, ats, refs = batch.projections
        for k in range(count if bad is None else bad.index - first):
            try:
                found = _projections_of(batch.bodies[k], first + k)
            except _Bad as exc:
                return exc
            problem = _projection_problem(first + k, (kinds[k], ats[k], refs[k]), found)
            if problem is not None:
                return problem
    return bad


def _projections_of(body: bytes, index: int) -> tuple:
    try:
        data = json.loads(body)
    except ValueError:
        raise _Bad(index, f"entry {index}: its body is not JSON") from None
    if not isinstance(data, dict):
        raise _Bad(index, f"entry {index}: its body is not a JSON object")
    return data.get("kind"), data.get("at"), data.get("ref")


def _projection_problem(index: int, columns: tuple, body: tuple) -> "_Bad | None":
    (kind, at, ref), (body_kind, body_at, body_ref) = columns, body
    if body_kind != kind:
        return _Bad(index, f"entry {index}: the kind column says {kind!r} but the record is of kind {body_kind!r}")
    if body_ref != ref:
        return _Bad(index, f"entry {index}: the ref column says {ref!r} but the record's ref is {body_ref!r}")
    if body_at != at and _utc_text(body_at) != at:
        return _Bad(index, f"entry {index}: the at column says {at!r} but the record's at is {body_at!r}")
    return None


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
