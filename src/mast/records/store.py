"""The append-only store of records: the log's entries, in chunks, in log order.

Every entry is a record's canonical JSON (its body); its position in the log is its index,
from 0, and its id is the SHA-256 of the body (DESIGN §4), computed when read, not stored.

- `entry_chunks(first, count, kinds, bodies)`: a run of at most 256 consecutive entries of
  one batch, from index `first`: `bodies` frames them as a C2SP tlog-tiles entry bundle (each
  body's length in 2 bytes, then the body: `mast.bundles`), `kinds` is their kinds joined by
  ",", so that a query for one kind reads only the chunks that hold one.
- `entry_refs(ref, idx)`: the entries that have a `ref`, so that the database keeps refs
  unique (its primary key) and finds one without reading the log.

Why chunks: through Python's sqlite3 a row costs 2.5–5 µs to write (even three small ints),
more than hashing the entry; a million entries as a million rows were most of what appending
cost. Why no stored id: a UNIQUE index over random SHA-256 keys is written all over at every
batch (5–8× the time of hashing the whole tree, and as much again to commit the pages it
dirties). An id already in the log is still refused: `append_bodies` compares the batch with
the entries its caller has not already checked (`checked_through`), inside its write
transaction (docs/log.md, "Storage").

Nothing is ever updated or deleted (DESIGN §2.1): the database refuses it with triggers, so
that even a hand-run `UPDATE` fails. Every other table mast keeps is a projection that can be
rebuilt from the entries; `mast log verify` checks `kinds` and `entry_refs` against them.

Written with SQLAlchemy Core so that PostgreSQL can later be added with the same queries;
only the connection set-up and the append-only triggers are per dialect.
"""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mast import bundles
from mast.errors import InvalidInput, MastError, Problem
from mast.gcpause import gc_paused
from mast.records.canonical import MAX_RECORD_BYTES, record_bytes, sha256_hex
from mast.records.kinds import Record, record_adapter

assert MAX_RECORD_BYTES <= bundles.MAX_ENTRY

metadata = MetaData()

#: Entries per chunk at most: a tlog-tiles entry bundle's 256, and few enough that reading
#: one entry (`by_index`) splits little.
CHUNK = 256

