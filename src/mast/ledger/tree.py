"""The Merkle tree's storage: hashes kept in SQL beside the entries, in the same transaction.

Layout: tiles of height 8, as C2SP tlog-tiles cuts the tree, each stored with its inner levels.

- `log_tiles(level, idx, hashes)`: one row per *full* tile. Tile `idx` of tile level `level`
  is the complete subtree of height 8 whose bottom row is tree level 8·level, nodes
  [256·idx, 256·idx + 256). `hashes` holds its rows bottom-up: 256 hashes of tree level
  8·level, then 128 of the level above, ... then 2 (510 hashes, 16,320 bytes). The first
  8,192 bytes are byte for byte the tlog-tiles `tile/<level>/<idx>` body; the top of the tile
  (its root) is a bottom hash of the tile above.
- `log_nodes(level, idx, hash)`: single hashes of complete subtrees (any tree level) that were
  complete when a batch was committed but whose tile was not yet full: the right edge. A later
  batch that fills the tile writes the full tile; single rows are never rewritten, so a hash
  may be stored twice, at most once as a single row.

Why not one row per complete subtree (≈2n rows)? At a million entries that is two million
rows to insert, which alone costs more than hashing the whole tree. Tiles are ≈n/255 rows;
they hold the same ≈2n hashes, so a proof needs no hashing: it reads the O(log n / 8) tiles
(and right-edge singles) that hold its nodes in two queries, and slices them.

Nothing is ever updated or deleted: on SQLite, triggers refuse it, as they do for the entries.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

from sqlalchemy import DDL, Column, Engine, Integer, LargeBinary, MetaData, Table, and_, bindparam, event, func, or_, select
from sqlalchemy.engine import Connection

from mast.errors import IntegrityFailure
from mast.ledger import merkle
from mast.ledger.merkle import EMPTY_ROOT, HASH_SIZE, fold_right, leaf_hashes, reduce_level

#: Tree levels per tile, and hashes in the bottom row of a full tile (C2SP tlog-tiles).
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_MASK = TILE_WIDTH - 1
#: Hashes in a stored tile: its 8 rows, 256 + 128 + ... + 2.
TILE_HASHES = 2 * TILE_WIDTH - 2


def _row_offset(height: int) -> int:
    """Where row `height` (0 = bottom) of a stored tile starts, in hashes."""
    return 2 * TILE_WIDTH - (2 * TILE_WIDTH >> height)


metadata = MetaData()


def _define(md: MetaData) -> tuple[Table, Table]:
    tiles = Table(
        "log_tiles", md,
        Column("level", Integer, primary_key=True, autoincrement=False),
        Column("idx", Integer, primary_key=True, autoincrement=False),
        Column("hashes", LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    nodes = Table(
        "log_nodes", md,
        Column("level", Integer, primary_key=True, autoincrement=False),
        Column("idx", Integer, primary_key=True, autoincrement=False),
        Column("hash", LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    for table in (tiles, nodes):
        for verb in ("UPDATE", "DELETE"):
            event.listen(table, "after_create", DDL(
                f"CREATE TRIGGER IF NOT EXISTS {table.name}_no_{verb.lower()} BEFORE {verb} ON {table.name} "
                f"BEGIN SELECT RAISE(ABORT, 'mast {table.name} is append-only: {verb} refused'); END"
            ).execute_if(dialect="sqlite"))
    return tiles, nodes


log_tiles, log_nodes = _define(metadata)


def create_tables(target: MetaData | Engine | Connection) -> None:
    """Add the tree's tables (and their append-only triggers) to a `MetaData`, so that its
    `create_all` makes them with the entries; or create them now on an engine or connection
    (existing tables are kept)."""
    if isinstance(target, MetaData):
        if "log_tiles" not in target.tables:
            _define(target)
        return
    if isinstance(target, Engine):
        with target.begin() as conn:
            metadata.create_all(conn)
    else:
        metadata.create_all(target)


# Statements built once: building a select() costs more than running it on SQLite.
_TILE = select(log_tiles.c.hashes).where(log_tiles.c.level == bindparam("level"),
                                         log_tiles.c.idx == bindparam("idx"))
_NODE = select(log_nodes.c.hash).where(log_nodes.c.level == bindparam("level"),
                                       log_nodes.c.idx == bindparam("idx"))
_SINGLES = (select(log_nodes.c.idx, log_nodes.c.hash)
            .where(log_nodes.c.level == bindparam("level"), log_nodes.c.idx >= bindparam("start"),
                   log_nodes.c.idx < bindparam("end"))
            .order_by(log_nodes.c.idx))
_LAST_TILE = select(func.max(log_tiles.c.idx)).where(log_tiles.c.level == 0)
_LAST_NODE = select(func.max(log_nodes.c.idx)).where(log_nodes.c.level == 0)
_MANY: dict[tuple[str, int], object] = {}


def _many(table: Table, count: int):
    """SELECT level, idx, <hash column> for `count` (level, idx) keys, as an OR of primary-key
    lookups (SQLite plans a row-value IN over VALUES as a full scan); one statement per count."""
    key = (table.name, count)
    stmt = _MANY.get(key)
    if stmt is None:
        value = table.c.hashes if table is log_tiles else table.c.hash
        stmt = select(table.c.level, table.c.idx, value).where(or_(*[
            and_(table.c.level == bindparam(f"l{i}"), table.c.idx == bindparam(f"i{i}")) for i in range(count)]))
        _MANY[key] = stmt
    return stmt


def _params(keys: Sequence[tuple[int, int]]) -> dict[str, int]:
    params = {}
    for i, (level, idx) in enumerate(keys):
        params[f"l{i}"] = level
        params[f"i{i}"] = idx
    return params


# -- reading ---------------------------------------------------------------------------------


def tree_size(conn: Connection) -> int:
    """How many leaves the stored tree has."""
    last_tile = conn.execute(_LAST_TILE).scalar()
    last_node = conn.execute(_LAST_NODE).scalar()
    return max(0 if last_tile is None else (last_tile + 1) * TILE_WIDTH,
               0 if last_node is None else last_node + 1)


def _single_hashes(conn: Connection, level: int, start: int, end: int) -> list[bytes]:
    """The single stored hashes of tree level `level`, nodes [start, end), which must all exist."""
    rows = conn.execute(_SINGLES, {"level": level, "start": start, "end": end}).all()
    if len(rows) != end - start or any(idx != start + i for i, (idx, _) in enumerate(rows)):
        have = {idx for idx, _ in rows}
        missing = next(i for i in range(start, end) if i not in have)
        raise IntegrityFailure(f"the stored tree is missing the hash of node {missing} at level {level}")
    return [bytes(h) for _, h in rows]


def read_tile(conn: Connection, level: int, index: int, width: int = TILE_WIDTH) -> bytes | None:
    """The tlog-tiles tile `tile/<level>/<index>` (or its partial form of `width` hashes), as
    concatenated hashes; None if the tree does not (yet) hold it."""
    if not 0 < width <= TILE_WIDTH:
        raise ValueError(f"a tile has 1 to {TILE_WIDTH} hashes, not {width}")
    blob = conn.execute(_TILE, {"level": level, "idx": index}).scalar()
    if blob is not None:
        return bytes(blob)[: width * HASH_SIZE]
    start = index * TILE_WIDTH
    rows = conn.execute(_SINGLES, {"level": level * TILE_HEIGHT, "start": start, "end": start + width}).all()
    if len(rows) != width:
        return None
    return b"".join(bytes(h) for _, h in rows)


class SqlNodeSource:
    """`merkle.NodeSource` over the stored tiles and singles, caching what it has read.

    The tree only grows and nothing in it changes, so what is cached never goes stale; a node
    not found is looked up again next time (a later batch may have added it).
    """

    def __init__(self, conn: Connection, cache_size: int = 4096):
        self.conn = conn
        self.cache_size = cache_size
        self._tiles: dict[tuple[int, int], bytes] = {}
        self._nodes: dict[tuple[int, int], bytes] = {}
        self.queries = 0

    @staticmethod
    def _where(level: int, index: int) -> tuple[tuple[int, int], int]:
        """The tile holding node (level, index), and the node's offset in it, in hashes."""
        tile_level, height = divmod(level, TILE_HEIGHT)
        shift = TILE_HEIGHT - height
        tile = index >> shift
        return (tile_level, tile), _row_offset(height) + index - (tile << shift)

    def _remember(self, cache: dict, key, value: bytes) -> None:
        if len(cache) >= self.cache_size:
            cache.clear()
        cache[key] = value

    def prefetch(self, keys: Iterable[tuple[int, int]]) -> None:
        """Read the tiles (then the singles) holding these nodes: two queries at most."""
        keys = [k for k in keys if k not in self._nodes]
        tiles = list(dict.fromkeys(self._where(*k)[0] for k in keys))
        tiles = [t for t in tiles if t not in self._tiles]
        if tiles:
            self.queries += 1
            for level, idx, blob in self.conn.execute(_many(log_tiles, len(tiles)), _params(tiles)):
                self._remember(self._tiles, (level, idx), bytes(blob))
        singles = [k for k in dict.fromkeys(keys) if self._where(*k)[0] not in self._tiles]
        if singles:
            self.queries += 1
            for level, idx, h in self.conn.execute(_many(log_nodes, len(singles)), _params(singles)):
                self._remember(self._nodes, (level, idx), bytes(h))

    def node(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0:
            raise KeyError(f"no node at level {level}, index {index}")
        key = (level, index)
        found = self._nodes.get(key)
        if found is not None:
            return found
        tile, offset = self._where(level, index)
        blob = self._tiles.get(tile)
        if blob is None:
            self.queries += 1
            blob = self.conn.execute(_TILE, {"level": tile[0], "idx": tile[1]}).scalar()
            if blob is not None:
                blob = bytes(blob)
                self._remember(self._tiles, tile, blob)
        if blob is not None:
            return blob[offset * HASH_SIZE:(offset + 1) * HASH_SIZE]
        self.queries += 1
        found = self.conn.execute(_NODE, {"level": level, "idx": index}).scalar()
        if found is None:
            raise KeyError(f"the stored tree has no complete subtree at level {level}, index {index}")
        found = bytes(found)
        self._remember(self._nodes, key, found)
        return found


def root(conn: Connection, size: int | None = None) -> bytes:
    """The tree head at `size` leaves (default: the whole stored tree), from O(log n) nodes."""
    have = tree_size(conn)
    size = have if size is None else size
    if not 0 <= size <= have:
        raise ValueError(f"the tree has {have} leaves; no root at size {size}")
    return merkle.root_at(SqlNodeSource(conn), size)


def inclusion_proof(conn: Connection, index: int, size: int | None = None) -> list[bytes]:
    """`merkle.inclusion_proof` from the stored tree (default size: all of it)."""
    size = _size(conn, size)
    return merkle.inclusion_proof(SqlNodeSource(conn), index, size)


def consistency_proof(conn: Connection, old_size: int, new_size: int | None = None) -> list[bytes]:
    """`merkle.consistency_proof` from the stored tree (default new size: all of it)."""
    new_size = _size(conn, new_size)
    return merkle.consistency_proof(SqlNodeSource(conn), old_size, new_size)


def _size(conn: Connection, size: int | None) -> int:
    have = tree_size(conn)
    if size is None:
        return have
    if size > have:
        raise ValueError(f"the tree has {have} leaves; no proof at size {size}")
    return size


# -- growing ---------------------------------------------------------------------------------


def pyramid(run: Sequence[bytes]) -> list[list[bytes]]:
    """Rows of complete subtrees over a run of hashes that starts at a tile boundary: row j
    holds the hashes of the len(run) >> j complete subtrees of height j, bottom row first."""
    rows = [list(run)]
    for _ in range(TILE_HEIGHT):
        below = rows[-1]
        if len(below) < 2:
            break
        rows.append(reduce_level(below[: len(below) & ~1]))
    return rows


def tile_blob(rows: Sequence[Sequence[bytes]]) -> bytes:
    """The stored form of a full tile (from its `pyramid`): rows 0..7, bottom first."""
    return b"".join(b"".join(row) for row in rows[:TILE_HEIGHT])


ReadSingles = Callable[[int, int, int], list[bytes]]


def grow(read_singles: ReadSingles, size: int, hashes: Sequence[bytes]) -> tuple[list[dict], list[dict], bytes]:
    """What appending the leaf hashes `hashes` to a tree of `size` leaves adds to storage:
    (new full-tile rows, new single-hash rows, the new root). `read_singles(level, start, end)`
    returns stored single hashes (of the bottom row of a partial tile); nothing else is read."""
    tile_rows: list[dict] = []
    node_rows: list[dict] = []
    edges: list[list[bytes]] = []
    tile_level, have, new = 0, size, list(hashes)
    while True:
        level = tile_level * TILE_HEIGHT
        base = have & ~_MASK
        run = read_singles(level, base, have) + new if have > base else new
        full = len(run) >> TILE_HEIGHT
        up = []
        for t in range(full):
            rows = pyramid(run[t * TILE_WIDTH:(t + 1) * TILE_WIDTH])
            tile_rows.append({"level": tile_level, "idx": (base >> TILE_HEIGHT) + t, "hashes": tile_blob(rows)})
            up.append(rows[TILE_HEIGHT][0])
        # The partial tile at the right edge: its complete subtrees not stored before.
        rem_start = base + full * TILE_WIDTH
        rem = run[full * TILE_WIDTH:]
        stored = max(have - rem_start, 0)
        rows = pyramid(rem)
        edge = []
        for height, row in enumerate(rows):
            first = rem_start >> height
            for k in range(stored >> height, len(row)):
                node_rows.append({"level": level + height, "idx": first + k, "hash": row[k]})
            if len(rem) >> height & 1:
                edge.append(row[-1])
        edges.append(edge[::-1])
        have >>= TILE_HEIGHT
        if not have and not up:
            break
        tile_level, new = tile_level + 1, up
    frontier = [h for edge in reversed(edges) for h in edge]
    return tile_rows, node_rows, fold_right(frontier) if frontier else EMPTY_ROOT


def extend(conn: Connection, first_index: int, leaves: Sequence[bytes]) -> bytes:
    """Append entries (their bytes) to the stored tree at `first_index`, which must be its
    size; returns the new root. Run it in the transaction that inserts the entries."""
    return extend_hashes(conn, first_index, leaf_hashes(leaves))


def extend_hashes(conn: Connection, first_index: int, hashes: Sequence[bytes]) -> bytes:
    """`extend` with the leaf hashes already computed."""
    size = tree_size(conn)
    if first_index != size:
        raise IntegrityFailure(f"the stored tree has {size} leaves: the next leaf is {size}, not {first_index}")
    tile_rows, node_rows, new_root = grow(
        lambda level, start, end: _single_hashes(conn, level, start, end), size, hashes)
    if tile_rows or node_rows:
        # The rows straight to the driver's executemany (same connection, same transaction):
        # through SQLAlchemy's insert() a batch's ≈300 rows cost ≈5 ms more, ≈0.4 s of
        # extending a million entries in batches of 10,000.
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            if tile_rows:
                cursor.executemany(_INSERT_TILE, tile_rows)
            if node_rows:
                cursor.executemany(_INSERT_NODE, node_rows)
        finally:
            cursor.close()
    return new_root


#: In the driver's paramstyle (SQLite's named); run on the DBAPI cursor.
_INSERT_TILE = "INSERT INTO log_tiles (level, idx, hashes) VALUES (:level, :idx, :hashes)"
_INSERT_NODE = "INSERT INTO log_nodes (level, idx, hash) VALUES (:level, :idx, :hash)"
