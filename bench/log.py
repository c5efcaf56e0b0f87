"""Benchmark: the tamper-evident log at 1,000,000 entries (issue 3). Run by hand or `make bench`.

Measures, in one run and on one machine:

  (a) the floor: a plain Python loop that hashes 1,000,000 100-byte leaves with hashlib and
      builds the tree (leaf hashes, then level by level up to the root); median of 3 runs;
  (b) appending the same leaves to a fresh SQLite log in batches of 10,000, each batch one
      transaction (one fsync, `synchronous=FULL`, WAL, as the store configures SQLite): the
      entries rows (id = SHA-256 of the body) and `tree.extend` — target ≤ 3× the floor;
  (c) `verify_log` of that log: every entry re-hashed, its id and projections checked, the
      tree rebuilt and compared with every stored hash — target ≤ 2× the floor;
  (d) an inclusion proof and a consistency proof at 1,000,000 entries from the SQL node
      source, cold (a new `SqlNodeSource` each time), median of many — target ≤ 1 ms;
  (e) the same workload with pymerkle (a Python peer; GPL, so installed only into a throwaway
      virtualenv under /tmp, never into the project), for comparison.

Options: --entries N, --batch B, --samples S, --no-pymerkle, --keep DIR (keep the database).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mast.ledger import merkle, tree
from mast.ledger.verify import verify_log
from mast.records.store import Store

PYMERKLE_VENV = Path("/tmp/mast-bench-pymerkle")
LEAF_BYTES = 100
AT = "2025-01-01T00:00:00Z"

# The leaves: 100-byte canonical JSON records, all different. The same function (by source)
# makes them in pymerkle's process.
LEAVES_SOURCE = '''
def make_leaves(n, size=100):
    head = '{"at":"2025-01-01T00:00:00Z","id":"m%08d","kind":"model","name":"'
    pad = size - len(head % 0) - 2
    return [(head % i + "n" * pad + '"}').encode() for i in range(n)]
'''
exec(LEAVES_SOURCE)


def progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console, transient=True)


# -- (a) the floor ---------------------------------------------------------------------------


def floor_once(leaves: list[bytes]) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    sha = hashlib.sha256
    level = [sha(b"\x00" + leaf).digest() for leaf in leaves]
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return time.perf_counter() - t0, level[0]


# -- (b) appending ---------------------------------------------------------------------------


ENTRIES_LIKE = """CREATE TABLE entries (
    idx INTEGER NOT NULL PRIMARY KEY, id VARCHAR(64) NOT NULL, kind TEXT, at TEXT,
    ref TEXT UNIQUE, body BLOB NOT NULL)"""
INSERT_ENTRIES = "INSERT INTO entries (idx, id, kind, at, ref, body) VALUES (?, ?, ?, ?, ?, ?)"


def open_log(db: Path, store_table: bool) -> Store:
    """A fresh SQLite log configured as the store configures it (WAL, synchronous=FULL,
    BEGIN IMMEDIATE), with the tree's tables. The entries table is the store's own with
    `store_table`; else the same columns without the UNIQUE index on `id` (see --store-table)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    if store_table:
        store = Store.sqlite(db, create=True)
    else:
        store = Store.open(f"sqlite:///{db}", create=False)
        with store.engine.begin() as conn:
            conn.exec_driver_sql(ENTRIES_LIKE)
    tree.create_tables(store.engine)
    return store


def append_all(store: Store, leaves: list[bytes], batch: int, console: Console) -> tuple[float, bytes, dict]:
    sha = hashlib.sha256
    new_root = b""
    parts = {"rows": 0.0, "entries": 0.0, "extend": 0.0, "commit": 0.0}
    clock = time.perf_counter
    with progress(console) as bar:
        task = bar.add_task("(b) append", total=len(leaves))
        t0 = clock()
        for start in range(0, len(leaves), batch):
            bodies = leaves[start:start + batch]
            a = clock()
            rows = [(start + k, sha(body).hexdigest(), "model", AT, None, body) for k, body in enumerate(bodies)]
            b = clock()
            with store._write() as conn:           # BEGIN IMMEDIATE ... COMMIT: one fsync
                conn.exec_driver_sql(INSERT_ENTRIES, rows)
                c = clock()
                new_root = tree.extend(conn, start, bodies)
                d = clock()
            e = clock()
            parts["rows"] += b - a
            parts["entries"] += c - b
            parts["extend"] += d - c
            parts["commit"] += e - d
            bar.advance(task, len(bodies))
        elapsed = clock() - t0
    return elapsed, new_root, parts