entry_chunks = Table(
    "entry_chunks",
    metadata,
    # INTEGER PRIMARY KEY: SQLite's rowid itself, so chunks are kept in log order, appended at
    # the end of the table's b-tree, with no index beside it.
    Column("first", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("kinds", Text, nullable=False),
    Column("bodies", LargeBinary, nullable=False),
)

#: The entries that have a ref: refs are unique where given (the primary key says so).
entry_refs = Table(
    "entry_refs",
    metadata,
    Column("ref", Text, primary_key=True),
    Column("idx", Integer, nullable=False),
)

#: Large content (a framework's text, a report edition, an evaluation log), stored once under
#: the SHA-256 of its bytes; records carry the hash. Append-only like the entries.
blobs_table = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

_SQLITE_TRIGGERS = tuple(
    f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table}
       BEGIN SELECT RAISE(ABORT, 'mast {what} are append-only: {verb} refused'); END"""
    for table, what in (("blobs", "blobs"), ("entry_chunks", "entries"), ("entry_refs", "entries"))
    for verb in ("UPDATE", "DELETE")
)

#: Called inside an append's transaction: (connection, index of the first new entry, bodies).
AppendHook = Callable[[Connection, int, list[bytes]], object]

#: An entry as `Store.append_bodies` takes it: (canonical JSON body, kind, ref).
BodyRow = tuple[bytes, str, "str | None"]

#: In the driver's paramstyle (SQLite's qmark): run through `exec_driver_sql`.
_INSERT_CHUNK = "INSERT INTO entry_chunks (first, count, kinds, bodies) VALUES (?, ?, ?, ?)"
_INSERT_REF = "INSERT INTO entry_refs (ref, idx) VALUES (?, ?)"
_END = "SELECT first + count FROM entry_chunks ORDER BY first DESC LIMIT 1"
#: The chunk holding index ? (chunks tile the log: the last one starting at or before it).
_CHUNK_AT = "SELECT max(first) FROM entry_chunks WHERE first <= ?"


@dataclass(frozen=True)
class Entry:
    """A record at its place in the log."""

    index: int
    id: str
    record: Record


class OldSchema(MastError):
    """A database written by a mast from before entries were chunked (a pre-release schema)."""


class Store:
    """The entries of one database. Create with `Store.open(url)` or `Store.sqlite(path)`."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def sqlite(cls, path: str | Path, create: bool = False) -> "Store":
        path = Path(path)
        if not create and not path.exists():
            raise MastError(f"{path}: database missing")
        return cls.open(f"sqlite:///{path}", create=True)

    @classmethod
    def open(cls, url: str, create: bool = True) -> "Store":
        """Open (and with `create`, initialise) the store at a SQLAlchemy URL. A database of
        the schema before chunks (its entries in a table `entries`) is refused: there is no
        migration (a pre-release change), and reading it as empty would hide its records."""
        if not url.startswith("sqlite"):
            raise MastError(f"database {url.split(':', 1)[0]!r} is not supported yet; only SQLite is")
        engine = create_engine(url)
        _configure_sqlite(engine)
        store = cls(engine)
        try:
            store._refuse_old_schema(url)
            if create:
                store.create_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    def _refuse_old_schema(self, url: str) -> None:
        with self.engine.connect() as conn:
            old = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'entries'").first()
        if old is not None:
            where = url.removeprefix("sqlite:///")
            raise OldSchema(f"{where}: this workspace was made by an older mast (its log is in the table "
                            "`entries`, before entries were stored in chunks); re-create it with `mast init` "
                            "and add its records again")

    def create_schema(self) -> None:
        with self.engine.begin() as conn:
            metadata.create_all(conn)
            if conn.dialect.name == "sqlite":
                for ddl in _SQLITE_TRIGGERS:
                    conn.exec_driver_sql(ddl)

    def close(self) -> None:
        self.engine.dispose()

    # -- writing -----------------------------------------------------------------------------

    def append(self, records: Sequence[Record], *, within: "AppendHook | None" = None,
               blobs: Sequence[bytes] = (), checked_through: int | None = None) -> list[Entry]:
        """Append records in one transaction: all are written, or none.

        A record already in the log (same id) is invalid input: the log would otherwise hold
        a fact twice, and its id would no longer name one entry. `within(conn, first_index,
        bodies)` runs inside the same transaction after the insert — the workspace extends
        the Merkle tree and signs a checkpoint there, so that a batch commits with its
        checkpoint or not at all (the store itself knows nothing of the log). `blobs` are
        stored in the same transaction (content already stored is not stored twice).
        `checked_through`: see `append_bodies`.
        """
        bodies = [record_bytes(record) for record in records]
        rows = [(body, record.kind, record.ref) for body, record in zip(bodies, records)]
        start = self.append_bodies(rows, within=within, blobs=blobs, checked_through=checked_through)
        return [Entry(start + k, sha256_hex(body), record)
                for k, (body, record) in enumerate(zip(bodies, records))]

    def append_bodies(self, rows: Sequence[BodyRow], *, within: "AppendHook | None" = None,
                      blobs: Sequence[bytes] = (), checked_through: int | None = None) -> int:
        """Append entries already serialised, in one transaction: `rows` are (canonical JSON
        body, kind, ref), what `append` derives from each record. Returns the index of the
        first. The one write path: `append` is this after serialising; everything else is as
        `append` says. The caller vouches that kind and ref are the body's (`mast log verify`
        checks).

        Ids already in the log are refused, but only the entries at indexes from
        `checked_through` on (default 0: the whole log) are compared with the batch — in the
        write transaction, so a batch appended by another writer meanwhile is compared too.
        A caller that has itself compared the batch with every id of the log, as the
        workspace's reference check does, passes the log's size as it saw it: then appending
        reads nothing of the log but what was appended since. (Bodies are compared, not ids:
        the same bytes are the same id, with no hashing.)
        """
        if not rows:
            return self.count()
        # One comprehension per column: `zip(*rows)` over a batch of 10,000 measured ten times slower.
        bodies = [row[0] for row in rows]
        kinds = [row[1] for row in rows]
        refs = [row[2] for row in rows]
        if max(map(len, bodies)) > MAX_RECORD_BYTES:
            i = next(i for i, body in enumerate(bodies) if len(body) > MAX_RECORD_BYTES)
            raise InvalidInput(f"a {kinds[i]} record of {len(bodies[i])} bytes is too large: "
                               "a log entry must stay under 64 KiB")
        named = [ref for ref in refs if ref is not None]
        if len(set(bodies)) != len(bodies) or len(set(named)) != len(named):
            raise InvalidInput(_duplicates_within(bodies, refs))
        try:
            with self._write() as conn:
                start = _end(conn)
                since = 0 if checked_through is None else max(checked_through, 0)
                if since < start:
                    problems = _already_recorded(conn, bodies, since)
                    if problems:
                        raise InvalidInput(problems)
                conn.exec_driver_sql(_INSERT_CHUNK, [
                    (start + k, len(bodies[k:k + CHUNK]), ",".join(kinds[k:k + CHUNK]),
                     bundles.frame(bodies[k:k + CHUNK]))
                    for k in range(0, len(bodies), CHUNK)])
                if named:
                    conn.exec_driver_sql(_INSERT_REF, [(ref, start + k) for k, ref in enumerate(refs)
                                                       if ref is not None])
                for data in blobs:
                    _put_blob(conn, data)
                if within is not None:
                    within(conn, start, bodies)
        except IntegrityError:
            # entry_refs' primary key found a ref already in the log (the transaction is
            # rolled back). Looking them up only now keeps the common case to one INSERT.
            with self.engine.connect() as conn:
                problems = _refs_in_store(conn, refs)
            if problems:
                raise InvalidInput(problems) from None
            raise
        return start

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that takes the write lock at BEGIN, so two writers cannot
        both read the same next index; committed on success, rolled back on any error."""
        with self.engine.connect().execution_options(mast_write=True) as conn:
            with conn.begin():
                yield conn

    # -- reading -----------------------------------------------------------------------------

    def count(self) -> int:
        """How many entries the log has (where its last chunk ends)."""
        with self.engine.connect() as conn:
            return _end(conn)

    def keys(self) -> Iterator[tuple[int, str, str, str | None]]:
        """(index, id, kind, ref) of every entry in log order, without parsing any body:
        what reference checks need to know about a large log."""
        sha = hashlib.sha256
        with self.engine.connect() as conn:
            refs = _refs_by_index(conn)
            for index, kind, body in _stored(conn):
                yield index, sha(body).hexdigest(), kind, refs.get(index)

    def bodies(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str, bytes]]:
        """(index, id, canonical bytes) in log order: the log's leaves, unparsed."""
        sha = hashlib.sha256
        for index, body in self._bodies(start, end):
            yield index, sha(body).hexdigest(), body

    def bodies_of(self, kind: str) -> Iterator[tuple[int, bytes]]:
        """(index, canonical bytes) of the entries of one kind, unparsed and without ids: for
        a reader that needs a field or two of many records (e.g. which files were imported)."""
        with self.engine.connect() as conn:
            for index, _kind, body in _stored(conn, kind=kind):
                yield index, body

    def entries(self, kind: str | None = None) -> Iterator[Entry]:
        """Every entry in log order (only those of `kind`, if given)."""
        yield from self._entries(kind)

    def records(self, kind: str | None = None) -> list[Record]:
        return [record for _, _, record in self._parsed(kind, with_ids=False)]

    def blob(self, digest: str) -> bytes | None:
        """The content stored under `digest` (SHA-256 hex), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(blobs_table.c.data).where(blobs_table.c.sha256 == digest)).first()
        return None if row is None else bytes(row[0])

    def by_ref(self, ref: str) -> Entry | None:
        with self.engine.connect() as conn:
            index = conn.exec_driver_sql("SELECT idx FROM entry_refs WHERE ref = ?", (ref,)).scalar()
        return None if index is None else self.by_index(index)

    def by_id(self, id_: str) -> Entry | None:
        """The entry whose id this is. Ids are not stored (see the module), so this reads the
        log until it finds it: O(n), fine for a command naming one record."""
        try:
            digest = bytes.fromhex(id_)
        except ValueError:
            return None
        sha = hashlib.sha256
        for index, body in self._bodies(0, None):
            if sha(body).digest() == digest:
                return Entry(index, id_, parse_body(body))
        return None

    def by_index(self, index: int) -> Entry | None:
        if index < 0:
            return None
        found = next(self._bodies(index, index + 1), None)
        return None if found is None else Entry(index, sha256_hex(found[1]), parse_body(found[1]))

    def _bodies(self, start: int, end: int | None) -> Iterator[tuple[int, bytes]]:
        with self.engine.connect() as conn:
            for index, _kind, body in _stored(conn, start, end):
                yield index, body

    def _entries(self, kind: str | None) -> list[Entry]:
        return [Entry(index, id_, record) for index, id_, record in self._parsed(kind, with_ids=True)]

    def _parsed(self, kind: str | None, with_ids: bool) -> list[tuple[int, str, Record]]:
        """(index, id or "", record) of the entries (of `kind`), parsed by pydantic's JSON
        mode directly (no intermediate dicts), with the collector paused (gcpause)."""
        sha = hashlib.sha256
        validate = record_adapter.validate_json
        out: list[tuple[int, str, Record]] = []
        with self.engine.connect() as conn, gc_paused():
            for index, _kind, body in _stored(conn, kind=kind):
                out.append((index, sha(body).hexdigest() if with_ids else "", validate(body)))
        return out


def _end(conn: Connection) -> int:
    end = conn.exec_driver_sql(_END).scalar()
    return 0 if end is None else end


def _chunks(conn: Connection, start: int = 0, end: int | None = None,
            kind: str | None = None) -> Iterator[tuple[int, int, str, bytes]]:
    """The chunks holding entries [start, end) (of `kind`, if given), in log order. A kind is
    found in `kinds` as ",kind," in ",kinds,": SQLite's instr, in C, so that a query for the
    few framework records does not split the chunks of a million evals."""
    where, params = [], []
    if start > 0:
        first = conn.exec_driver_sql(_CHUNK_AT, (start,)).scalar()
        where.append("first >= ?")
        params.append(start if first is None else first)
    if end is not None:
        where.append("first < ?")
        params.append(end)
    if kind is not None:
        where.append("instr(',' || kinds || ',', ?) > 0")
        params.append(f",{kind},")
    sql = "SELECT first, count, kinds, bodies FROM entry_chunks"
    if where:
        sql += " WHERE " + " AND ".join(where)
    for first, count, kinds, blob in conn.exec_driver_sql(sql + " ORDER BY first", tuple(params)):
        yield first, count, kinds, bytes(blob)


def _stored(conn: Connection, start: int = 0, end: int | None = None,
            kind: str | None = None) -> Iterator[tuple[int, str, bytes]]:
    """(index, kind, body) of the entries [start, end) (of `kind`, if given), in log order:
    the chunks unframed — the one place that reads entries out of them."""
    for first, _count, kinds, blob in _chunks(conn, start, end, kind):
        for k, (body, its) in enumerate(zip(bundles.split(blob), kinds.split(","))):
            index = first + k
            if index >= start and (end is None or index < end) and (kind is None or its == kind):
                yield index, its, body


def _refs_by_index(conn: Connection) -> dict[int, str]:
    return {idx: ref for ref, idx in conn.exec_driver_sql("SELECT ref, idx FROM entry_refs")}


def _put_blob(conn: Connection, data: bytes) -> str:
    digest = sha256_hex(data)
    if conn.execute(select(blobs_table.c.sha256).where(blobs_table.c.sha256 == digest)).first() is None:
        conn.execute(insert(blobs_table), {"sha256": digest, "data": data})
    return digest


def parse_body(body: bytes) -> Record:
    """A record from its canonical JSON. Parsed by pydantic's JSON mode directly (no
    intermediate dicts): reading 100k entries takes well under a second this way."""
    return record_adapter.validate_json(body)


def _duplicates_within(bodies: Sequence[bytes], refs: Sequence[str | None]) -> list[Problem]:
    problems: list[Problem] = []
    seen_bodies: dict[bytes, int] = {}
    seen_refs: dict[str, int] = {}
    for i, (body, ref) in enumerate(zip(bodies, refs)):
        if body in seen_bodies:
            problems.append(Problem("<records>", None, None, f"records[{i}]: the same record as records[{seen_bodies[body]}]"))
        seen_bodies.setdefault(body, i)
        if ref is not None:
            if ref in seen_refs:
                problems.append(Problem("<records>", None, None,
                                        f"records[{i}].ref: {ref!r} is already used by records[{seen_refs[ref]}]"))
            seen_refs.setdefault(ref, i)
    return problems


def _already_recorded(conn: Connection, bodies: Sequence[bytes], since: int) -> list[Problem]:
    """The batch's records already in the log at an index from `since` on (same bytes, so
    same id), in batch order."""
    position = {body: i for i, body in enumerate(bodies)}
    found: dict[int, int] = {}
    for index, _kind, body in _stored(conn, since):
        i = position.get(body)
        if i is not None:
            found.setdefault(i, index)
    return [Problem("<records>", None, None, f"records[{i}]: already recorded at index {index}")
            for i, index in sorted(found.items())]


def _refs_in_store(conn: Connection, refs: Sequence[str | None]) -> list[Problem]:
    first_ref = {ref: i for i, ref in reversed(list(enumerate(refs))) if ref is not None}
    found: list[tuple[int, Problem]] = []
    names = list(first_ref)
    for k in range(0, len(names), 500):
        part = names[k:k + 500]
        rows = conn.exec_driver_sql(
            f"SELECT idx, ref FROM entry_refs WHERE ref IN ({', '.join('?' * len(part))})", tuple(part))
        for idx, ref in rows:
            i = first_ref[ref]
            found.append((i, Problem("<records>", None, None, f"records[{i}].ref: {ref!r} is already used at index {idx}")))
    return [problem for _, problem in sorted(found, key=lambda pair: pair[0])]


#: Page cache per connection, in KiB (SQLite's default is 2 MiB): a ceiling, filled only as
#: pages are used. With rarer checkpoints (below) it keeps the pages a checkpoint has not yet
#: copied in memory rather than reading them back from the WAL.
SQLITE_CACHE_KIB = 128 * 1024
#: WAL pages after which a commit checkpoints them into the database (SQLite's default: 1,000,
#: 4 MiB). A batch of 10,000 entries writes ≈1.7 MB (chunks, tiles, checkpoint), so by default
#: every other commit also checkpointed. Appending a million entries (bench/log.py's loop):
#: 3.7–3.9 s with both settings, 4.0–4.4 s with SQLite's defaults, 4.0 s with only the rarer
#: checkpoints, 5.6 s with only the larger cache. The WAL file is cut back to this size after a
#: checkpoint (and removed when the last connection closes).
SQLITE_WAL_CHECKPOINT_PAGES = 25_000


def _configure_sqlite(engine: Engine) -> None:
    """WAL (readers never block the writer), `synchronous=FULL` (a commit survives power loss),
    and transactions begun by us, not by the driver, so that a write takes its lock at BEGIN;
    a larger page cache and rarer checkpoints (see above)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_CHECKPOINT_PAGES}")
        cursor.execute(f"PRAGMA journal_size_limit={SQLITE_WAL_CHECKPOINT_PAGES * 4096}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("mast_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
