"""Crash safety (issue 3, DESIGN §6): a writer killed with SIGKILL at any moment never loses a
record it acknowledged and never leaves a log that fails `mast log verify`.

The writer appends batches in a loop through `Workspace.add` and prints each batch it has
acknowledged (after the commit), flushing at once; it also prints a line from inside the
transaction (when the tree is extended and the checkpoint signed), so that the test knows
which kills landed mid-transaction. Each trial starts a writer on the same workspace — which
must first recover from the previous kill — and kills it: either after a random delay, or
just after it enters a transaction. After each kill the test checks, with the library, that
the log verifies, that every acknowledged batch is there whole at the index it was given,
that no batch is there in part, and that there is exactly one checkpoint per committed batch
(plus the empty log's); `mast log verify` (the CLI) runs at intervals and at the end.

Most writers are forked from one process that has imported mast already (a fresh
interpreter takes a second to import it); a few are fresh `python` processes. Either way
the writer is a separate process, killed with SIGKILL.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mast.errors import IntegrityFailure
from mast.ledger import log as ledger_log
from mast.workspace import Workspace

pytestmark = pytest.mark.slow

FORKED_TRIALS = 40
FRESH_TRIALS = 4
CLI_VERIFY_EVERY = 15

WRITER = textwrap.dedent('''
    import os, random, sys, traceback
    from mast.ledger import log as ledger_log
    from mast.records.kinds import record_adapter
    from mast.workspace import Workspace

    SIZES = [1, 2, 3, 8, 40, 120, 300]

    def batch_sizes(seed):
        """The sizes of a writer's batches, in order (the test recomputes them)."""
        rng = random.Random(seed)
        while True:
            yield rng.choice(SIZES)

    def record(trial, batch, i):
        return record_adapter.validate_python({
            "kind": "roadmap", "at": "2025-01-01T00:00:00Z", "goal": f"goal {i} of batch {batch}",
            "status": "on_track", "note": f"trial {trial}", "ref": f"t{trial}b{batch}r{i}"})

    def say(line):
        os.write(1, (line + "\\n").encode())  # unbuffered: nothing waits in a buffer when killed

    def write(root, trial, seed):
        say(f"pid {os.getpid()}")
        extend = ledger_log.LogWriter.extend

        def traced(self, conn, first_index, bodies):
            say(f"tx {trial} {first_index}")  # inside the transaction, before the tree grows
            return extend(self, conn, first_index, bodies)

        ledger_log.LogWriter.extend = traced
        ws = Workspace.open(root)
        for batch, size in enumerate(batch_sizes(seed)):
            entries = ws.add([record(trial, batch, i) for i in range(size)])
            say(f"ack {trial} {batch} {entries[0].index} {size}")  # only after the commit

    def zygote(root):
        """Fork a writer for each `go TRIAL SEED` line; report how it ended."""
        for line in sys.stdin:
            _, trial, seed = line.split()
            pid = os.fork()
            if pid == 0:
                try:
                    write(root, int(trial), int(seed))
                except BaseException:
                    traceback.print_exc()
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            say(f"exit {pid} {status}")

    if __name__ == "__main__":
        mode, root = sys.argv[1], sys.argv[2]
        if mode == "zygote":
            zygote(root)
        else:
            write(root, int(sys.argv[3]), int(sys.argv[4]))