# -- (d) proofs ------------------------------------------------------------------------------


def proof_times(store: Store, n: int, samples: int, root: bytes) -> tuple[list[float], list[float]]:
    rnd = random.Random(6962)
    inclusion, consistency = [], []
    with store.engine.connect() as conn:
        for _ in range(samples):
            index = rnd.randrange(n)
            t0 = time.perf_counter()
            proof = merkle.inclusion_proof(tree.SqlNodeSource(conn), index, n)
            inclusion.append(time.perf_counter() - t0)
            if len(inclusion) <= 20:
                merkle.verify_inclusion(index, n, tree.SqlNodeSource(conn).node(0, index), proof, root)
        for _ in range(samples):
            old = rnd.randint(1, n - 1)
            t0 = time.perf_counter()
            proof = merkle.consistency_proof(tree.SqlNodeSource(conn), old, n)
            consistency.append(time.perf_counter() - t0)
            if len(consistency) <= 20:
                merkle.verify_consistency(old, n, tree.root(conn, old), root, proof)
    return inclusion, consistency


# -- (e) pymerkle ----------------------------------------------------------------------------

PYMERKLE_SCRIPT = LEAVES_SOURCE + textwrap.dedent('''
    import hashlib, json, os, random, sqlite3, statistics, sys, time
    from pymerkle import SqliteTree
    n, batch, samples, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    leaves = make_leaves(n)
    out = {}
    t = SqliteTree(path)
    t0 = time.perf_counter()
    for start in range(0, n, batch):
        t.append_entries(leaves[start:start + batch])      # one transaction per batch
    out["append"] = time.perf_counter() - t0
    t.close()
    # verify: re-hash every stored entry against its stored hash, then the root from scratch
    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    sha = hashlib.sha256
    for entry, digest in con.execute("SELECT entry, hash FROM leaf ORDER BY id"):
        if sha(b"\\x00" + entry).digest() != digest:
            raise SystemExit("pymerkle: bad leaf")
    con.close()
    t = SqliteTree(path)
    out["root"] = t.get_root().hex()
    t.close()
    out["verify"] = time.perf_counter() - t0
    rnd = random.Random(6962)
    inc, con_ = [], []
    for _ in range(samples):                                   # cold: a new tree each time
        t = SqliteTree(path)
        i = rnd.randrange(n) + 1
        t0 = time.perf_counter(); t.prove_inclusion(i, n); inc.append(time.perf_counter() - t0)
        t.close()
        t = SqliteTree(path)
        old = rnd.randint(1, n - 1)
        t0 = time.perf_counter(); t.prove_consistency(old, n); con_.append(time.perf_counter() - t0)
        t.close()
    out["inclusion"] = statistics.median(inc)
    out["consistency"] = statistics.median(con_)
    print(json.dumps(out))
''')


