"""What a workspace's database holds, read with plain sqlite3 beside mast: tests compare it
before and after a command to prove that nothing was written, and read bodies back as the
log stores them (entry chunks framed as tlog-tiles bundles, refs in their own table)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mast.bundles import split


def database(ws: Path) -> Path:
    return ws / ".mast" / "mast.db"


def entries(ws: Path) -> list[tuple[int, str, str | None, bytes]]:
    """Every entry as (index, kind, ref, body), in log order."""
    con = sqlite3.connect(database(ws))
    try:
        refs = dict(con.execute("SELECT idx, ref FROM entry_refs"))
        return [(first + k, kind, refs.get(first + k), body)
                for first, kinds, bundle in con.execute("SELECT first, kinds, bodies FROM entry_chunks ORDER BY first")
                for k, (kind, body) in enumerate(zip(kinds.split(","), split(bundle)))]
    finally:
        con.close()


def bodies(ws: Path) -> list[bytes]:
    """Every entry's body, in log order."""
    return [body for *_, body in entries(ws)]


def count(ws: Path) -> int:
    """How many entries the log holds."""
    con = sqlite3.connect(database(ws))
    try:
        return con.execute("SELECT coalesce(sum(count), 0) FROM entry_chunks").fetchone()[0]
    finally:
        con.close()
