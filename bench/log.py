"""Benchmark: the tamper-evident log at 1,000,000 entries (issue 3). Run by hand or `make bench`.

Measures, in one run and on one machine:

  (a) the floor: a plain Python loop that hashes 1,000,000 100-byte leaves with hashlib and
      builds the tree (leaf hashes, then level by level up to the root); median of 3 runs;
  (b) appending the same leaves to a fresh workspace database in batches of 10,000 through
      the store's one write path, `Store.append_bodies` (the leaves are already canonical
      JSON, so only pydantic and serialisation are left out): the entries in chunks of 256
      (`entry_chunks`, with `entry_refs` and the append-only triggers), `tree.extend` and a
      signed checkpoint per batch (`LogWriter.extend`, the workspace's hook), each batch one
      transaction committed with `synchronous=FULL` in WAL mode, as the store configures
      SQLite. Each batch passes `checked_through` = the log's size before it, as the
      workspace does after its reference check has compared the batch with every id of the
      log (that check is not timed here): the store then compares the batch with nothing
      older, only with itself — target ≤ 3× the floor;
  (c) verifying that log as `mast log verify` does (`mast.ledger.log.verify`): every
      checkpoint's signature, the chunks tiling the log, every kind and ref checked against
      its record, every entry re-hashed, the tree rebuilt and compared with every stored
      hash — target ≤ 2× the floor;
  (d) an inclusion proof and a consistency proof at 1,000,000 entries from the SQL node
      source, cold (a new `SqlNodeSource` each time), median of many — target ≤ 1 ms;
  (e) the same workload with pymerkle (a Python peer; GPL, so installed only into a throwaway
      virtualenv under /tmp, never into the project), for comparison.

Every step is timed on the wall clock and in CPU time (this process's, threads included): on a shared machine the wall clock counts other
sessions' work too, CPU time much less so. Ratios are given for both.

Options: --entries N, --batch B, --samples S, --no-pymerkle, --keep DIR (keep the database).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
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

from mast.errors import InvalidInput
from mast.ledger import log as ledger_log
from mast.ledger import merkle, tree
from mast.ledger.keys import new_signer
from mast.records.store import Store

PYMERKLE_VENV = Path("/tmp/mast-bench-pymerkle")
LEAF_BYTES = 100
ORIGIN = "bench.example/log"

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


def clocks() -> tuple[float, float]:
    """(wall, CPU) now. CPU: this process's (all threads) and its reaped children's."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


class Timer:
    """Wall and CPU seconds of a `with` block, accumulated over its uses."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> "Timer":
        self._start = clocks()
        return self

    def __exit__(self, *_exc) -> None:
        wall, cpu = clocks()
        self.wall += wall - self._start[0]
        self.cpu += cpu - self._start[1]


# -- (a) the floor ---------------------------------------------------------------------------


def floor_once(leaves: list[bytes]) -> tuple[Timer, bytes]:
    with Timer() as timer:
        sha = hashlib.sha256
        level = [sha(b"\x00" + leaf).digest() for leaf in leaves]
        while len(level) > 1:
            nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
    return timer, level[0]


# -- (b) appending ---------------------------------------------------------------------------


def open_log(db: Path):
    """A fresh database as `mast init` makes it: the store's schema (entry chunks, refs, blobs,
    their triggers), the tree's and the checkpoints' tables, the empty log's checkpoint; and the
    workspace's append hook, which extends the tree and signs a checkpoint per batch."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    store = Store.sqlite(db, create=True)
    writer = ledger_log.LogWriter(ORIGIN, new_signer(ORIGIN))
    with store.engine.begin() as conn:
        ledger_log.create_tables(conn)
        writer.sign_empty(conn)
    return store, writer