def pymerkle_python(console: Console) -> Path | None:
    """The throwaway virtualenv's python, with pymerkle installed; None (and why) if it cannot be."""
    python = PYMERKLE_VENV / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PYMERKLE_VENV)], check=True,
                           capture_output=True, text=True)
        check = subprocess.run([str(python), "-c", "import pymerkle"], capture_output=True)
        if check.returncode:
            subprocess.run([str(python), "-m", "pip", "install", "-q", "pymerkle"], check=True,
                           capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or str(exc)
        console.print(f"[yellow]pymerkle: cannot be installed into {PYMERKLE_VENV} ({detail.strip()[-300:]}); skipped[/]")
        return None
    return python


def run_pymerkle(console: Console, n: int, batch: int, samples: int, workdir: Path) -> dict | None:
    python = pymerkle_python(console)
    if python is None:
        return None
    script = workdir / "pymerkle_bench.py"
    script.write_text(PYMERKLE_SCRIPT)
    with console.status(f"pymerkle: appending {n:,} leaves, verifying, proving ({samples} of each, cold)…"):
        done = subprocess.run([str(python), str(script), str(n), str(batch), str(samples),
                               str(workdir / "pymerkle.db")], capture_output=True, text=True)
    if done.returncode:
        console.print(f"[yellow]pymerkle: the run failed: {done.stderr.strip()[-500:]}[/]")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- report ----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--pymerkle-samples", type=int, default=3)
    parser.add_argument("--no-pymerkle", action="store_true")
    parser.add_argument("--store-table", action="store_true",
                        help="append into the store's own entries table, with its UNIQUE index on id")
    parser.add_argument("--keep", type=Path, help="directory to keep the database in")
    args = parser.parse_args()
    n = args.entries
    console = Console()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"SQLite {sqlite3.sqlite_version}, load average {load:.2f} at start")

    with console.status(f"making {n:,} leaves of {LEAF_BYTES} bytes…"):
        leaves = make_leaves(n)  # noqa: F821  (defined by exec above)
    assert all(len(leaf) == LEAF_BYTES for leaf in leaves[:10])

    with console.status("(a) the floor: hashing and building the tree in plain Python, 3 runs…"):
        floors = [floor_once(leaves) for _ in range(3)]
    # The median of three: on a shared machine the best run is a lucky moment that the single
    # runs of the other steps do not get.
    floor = statistics.median(t for t, _ in floors)
    want_root = floors[0][1]

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="mast-bench-log-"))
    workdir.mkdir(parents=True, exist_ok=True)
    store = open_log(workdir / "log.db", args.store_table)
    append_s, appended_root, parts = append_all(store, leaves, args.batch, console)
    assert appended_root == want_root, "the appended tree's root differs from the floor's"

    with console.status("(c) verify_log: re-hashing every entry, rebuilding and comparing the tree…"):
        t0 = time.perf_counter()
        with store.engine.connect() as conn:
            result = verify_log(conn)
        verify_s = time.perf_counter() - t0
    assert result.ok and result.size == n and result.root == want_root, result.message

    with console.status(f"(d) {args.samples} inclusion and {args.samples} consistency proofs at {n:,}…"):
        inclusion, consistency = proof_times(store, n, args.samples, want_root)
    size_mb = sum(p.stat().st_size for p in workdir.glob("log.db*")) / 1e6
    store.close()

    peer = None if args.no_pymerkle else run_pymerkle(console, n, args.batch, args.pymerkle_samples, workdir)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    table = Table(title=f"mast log, {n:,} entries of {LEAF_BYTES} bytes, batches of {args.batch:,}")
    table.add_column("step")
    table.add_column("time", justify="right")
    table.add_column("× floor", justify="right")
    table.add_column("target")
    table.add_column("")

    def row(step: str, seconds: float, target: str, limit: float | None, ratio: bool = True) -> None:
        x = seconds / floor
        ok = "" if limit is None else ("[green]met[/]" if (x if ratio else seconds) <= limit else "[red]missed[/]")
        shown = f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds:.3f} s"
        table.add_row(step, shown, f"{x:.2f}", target, ok)

    row("(a) floor: hashlib loop, leaves + tree", floor, "", None)
    row("(b) append to SQLite + tree.extend", append_s, "≤ 3× floor", 3.0)
    for part, label in (("rows", "ids (SHA-256) and rows"), ("entries", "INSERT entries"),
                        ("extend", "tree.extend"), ("commit", "COMMIT (fsync)")):
        row(f"    of which {label}", parts[part], "", None)
    row("(c) verify_log", verify_s, "≤ 2× floor", 2.0)
    row(f"(d) inclusion proof, median of {len(inclusion)}", statistics.median(inclusion), "≤ 1 ms", 1e-3, ratio=False)
    row(f"(d) consistency proof, median of {len(consistency)}", statistics.median(consistency), "≤ 1 ms", 1e-3, ratio=False)
    if peer:
        if peer["root"] != want_root.hex():
            console.print("[red]pymerkle's root differs from mast's![/]")
        row("(e) pymerkle: append (SqliteTree)", peer["append"], "", None)
        row("(e) pymerkle: re-hash leaves + root", peer["verify"], "", None)
        row(f"(e) pymerkle: inclusion proof, median of {args.pymerkle_samples}", peer["inclusion"], "", None)
        row(f"(e) pymerkle: consistency proof, median of {args.pymerkle_samples}", peer["consistency"], "", None)
    console.print(table)
    if not args.store_table:
        console.print("(b) inserts into a table with the store's columns but no UNIQUE index on id: "
                      "with it (--store-table), each batch rewrites pages all over a random-keyed index")
    console.print(f"floor runs: {', '.join(f'{t:.3f} s' for t, _ in floors)}; "
                  f"proofs p90: inclusion {statistics.quantiles(inclusion, n=10)[-1] * 1e3:.3f} ms, "
                  f"consistency {statistics.quantiles(consistency, n=10)[-1] * 1e3:.3f} ms; "
                  f"database {size_mb:.0f} MB; root {want_root.hex()}")
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"load average {load_end:.2f} at the end (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
