"""The append-only store of records: one table, `entries`, in log order.

Every entry is a record's canonical JSON (`body`) and its SHA-256 (`id`); `idx` is its
position in the log, from 0. Nothing is ever updated or deleted (DESIGN §2.1): the database
refuses it with triggers, so that even a hand-run `UPDATE` fails. Every other table mast
keeps is a projection that can be rebuilt from this one.

Written with SQLAlchemy Core so that PostgreSQL can later be added with the same queries;
only the connection set-up, the append-only triggers and the entries' INSERT (on the
driver's cursor, for speed) are per dialect.
"""

from __future__ import annotations

from mast.gcpause import gc_paused

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from mast.errors import InvalidInput, MastError, Problem
from mast.records.canonical import MAX_RECORD_BYTES, record_bytes, sha256_hex
from mast.records.kinds import Record, record_adapter
from mast.vocabulary import UTC, iso

metadata = MetaData()

entries_table = Table(
    "entries",
    metadata,
    Column("idx", Integer, primary_key=True, autoincrement=False),
    # UNIQUE: a record is in the log once. The index over these random keys is most of what
    # appending costs at a million entries (docs/log.md, "Measured"); as 32-byte BLOBs they
    # measured only ≈4% less (23.9 → 22.9 s of CPU), not worth a second form of the id.
    Column("id", String(64), unique=True, nullable=False),
    Column("kind", Text),
    Column("at", Text),
    Column("ref", Text, nullable=True),
    Column("body", LargeBinary, nullable=False),
)
#: Refs are unique where given. Partial, so that the many entries without one add nothing to it.
Index("entries_ref", entries_table.c.ref, unique=True, sqlite_where=entries_table.c.ref.is_not(None),
      postgresql_where=entries_table.c.ref.is_not(None))

