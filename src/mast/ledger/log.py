"""The log as a workspace keeps it: the tree's hashes beside the entries, and a signed
checkpoint after every committed batch — all in the batch's own transaction, so that a batch
is durable with its checkpoint or not at all (one fsync per batch, DESIGN §6).

Witness cosignatures arrive later than the checkpoint they sign; they are appended to their
own table, never by rewriting a checkpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence

from sqlalchemy import Column, Integer, LargeBinary, MetaData, Table, Text, column, insert, select, table
from sqlalchemy.engine import Connection

from mast import bundles
from mast.errors import IntegrityFailure
from mast.ledger import tree
from mast.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from mast.ledger.keys import Signer, Verifier
from mast.ledger.merkle import EMPTY_ROOT
from mast.ledger.note import parse_note

metadata = MetaData()

checkpoints_table = Table(
    "log_checkpoints", metadata,
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("root", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", Text, nullable=False),
)

cosignatures_table = Table(
    "log_cosignatures", metadata,
    Column("size", Integer, primary_key=True, autoincrement=False),
    Column("witness", Text, primary_key=True),
    Column("note", Text, nullable=False),  # the checkpoint note with the witness's line added
    Column("added_at", Text, nullable=False),
)

_APPEND_ONLY = [
    f"CREATE TRIGGER IF NOT EXISTS {t}_no_{verb.lower()} BEFORE {verb} ON {t} "
    f"BEGIN SELECT RAISE(ABORT, 'mast {t} is append-only: {verb} refused'); END"
    for t in ("log_checkpoints", "log_cosignatures") for verb in ("UPDATE", "DELETE")
]


def create_tables(conn: Connection) -> None:
    """The tree's tables and the checkpoint tables (existing ones are kept)."""
    tree.create_tables(conn)
    metadata.create_all(conn)
    if conn.dialect.name == "sqlite":
        for ddl in _APPEND_ONLY:
            conn.exec_driver_sql(ddl)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class LogWriter:
    """Extends the tree with a batch's entries and signs the new checkpoint, on the caller's
    connection (inside the caller's transaction)."""

    origin: str
    signer: Signer

    def extend(self, conn: Connection, first_index: int, bodies: Sequence[bytes]) -> str:
        """Add `bodies` (the entries at `first_index`...) and return the signed checkpoint."""
        size = tree.tree_size(conn)
        if size != first_index:
            raise IntegrityFailure(f"the tree has {size} leaves but the batch starts at index {first_index}")
        root = tree.extend(conn, first_index, bodies)
        size = first_index + len(bodies)
        note = sign_checkpoint(Checkpoint(self.origin, size, root), self.signer)
        conn.execute(insert(checkpoints_table), {"size": size, "root": root, "note": note, "signed_at": _now()})
        return note

    def sign_empty(self, conn: Connection) -> str:
        """The checkpoint of the empty log, signed at `mast init`."""
        note = sign_checkpoint(Checkpoint(self.origin, 0, EMPTY_ROOT), self.signer)
        conn.execute(insert(checkpoints_table), {"size": 0, "root": EMPTY_ROOT, "note": note, "signed_at": _now()})
        return note


def latest_checkpoint(conn: Connection) -> str | None:
    """The newest signed checkpoint, with every witness cosignature it has gathered."""
    row = conn.execute(select(checkpoints_table.c.size, checkpoints_table.c.note)
                       .order_by(checkpoints_table.c.size.desc()).limit(1)).first()
    if row is None:
        return None
    return with_cosignatures(conn, row.size, row.note)


def checkpoint_at(conn: Connection, size: int) -> str | None:
    row = conn.execute(select(checkpoints_table.c.note).where(checkpoints_table.c.size == size)).first()
    return None if row is None else with_cosignatures(conn, size, row.note)


def with_cosignatures(conn: Connection, size: int, note: str) -> str:
    """`note` with the signature lines of every cosigned copy of it appended."""
    rows = conn.execute(select(cosignatures_table.c.note).where(cosignatures_table.c.size == size)
                        .order_by(cosignatures_table.c.added_at, cosignatures_table.c.witness)).all()
    _, own = parse_note(note)
    seen = {(s.name, s.key_hash) for s in own}
    extra = []
    for (cosigned,) in rows:
        for sig in parse_note(cosigned)[1]:
            if (sig.name, sig.key_hash) not in seen:
                seen.add((sig.name, sig.key_hash))
                extra.append(sig)
    return note + "".join(sig.line() for sig in extra)


def stored_checkpoints(conn: Connection) -> list[tuple[int, bytes, str]]:
    """(size, root, note) of every checkpoint, smallest first."""
    rows = conn.execute(select(checkpoints_table.c.size, checkpoints_table.c.root, checkpoints_table.c.note)
                        .order_by(checkpoints_table.c.size)).all()
    return [(r.size, bytes(r.root), r.note) for r in rows]


def add_cosignature(conn: Connection, size: int, witness: str, cosigned_note: str) -> None:
    """Keep a witness's cosigned copy of the checkpoint at `size`."""
    conn.execute(insert(cosignatures_table),
                 {"size": size, "witness": witness, "note": cosigned_note, "added_at": _now()})