''')

SIZES = [1, 2, 3, 8, 40, 120, 300]


def batch_sizes(seed: int):
    rng = random.Random(seed)
    while True:
        yield rng.choice(SIZES)


@dataclass
class Trial:
    number: int
    seed: int
    acked: list[tuple[int, int, int]] = field(default_factory=list)  # (batch, first index, size)
    in_transaction: bool = False  # the last thing the writer said was that it began one
    tx_first: int = -1            # ...at this index
    kill: str = ""


class Lines:
    """Complete lines from a pipe, with a deadline (a kill can cut a line short: it is dropped)."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buffer = b""

    def next(self, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    return None
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


def observe(trial: Trial, line: str) -> None:
    words = line.split()
    if words[0] == "tx":
        trial.in_transaction = True
        trial.tx_first = int(words[2])
    elif words[0] == "ack":
        _, number, batch, first, size = words
        assert int(number) == trial.number
        trial.acked.append((int(batch), int(first), int(size)))
        trial.in_transaction = False


def run_trial(lines: Lines, pid: int, trial: Trial, rng: random.Random) -> None:
    """The writer `pid` has said hello: let it run, kill it, and read what it said before."""
    if rng.random() < 0.5:
        trial.kill = "random"
        deadline = time.monotonic() + rng.uniform(0.0, 0.25)
        while (left := deadline - time.monotonic()) > 0:
            line = lines.next(left)
            if line is None:
                break
            observe(trial, line)
    else:
        # Just after it enters its k-th transaction, give or take a few milliseconds.
        trial.kill = "in-transaction"
        k = rng.randint(1, 3)
        while k:
            line = lines.next(10)
            assert line is not None, "the writer stopped writing"
            observe(trial, line)
            k -= line.startswith("tx ")
        time.sleep(rng.choice([0, 0, 0.0005, 0.001, 0.002, 0.004]))
    os.kill(pid, signal.SIGKILL)


def drain(lines: Lines, trial: Trial, until: str, timeout: float = 10) -> str:
    """Read what the writer printed before it died, up to a line starting with `until`."""
    while True:
        line = lines.next(timeout)
        assert line is not None, f"no {until!r} line"
        if line.startswith(until):
            return line
        observe(trial, line)


def check(root: Path, trials: list[Trial]) -> dict[str, int]:
    """The log verifies; every acknowledged batch is there whole where it was acknowledged;
    every batch there is whole; one checkpoint per committed batch."""
    ws = Workspace.open(root)
    try:
        with ws.store.engine.connect() as conn:
            try:
                result = ledger_log.verify(conn, ws.verifier, ws.witnesses())
            except IntegrityFailure as exc:
                pytest.fail(f"after trial {trials[-1].number} ({trials[-1].kill}): the log does not verify: {exc}")
    finally:
        ws.close()
    con = sqlite3.connect(root / ".mast" / "mast.db")
    try:
        where = {ref: idx for idx, ref in con.execute("SELECT idx, ref FROM entry_refs")}
        checkpoints = [size for (size,) in con.execute("SELECT size FROM log_checkpoints ORDER BY size")]
    finally:
        con.close()
    assert result.size == len(where)
    # Every batch in the log, by (trial, batch): its first index and how many of it are there.
    present: dict[tuple[int, int], list[int]] = {}
    for ref, idx in where.items():
        t, b = ref[1:].split("r")[0].split("b")
        present.setdefault((int(t), int(b)), []).append(idx)
    by_number = {t.number: t for t in trials}
    boundaries = [0]
    for (t, b), indexes in sorted(present.items(), key=lambda item: min(item[1])):
        sizes = batch_sizes(by_number[t].seed)
        size = next(s for i, s in enumerate(sizes) if i == b)
        first = min(indexes)
        assert sorted(indexes) == list(range(first, first + size)), f"batch {b} of trial {t} is there in part"
        assert first == boundaries[-1]
        boundaries.append(first + size)
    for trial in trials:
        for batch, first, size in trial.acked:
            for i in range(size):
                ref = f"t{trial.number}b{batch}r{i}"
                assert where.get(ref) == first + i, f"trial {trial.number}: acknowledged {ref} is missing or moved"
    assert checkpoints == boundaries, "a checkpoint for each committed batch, and none for a rolled-back one"
    owners = {idx: int(ref[1:].split("b")[0]) for ref, idx in where.items()}
    return {"entries": len(where), "batches": len(present), "owners": owners}


def cli_verify(root: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MAST_WORKSPACE"}
    result = subprocess.run([sys.executable, "-m", "mast", "-w", str(root), "log", "verify"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_kill_9_never_loses_an_acknowledged_record_nor_breaks_the_log(tmp_path):
    started = time.monotonic()
    root = tmp_path / "lab"
    Workspace.init(root).close()
    writer = tmp_path / "writer.py"
    writer.write_text(WRITER, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "MAST_WORKSPACE"}
    trials: list[Trial] = []
    rng = random.Random(20250101)

    zygote = subprocess.Popen([sys.executable, str(writer), "zygote", str(root)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env)
    lines = Lines(zygote.stdout.fileno())
    try:
        for number in range(FORKED_TRIALS):
            trial = Trial(number, seed=1000 + number)
            trials.append(trial)
            zygote.stdin.write(f"go {number} {trial.seed}\n".encode())
            zygote.stdin.flush()
            pid = int(drain(lines, trial, "pid ", timeout=60).split()[1])
            run_trial(lines, pid, trial, rng)
            status = int(drain(lines, trial, f"exit {pid} ").split()[2])
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
            check(root, trials)
            if number % CLI_VERIFY_EVERY == CLI_VERIFY_EVERY - 1:
                cli_verify(root)
    finally:
        zygote.stdin.close()
        try:
            zygote.wait(timeout=30)
        except subprocess.TimeoutExpired:
            zygote.kill()
            zygote.wait()
        zygote.stdout.close()

    for number in range(FORKED_TRIALS, FORKED_TRIALS + FRESH_TRIALS):
        trial = Trial(number, seed=1000 + number)
        trials.append(trial)
        proc = subprocess.Popen([sys.executable, str(writer), "write", str(root), str(number), str(trial.seed)],
                                stdout=subprocess.PIPE, env=env)
        try:
            lines = Lines(proc.stdout.fileno())
            drain(lines, trial, "pid ", timeout=60)
            run_trial(lines, proc.pid, trial, rng)
            proc.wait(timeout=30)
            while (line := lines.next(0.5)) is not None:
                observe(trial, line)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        assert proc.returncode == -signal.SIGKILL
        check(root, trials)

    totals = check(root, trials)
    out = cli_verify(root)
    assert out.startswith(f"ok: {totals['entries']} entries, {totals['batches'] + 1} checkpoints verified")

    acked = sum(len(t.acked) for t in trials)
    assert acked >= len(trials) // 4, "the writers acknowledged too little for the test to mean much"
    # Kills after a batch's transaction began and before its acknowledgement: most before the
    # commit (the WAL rolled them back), some just after it (there, but never acknowledged).
    mid = [t for t in trials if t.in_transaction]
    rolled_back = [t for t in mid if t.tx_first >= totals["entries"] or t.tx_first not in totals["owners"]
                   or totals["owners"][t.tx_first] != t.number]
    assert len(rolled_back) >= 5, [(t.number, t.kill, t.in_transaction) for t in trials]
    print(f"{len(trials)} kills: {len(mid)} inside a transaction ({len(rolled_back)} rolled back), "
          f"{acked} batches acknowledged, {totals['entries']} entries in {totals['batches']} batches; "
          f"{time.monotonic() - started:.1f} s")