#: Large content (a framework's text, a report edition, an evaluation log), stored once under
#: the SHA-256 of its bytes; records carry the hash. Append-only like the entries.
blobs_table = Table(
    "blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS blobs_no_update BEFORE UPDATE ON blobs
       BEGIN SELECT RAISE(ABORT, 'mast blobs are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS blobs_no_delete BEFORE DELETE ON blobs
       BEGIN SELECT RAISE(ABORT, 'mast blobs are append-only: DELETE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
       BEGIN SELECT RAISE(ABORT, 'mast entries are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
       BEGIN SELECT RAISE(ABORT, 'mast entries are append-only: DELETE refused'); END""",
)

#: Called inside an append's transaction: (connection, index of the first new entry, bodies).
AppendHook = Callable[[Connection, int, list[bytes]], object]

#: An entry as `Store.append_bodies` takes it: (canonical JSON body, kind, at in UTC, ref).
BodyRow = tuple[bytes, "str | None", "str | None", "str | None"]

_NEXT_INDEX = select(func.coalesce(func.max(entries_table.c.idx) + 1, 0))
#: In the driver's paramstyle (SQLite's qmark): run on the DBAPI cursor, not through SQLAlchemy.
_INSERT_ENTRIES = "INSERT INTO entries (idx, id, kind, at, ref, body) VALUES (?, ?, ?, ?, ?, ?)"


@dataclass(frozen=True)
class Entry:
    """A record at its place in the log."""

    index: int
    id: str
    record: Record


class Store:
    """The entries table of one database. Create with `Store.open(url)` or `Store.sqlite(path)`."""

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
        """Open (and with `create`, initialise) the store at a SQLAlchemy URL."""
        if not url.startswith("sqlite"):
            raise MastError(f"database {url.split(':', 1)[0]!r} is not supported yet; only SQLite is")
        engine = create_engine(url)
        _configure_sqlite(engine)
        store = cls(engine)
        if create:
            store.create_schema()
        return store

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
               blobs: Sequence[bytes] = ()) -> list[Entry]:
        """Append records in one transaction: all are written, or none.

        A record already in the log (same id) is invalid input: the log would otherwise hold
        a fact twice, and its id would no longer name one entry. `within(conn, first_index,
        bodies)` runs inside the same transaction after the insert — the workspace extends
        the Merkle tree and signs a checkpoint there, so that a batch commits with its
        checkpoint or not at all (the store itself knows nothing of the log). `blobs` are
        stored in the same transaction (content already stored is not stored twice).
        """
        rows = [(record_bytes(record), record.kind, iso(record.at.astimezone(UTC)), record.ref)
                for record in records]
        start, ids = self.append_bodies(rows, within=within, blobs=blobs)
        return [Entry(start + k, id_, record) for k, (id_, record) in enumerate(zip(ids, records))]

    def append_bodies(self, rows: Sequence[BodyRow], *, within: "AppendHook | None" = None,
                      blobs: Sequence[bytes] = ()) -> tuple[int, list[str]]:
        """Append entries already serialised, in one transaction: `rows` are (canonical JSON
        body, kind, at as UTC text, ref), the columns `append` derives from each record.
        Returns the index of the first and the ids of all. The one write path: `append` is
        this after serialising; everything else is as `append` says.

        The caller vouches that kind, at and ref are the body's (`mast log verify` checks).
        """
        if not rows:
            return self.count(), []
        bodies, kinds, ats, refs = (list(column) for column in zip(*rows))
        if max(map(len, bodies)) > MAX_RECORD_BYTES:
            i = next(i for i, body in enumerate(bodies) if len(body) > MAX_RECORD_BYTES)
            raise InvalidInput(f"a {kinds[i]} record of {len(bodies[i])} bytes is too large: "
                               "a log entry must stay under 64 KiB")
        sha = hashlib.sha256
        ids = [sha(body).hexdigest() for body in bodies]
        named = [ref for ref in refs if ref is not None]
        if len(set(ids)) != len(ids) or len(set(named)) != len(named):
            raise InvalidInput(_duplicates_within(ids, refs))
        dbapi_integrity_error = self.engine.dialect.dbapi.IntegrityError
        try:
            with self._write() as conn:
                start = conn.execute(_NEXT_INDEX).scalar_one()
                # Tuples straight to the driver's executemany, on the same connection and in
                # the same transaction: through SQLAlchemy, appending 300,000 entries took
                # 5.0 s (insert() with dicts) or 3.5 s (exec_driver_sql with tuples) of CPU
                # before the hook, against 2.2 s so (bench/log.py's parts).
                cursor = conn.connection.dbapi_connection.cursor()
                try:
                    cursor.executemany(_INSERT_ENTRIES, zip(range(start, start + len(ids)), ids, kinds, ats,
                                                            refs, bodies))
                finally:
                    cursor.close()
                for data in blobs:
                    _put_blob(conn, data)
                if within is not None:
                    within(conn, start, bodies)
        except (IntegrityError, dbapi_integrity_error):
            # The UNIQUE constraints found an id or ref already in the log (the transaction is
            # rolled back). Looking them up only now keeps the common case to one INSERT.
            with self.engine.connect() as conn:
                problems = _duplicates_in_store(conn, ids, refs)
            if problems:
                raise InvalidInput(problems) from None
            raise
        return start, ids

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction that takes the write lock at BEGIN, so two writers cannot
        both read the same next `idx`; committed on success, rolled back on any error."""
        with self.engine.connect().execution_options(mast_write=True) as conn:
            with conn.begin():
                yield conn

    # -- reading -----------------------------------------------------------------------------

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(entries_table)).scalar_one()

    def keys(self) -> Iterator[tuple[int, str, str, str | None]]:
        """(index, id, kind, ref) of every entry in log order, without parsing any body:
        what reference checks need to know about a large log."""
        t = entries_table
        with self.engine.connect() as conn:
            yield from conn.execute(select(t.c.idx, t.c.id, t.c.kind, t.c.ref).order_by(t.c.idx))

    def bodies(self, start: int = 0, end: int | None = None) -> Iterator[tuple[int, str, bytes]]:
        """(index, id, canonical bytes) in log order: the log's leaves, unparsed."""
        t = entries_table
        query = select(t.c.idx, t.c.id, t.c.body).where(t.c.idx >= start).order_by(t.c.idx)
        if end is not None:
            query = query.where(t.c.idx < end)
        with self.engine.connect() as conn:
            for idx, id_, body in conn.execute(query):
                yield idx, id_, bytes(body)

    def entries(self, kind: str | None = None) -> Iterator[Entry]:
        """Every entry in log order (only those of `kind`, if given)."""
        yield from self._entries(kind=kind)

    def records(self, kind: str | None = None) -> list[Record]:
        return [e.record for e in self._entries(kind=kind)]

    def blob(self, digest: str) -> bytes | None:
        """The content stored under `digest` (SHA-256 hex), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(blobs_table.c.data).where(blobs_table.c.sha256 == digest)).first()
        return None if row is None else bytes(row[0])

    def by_ref(self, ref: str) -> Entry | None:
        found = self._entries(ref=ref)
        return found[0] if found else None

    def by_id(self, id_: str) -> Entry | None:
        found = self._entries(id_=id_)
        return found[0] if found else None

    def by_index(self, index: int) -> Entry | None:
        found = self._entries(index=index)
        return found[0] if found else None

    def _entries(self, kind: str | None = None, ref: str | None = None,
                 id_: str | None = None, index: int | None = None) -> list[Entry]:
        t = entries_table
        query = select(t.c.idx, t.c.id, t.c.body).order_by(t.c.idx)
        if kind is not None:
            query = query.where(t.c.kind == kind)
        if ref is not None:
            query = query.where(t.c.ref == ref)
        if id_ is not None:
            query = query.where(t.c.id == id_)
        if index is not None:
            query = query.where(t.c.idx == index)
        with self.engine.connect() as conn, gc_paused():
            return [Entry(idx, id_, parse_body(body)) for idx, id_, body in conn.execute(query)]


def _put_blob(conn: Connection, data: bytes) -> str:
    digest = sha256_hex(data)
    if conn.execute(select(blobs_table.c.sha256).where(blobs_table.c.sha256 == digest)).first() is None:
        conn.execute(insert(blobs_table), {"sha256": digest, "data": data})
    return digest


def parse_body(body: bytes) -> Record:
    """A record from its canonical JSON. Parsed by pydantic's JSON mode directly (no
    intermediate dicts): reading 100k entries takes well under a second this way."""
    return record_adapter.validate_json(body)




def _duplicates_within(ids: Sequence[str], refs: Sequence[str | None]) -> list[Problem]:
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    seen_refs: dict[str, int] = {}
    for i, (id_, ref) in enumerate(zip(ids, refs)):
        if id_ in seen_ids:
            problems.append(Problem("<records>", None, None, f"records[{i}]: the same record as records[{seen_ids[id_]}]"))
        seen_ids.setdefault(id_, i)
        if ref is not None:
            if ref in seen_refs:
                problems.append(Problem("<records>", None, None,
                                        f"records[{i}].ref: {ref!r} is already used by records[{seen_refs[ref]}]"))
            seen_refs.setdefault(ref, i)
    return problems


def _duplicates_in_store(conn: Connection, ids: Sequence[str], refs: Sequence[str | None]) -> list[Problem]:
    first_id = {id_: i for i, id_ in reversed(list(enumerate(ids)))}
    first_ref = {ref: i for i, ref in reversed(list(enumerate(refs))) if ref is not None}
    t = entries_table
    found: list[tuple[int, Problem]] = []
    for chunk in _chunks(list(first_id), 500):
        for idx, id_ in conn.execute(select(t.c.idx, t.c.id).where(t.c.id.in_(chunk))):
            i = first_id[id_]
            found.append((i, Problem("<records>", None, None, f"records[{i}]: already recorded at index {idx}")))
    for chunk in _chunks(list(first_ref), 500):
        for idx, ref in conn.execute(select(t.c.idx, t.c.ref).where(t.c.ref.in_(chunk))):
            i = first_ref[ref]
            found.append((i, Problem("<records>", None, None, f"records[{i}].ref: {ref!r} is already used at index {idx}")))
    return [problem for _, problem in sorted(found, key=lambda pair: pair[0])]


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


#: Page cache per connection, in KiB (SQLite's default is 2 MiB). The UNIQUE index on the
#: random ids is 84 MB at a million entries and every batch inserts all over it: with the
#: default cache most inserts first read their page back from the file. 128 MiB took the
#: INSERTs of a million entries from ≈21 s to ≈11 s of CPU (bench/log.py); it is a ceiling,
#: filled only as pages are used.
SQLITE_CACHE_KIB = 128 * 1024
#: WAL pages after which a commit checkpoints them into the database (SQLite's default: 1,000,
#: 4 MiB). A batch of 10,000 entries dirties thousands of pages of that index, so by default
#: every commit also checkpointed; every few batches instead, a page rewritten by each is
#: copied once: COMMITs of a million entries ≈11 s → ≈8.4 s of CPU. The WAL file is cut back to
#: this size after a checkpoint (and removed when the last connection closes).
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