def check_checkpoint_signatures(conn: Connection, log_verifier: Verifier,
                                witnesses: Iterable[Verifier] = ()) -> list[tuple[int, bytes]]:
    """Verify every stored checkpoint (and cosigned copy): signature, origin-independent body,
    and that the stored root is the one signed. Returns (size, root) pairs for the tree check.

    Raises `IntegrityFailure` naming the first bad checkpoint."""
    witnesses = tuple(witnesses)
    pairs = []
    for size, root, note in stored_checkpoints(conn):
        try:
            cp, _ = open_checkpoint(note, log_verifier)
        except Exception as exc:
            raise IntegrityFailure(f"checkpoint at size {size}: {exc}") from None
        if cp.size != size or cp.root != root:
            raise IntegrityFailure(f"checkpoint at size {size}: the signed note says size {cp.size} "
                                   f"and another root than the one stored")
        pairs.append((size, root))
    rows = conn.execute(select(cosignatures_table.c.size, cosignatures_table.c.witness,
                               cosignatures_table.c.note)).all()
    for size, witness, note in rows:
        try:
            cp, cosigs = open_checkpoint(note, log_verifier, witnesses)
        except Exception as exc:
            raise IntegrityFailure(f"cosigned checkpoint at size {size} ({witness}): {exc}") from None
        if cp.size != size:
            raise IntegrityFailure(f"cosigned checkpoint at size {size} ({witness}) is for size {cp.size}")
        pairs.append((size, cp.root))
    return pairs


def verify(conn: Connection, log_verifier: Verifier, witnesses: Iterable[Verifier] = (),
           extra: Iterable[tuple[int, bytes]] = ()):
    """Everything `mast log verify` checks: every stored checkpoint's signature and root, the
    entries, every stored hash, and that each checkpoint (and each of `extra`, e.g. one an
    outsider saved) is a root of the recomputed tree; and that the latest checkpoint covers
    every entry (each batch is committed with its checkpoint, so an entry beyond it was added
    some other way). Returns the `VerifyResult`; raises `IntegrityFailure` (exit 4) naming the
    first bad checkpoint or entry."""
    from mast.ledger.verify import LogIntegrityFailure, verify_log

    pairs = check_checkpoint_signatures(conn, log_verifier, witnesses) + list(extra)
    _check_not_truncated(conn)
    result = verify_log(conn, pairs).raise_for_failure()
    signed = max((size for size, _, _ in stored_checkpoints(conn)), default=None)
    if signed is None:
        raise LogIntegrityFailure("the log has no signed checkpoint (mast init signs one for the empty log)", 0)
    if signed < result.size:
        last = result.size - 1
        which = f"entry {signed} is" if last == signed else f"entries {signed}\u2013{last} are"
        raise LogIntegrityFailure(f"{which} not covered by any signed checkpoint (the latest is at size {signed}): "
                                  f"entry {signed} was added without the checkpoint its batch commits with", signed)
    check_blobs(conn)
    return result


#: the store's content-addressed blobs, named here without importing the store
_blobs = table("blobs", column("sha256", Text), column("data", LargeBinary))


def check_blobs(conn: Connection) -> int:
    """Every blob must hash to the name it is stored under (records carry that hash, so a
    changed blob would silently change what a record points at). Returns the count."""
    count = 0
    for digest, data in conn.execute(select(_blobs.c.sha256, _blobs.c.data)):
        if hashlib.sha256(bytes(data)).hexdigest() != digest:
            raise IntegrityFailure(f"blob {digest}: its content does not hash to its name")
        count += 1
    return count


def _check_not_truncated(conn: Connection) -> None:
    """Entries deleted from the end of the log while the stored tree still holds their hashes:
    name the first missing index. (The full check would otherwise find the tree's partial
    tile short of hashes below the cut, and name an index there that is not at fault.)"""
    from mast.ledger.verify import LogIntegrityFailure

    # The store's chunks (named here without importing the store): how many entries they
    # hold, and where the last ends; equal when they tile the log without a gap.
    count, end = conn.exec_driver_sql("SELECT coalesce(sum(count), 0), max(first + count) FROM entry_chunks").one()
    have = tree.tree_size(conn)
    if have > count and (end is None or end == count) and _last_entry_in_place(conn, count):
        ends = f"the log ends at entry {count - 1}" if count else "the log has no entries"
        raise LogIntegrityFailure(f"entries {count}\u2013{have - 1} are missing: the stored tree has {have} leaves "
                                  f"but {ends}", count)


def _last_entry_in_place(conn: Connection, count: int) -> bool:
    """Whether the log's last entry is the tree's leaf at its index: then the entries end
    early (a truncation); otherwise one was removed before it, which the full check names."""
    if count == 0:
        return True
    blob = conn.exec_driver_sql("SELECT bodies FROM entry_chunks ORDER BY first DESC LIMIT 1").scalar()
    try:
        last = bundles.split(bytes(blob))[-1]
        held = tree.SqlNodeSource(conn).node(0, count - 1)
    except (bundles.BrokenBundle, IndexError, KeyError, TypeError):
        return False
    return hashlib.sha256(b"\x00" + last).digest() == held