def append_all(store: Store, writer, leaves: list[bytes], batch: int,
               console: Console) -> tuple[Timer, dict[str, Timer]]:
    """Every batch through `Store.append_bodies` with the workspace's hook and `checked_through`
    (the log's size before the batch), timed whole and in parts: before the hook (duplicate
    checks, framing, INSERT of the chunks), the hook (tree and checkpoint), after it (COMMIT)."""
    parts = {"entries": Timer(), "extend": Timer(), "commit": Timer()}
    def hook(conn, first, bodies):
        parts["entries"].__exit__()
        with parts["extend"]:
            writer.extend(conn, first, bodies)
        parts["commit"].__enter__()

    total = Timer()
    with progress(console) as bar:
        task = bar.add_task("(b) append", total=len(leaves))
        with total:
            for start in range(0, len(leaves), batch):
                rows = [(body, "model", None) for body in leaves[start:start + batch]]
                parts["entries"].__enter__()
                first = store.append_bodies(rows, within=hook, checked_through=start)
                parts["commit"].__exit__()
                assert first == start
                bar.advance(task, len(rows))
    return total, parts


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
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, n, batch):
        t.append_entries(leaves[start:start + batch])      # one transaction per batch
    out["append"] = [time.perf_counter() - t0, time.process_time() - c0]
    t.close()
    # verify: re-hash every stored entry against its stored hash, then the root from scratch
    t0, c0 = time.perf_counter(), time.process_time()
    con = sqlite3.connect(path)
    sha = hashlib.sha256
    for entry, digest in con.execute("SELECT entry, hash FROM leaf ORDER BY id"):
        if sha(b"\\x00" + entry).digest() != digest:
            raise SystemExit("pymerkle: bad leaf")
    con.close()
    t = SqliteTree(path)
    out["root"] = t.get_root().hex()
    t.close()
    out["verify"] = [time.perf_counter() - t0, time.process_time() - c0]
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
    floor = Timer()
    floor.wall = statistics.median(t.wall for t, _ in floors)
    floor.cpu = statistics.median(t.cpu for t, _ in floors)
    want_root = floors[0][1]

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="mast-bench-log-"))
    workdir.mkdir(parents=True, exist_ok=True)
    store, writer = open_log(workdir / "log.db")
    appended, parts = append_all(store, writer, leaves, args.batch, console)
    with store.engine.connect() as conn:
        appended_root = tree.root(conn)
    try:                                    # the check is live: a duplicate is refused (the whole log read)
        store.append_bodies([(leaves[n // 2], "model", None)], within=writer.extend)
        raise AssertionError("a duplicate entry was accepted")
    except InvalidInput:
        pass
    assert appended_root == want_root, "the appended tree's root differs from the floor's"

    with console.status("(c) verify: checkpoints, chunks, kinds, refs, the tree…"):
        with Timer() as verified:
            with store.engine.connect() as conn:
                result = ledger_log.verify(conn, writer.signer.verifier())
    assert result.ok and result.size == n and result.root == want_root, result.message

    with console.status(f"(d) {args.samples} inclusion and {args.samples} consistency proofs at {n:,}…"):
        inclusion, consistency = proof_times(store, n, args.samples, want_root)
    size_mb = sum(p.stat().st_size for p in workdir.glob("log.db*")) / 1e6
    store.close()

    peer = None if args.no_pymerkle else run_pymerkle(console, n, args.batch, args.pymerkle_samples, workdir)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)

    table = Table(title=f"mast log, {n:,} entries of {LEAF_BYTES} bytes, batches of {args.batch:,}")
    for name, justify in (("step", "left"), ("wall", "right"), ("× floor", "right"), ("CPU", "right"),
                          ("× floor", "right"), ("target", "left"), ("", "left")):
        table.add_column(name, justify=justify)

    def shown(seconds: float) -> str:
        return f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds:.2f} s"

    def verdict(x: float, limit: float) -> str:
        return "[green]met[/]" if x <= limit else "[red]missed[/]"

    def row(step: str, t: Timer, target: str = "", limit: float | None = None) -> None:
        x_wall, x_cpu = t.wall / floor.wall, t.cpu / floor.cpu
        ok = "" if limit is None else f"wall {verdict(x_wall, limit)}, CPU {verdict(x_cpu, limit)}"
        table.add_row(step, shown(t.wall), f"{x_wall:.2f}", shown(t.cpu), f"{x_cpu:.2f}", target, ok)

    def proof_row(step: str, seconds: float, target: str = "", limit: float | None = None) -> None:
        ok = "" if limit is None else ("[green]met[/]" if seconds <= limit else "[red]missed[/]")
        table.add_row(step, shown(seconds), "", "", "", target, ok)

    def timed(wall: float, cpu: float) -> Timer:
        t = Timer()
        t.wall, t.cpu = wall, cpu
        return t

    row("(a) floor: hashlib loop, leaves + tree", floor)
    row("(b) append: Store.append_bodies + LogWriter.extend", appended, "≤ 3× floor", 3.0)
    for part, label in (("entries", "checks, framing, INSERT chunks"), ("extend", "tree.extend, checkpoint"),
                        ("commit", "COMMIT (fsync)")):
        row(f"    of which {label}", parts[part])
    row("(c) verify (mast log verify)", verified, "≤ 2× floor", 2.0)
    proof_row(f"(d) inclusion proof, median of {len(inclusion)}", statistics.median(inclusion), "≤ 1 ms", 1e-3)
    proof_row(f"(d) consistency proof, median of {len(consistency)}", statistics.median(consistency), "≤ 1 ms", 1e-3)
    if peer:
        if peer["root"] != want_root.hex():
            console.print("[red]pymerkle's root differs from mast's![/]")
        row("(e) pymerkle: append (SqliteTree)", timed(*peer["append"]))
        row("(e) pymerkle: re-hash leaves + root", timed(*peer["verify"]))
        proof_row(f"(e) pymerkle: inclusion proof, median of {args.pymerkle_samples}", peer["inclusion"])
        proof_row(f"(e) pymerkle: consistency proof, median of {args.pymerkle_samples}", peer["consistency"])
    console.print(table)
    console.print("CPU: this process's, all threads. Single-threaded work takes about its CPU time "
                  "on an idle machine; work spread over two cores takes less wall time than CPU time, but only "
                  "when the second core is free.")
    console.print(f"floor runs: {', '.join(f'{t.wall:.2f} s ({t.cpu:.2f} s CPU)' for t, _ in floors)}; "
                  f"proofs p90: inclusion {statistics.quantiles(inclusion, n=10)[-1] * 1e3:.3f} ms, "
                  f"consistency {statistics.quantiles(consistency, n=10)[-1] * 1e3:.3f} ms; "
                  f"database {size_mb:.0f} MB; root {want_root.hex()}")
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    console.print(f"load average {load_end:.2f} at the end (other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
