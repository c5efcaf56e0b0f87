"""Tampering with a workspace's log the way an attacker with the database file would — the
sqlite3 module on `.mast/mast.db`, the append-only triggers dropped first — and `mast log
verify` catching it: exit 4 and a message naming the first bad index (or the bad checkpoint).

Some rewrites no check of the database alone can catch: an attacker who holds the log's
signing key can rebuild a shorter or different log and sign it. What catches those is a
checkpoint saved outside — `mast log verify --checkpoint FILE` — and a witness, whose state
holds the last checkpoint it cosigned (`mast log cosign` refuses the rewritten log).

The workspace is built with the library (fast) in batches [3, 5, 1, 300, 4]: 313 entries, so
the tree has a full tile (entries 0-255) and a right edge of single hashes. Each tampering is
applied to its own copy and `mast log verify` run on each (in-process, tests/cli_runner.py).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pytest
import tampering

from cli_runner import Result, run
from mast.errors import IntegrityFailure
from mast.ledger import log as ledger_log
from mast.ledger.checkpoint import Checkpoint, sign_checkpoint
from mast.ledger.keys import ALG_COSIGNATURE_V1, new_signer
from mast.ledger.verify import LogIntegrityFailure
from mast.records.canonical import canonical_bytes, record_bytes
from mast.records.kinds import record_adapter
from mast.records.store import parse_body
from mast.workspace import Workspace

BATCHES = [3, 5, 1, 300, 4]
N = sum(BATCHES)
SIZES = [0, 3, 8, 9, 309, 313]


def record(i: int, prefix: str = "r"):
    return record_adapter.validate_python({
        "kind": "roadmap", "at": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z", "goal": f"goal number {i}",
        "status": "met", "note": "kept", "ref": f"{prefix}{i}"})


def build(directory: Path, batches=BATCHES, prefix: str = "r") -> Path:
    ws = Workspace.init(directory)
    try:
        n = 0
        for size in batches:
            ws.add([record(n + i, prefix) for i in range(size)])
            n += size
    finally:
        ws.close()
    return directory


# -- running mast -----------------------------------------------------------------------------


def mast(ws: Path, *args) -> Result:
    return run("-w", ws, *map(str, args), width=80)


def mast_many(calls: list[tuple]) -> list[Result]:
    """Run `mast` commands one after another: each call is (ws, *args)."""
    return [mast(*call) for call in calls]


def ok(result: Result) -> str:
    assert result.code == 0, (result.args, result.stdout, result.stderr)
    return result.stdout


def integrity_failure(result: Result) -> str:
    """Exit 4, one `error:` message, no traceback, nothing on stdout."""
    assert result.code == 4, (result.args, result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: "), result.stderr
    return result.stderr


def library_verify(ws: Path) -> IntegrityFailure | None:
    """What `mast.ledger.log.verify` raises for the workspace (None if it verifies)."""
    w = Workspace.open(ws)
    try:
        with w.store.engine.connect() as conn:
            ledger_log.verify(conn, w.verifier, w.witnesses())
    except IntegrityFailure as exc:
        return exc
    finally:
        w.close()
    return None


# -- the attacker -----------------------------------------------------------------------------


@contextmanager
def attacker(ws: Path):
    """A sqlite3 connection to the workspace's database with every append-only trigger dropped
    (the changes to entries go through `tampering`); committed when the block ends."""
    con = tampering.connect(ws / ".mast" / "mast.db")
    try:
        yield con
        con.commit()
    finally:
        con.close()


def flip_goal_byte(index: int, fix_leaf: bool = False) -> Callable:
    """One byte of the record's text changed (its kind and ref are not); with `fix_leaf`, the
    stored tree's leaf hash made the new body's too."""
    def tamper(con):
        tampering.flip_byte(con, index, b'"goal":"g')
        if fix_leaf:
            tampering.fix_leaf_hash(con, index)
    return tamper


def break_json(con) -> None:
    tampering.set_body(con, 4, b"[" + tampering.body_of(con, 4)[1:])


def delete_entry(index: int) -> Callable:
    return lambda con: tampering.delete_entry(con, index)


def swap_entries(a: int, b: int) -> Callable:
    """Entries a and b change places, each whole (kind and ref with its body)."""
    return lambda con: tampering.swap(con, a, b)


def truncate(k: int, tree: bool, checkpoints: bool) -> Callable:
    """Delete the last k entries; with `tree`, every stored hash over them; with
    `checkpoints`, the checkpoints beyond the new size."""
    def tamper(con):
        m = N - k
        tampering.truncate(con, m)
        if tree:
            con.execute("DELETE FROM log_nodes WHERE ((idx + 1) << level) > ?", (m,))
            con.execute("DELETE FROM log_tiles WHERE ((idx + 1) << (8 * level + 8)) > ?", (m,))
        if checkpoints:
            con.execute("DELETE FROM log_checkpoints WHERE size > ?", (m,))
            con.execute("DELETE FROM log_cosignatures WHERE size > ?", (m,))
    return tamper


FORGED = canonical_bytes({"kind": "roadmap", "at": "2025-06-01T00:00:00Z", "goal": "forged", "status": "met",
                          "note": "slipped in", "ref": "forged", "audience": "public"})


def append_forged(with_tree: bool) -> Callable:
    """An entry appended at index N without its checkpoint; with `with_tree`, its hashes added
    to the stored tree as a batch would add them."""
    def tamper(con):
        tampering.append(con, FORGED, "roadmap", "forged")
        if with_tree:
            from mast.ledger import tree
            single = {(level, idx): bytes(h) for level, idx, h in con.execute("SELECT level, idx, hash FROM log_nodes")}
            tiles, nodes, _ = tree.grow(lambda level, s, e: [single[(level, i)] for i in range(s, e)], N,
                                        [hashlib.sha256(b"\x00" + FORGED).digest()])
            con.executemany("INSERT INTO log_tiles (level, idx, hashes) VALUES (:level, :idx, :hashes)", tiles)
            con.executemany("INSERT INTO log_nodes (level, idx, hash) VALUES (:level, :idx, :hash)", nodes)
    return tamper


def resign_checkpoint(size: int) -> Callable:
    """The checkpoint note at `size` replaced by one with the same body, signed by another key
    of the same name."""
    def tamper(con):
        note, root = con.execute("SELECT note, root FROM log_checkpoints WHERE size = ?", (size,)).fetchone()
        origin = note.split("\n")[0]
        note = sign_checkpoint(Checkpoint(origin, size, bytes(root)), new_signer(origin))
        con.execute("UPDATE log_checkpoints SET note = ? WHERE size = ?", (note, size))
    return tamper


def alter_checkpoint_root(size: int) -> Callable:
    def tamper(con):
        (root,) = con.execute("SELECT root FROM log_checkpoints WHERE size = ?", (size,)).fetchone()
        con.execute("UPDATE log_checkpoints SET root = ? WHERE size = ?", (bytes([root[0] ^ 1]) + bytes(root[1:]), size))
    return tamper


def alter_tile_hash(offset: int) -> Callable:
    """One byte of hash number `offset` in the stored tile 0/0 (0-255: leaf hashes, then the
    rows above)."""
    def tamper(con):
        blob = bytearray(con.execute("SELECT hashes FROM log_tiles WHERE level = 0 AND idx = 0").fetchone()[0])
        blob[32 * offset + 5] ^= 0x40
        con.execute("UPDATE log_tiles SET hashes = ? WHERE level = 0 AND idx = 0", (bytes(blob),))
    return tamper


def alter_node_hash(level: int, idx: int) -> Callable:
    def tamper(con):
        (h,) = con.execute("SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", (level, idx)).fetchone()
        con.execute("UPDATE log_nodes SET hash = ? WHERE level = ? AND idx = ?",
                    (bytes(h[:-1]) + bytes([h[-1] ^ 1]), level, idx))
    return tamper


def alter_kind(con) -> None:
    tampering.set_kind(con, 6, "model")


def alter_ref_row(con) -> None:
    tampering.set_ref(con, 7, "elsewhere")


def add_ref_row(con) -> None:
    # every record here has a ref: a second row for entry 7
    tampering.add_ref(con, 7, "second")


def remove_ref_row(con) -> None:
    tampering.remove_ref(con, 7)


def rebuild_after_change(con) -> None:
    """Entry 4 changed and every stored hash recomputed: only the signed checkpoints disagree."""
    tampering.flip_byte(con, 4, b'"goal":"g')
    tampering.rebuild_tree(con)


#: name -> (tampering, the index the failure must name (None: a checkpoint), what the message says)
TAMPERS: dict[str, tuple[Callable, int | None, str]] = {
    "one byte of a leaf": (flip_goal_byte(4), 4, r"^error: entry 4 is not the entry the tree holds"),
    "one byte of a leaf in the full tile": (flip_goal_byte(200), 200, r"^error: entry 200 is not"),
    "one byte of a leaf at the right edge": (flip_goal_byte(311), 311, r"^error: entry 311 is not"),
    "one byte of a leaf, its leaf hash fixed up":
        (flip_goal_byte(4, fix_leaf=True), 4, r"node 2 at level 1 \(over entries from 4\)"),
    "one byte of a leaf, the whole tree rebuilt":
        (rebuild_after_change, None, r"^error: the checkpoint of size 8 has root [0-9a-f]+, but the first 8 "
                                     r"entries give [0-9a-f]+: an entry from 3 to 7 was changed"),
    "a leaf no longer JSON": (break_json, 4, r"^error: entry 4\b"),
    "a kind changed": (alter_kind, 6, r"^error: entry 6: its chunk says it is of kind 'model' but the record is of kind 'roadmap'"),
    "a ref row changed": (alter_ref_row, 7, r"^error: entry 7: entry_refs gives it the ref 'elsewhere', but the record's ref is 'r7'"),
    "a ref row added": (add_ref_row, 7, r"^error: entry 7: entry_refs gives it the ref "),
    "a ref row removed": (remove_ref_row, 7, r"^error: entry 7: the record's ref is 'r7', but entry_refs has no row for it"),
    "an entry deleted": (delete_entry(5), 5, r"^error: entry 5 is missing"),
    "the first entry deleted": (delete_entry(0), 0, r"^error: entry 0 is missing"),
    "a chunk deleted": (lambda con: tampering.delete_chunk(con, 5), 3, r"^error: entry 3 is missing"),
    "two entries swapped": (swap_entries(2, 6), 2, r"^error: entry 2 is not the entry the tree holds"),
    "two entries swapped across tiles": (swap_entries(100, 300), 100, r"^error: entry 100 is not"),
    "truncated: entries only": (truncate(4, tree=False, checkpoints=False), 309, r"^error: entries 309\u2013312 are missing"),
    "truncated: entries and tree, not checkpoints":
        (truncate(4, tree=True, checkpoints=False), 309, r"a checkpoint of size 313 is beyond the log's 309 entries"),
    "truncated into the full tile: entries only":
        (truncate(100, tree=False, checkpoints=False), 213, r"^error: entries 213\u2013312 are missing"),
    "a forged entry appended": (append_forged(with_tree=False), N, rf"\bnode {N} at level 0\b"),
    "a forged entry appended with its tree hashes, no checkpoint":
        (append_forged(with_tree=True), N, rf"^error: entry {N} is not covered by any signed checkpoint"),
    "a checkpoint re-signed by another key": (resign_checkpoint(9), None, r"^error: checkpoint at size 9: "),
    "the latest checkpoint re-signed by another key": (resign_checkpoint(N), None, rf"^error: checkpoint at size {N}: "),
    "a checkpoint's stored root changed": (alter_checkpoint_root(8), None, r"^error: checkpoint at size 8: "),
    "a leaf hash in a tile": (alter_tile_hash(7), 7, r"^error: entry 7 is not the entry the tree holds"),
    "an inner hash in a tile": (alter_tile_hash(256 + 44), 88, r"node 44 at level 1 \(over entries from 88\)"),
    "a single hash above the tiles": (alter_node_hash(8, 0), 0, r"node 0 at level 8 \(over entries from 0\)"),
    "a single leaf hash at the right edge": (alter_node_hash(0, 310), 310, r"^error: entry 310 is not"),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("tamper") / "lab")


@pytest.fixture(scope="module")
def verdicts(base, tmp_path_factory) -> dict[str, tuple[Result, IntegrityFailure | None]]:
    """Every tampering applied to its own copy, then `mast log verify` on all of them at once
    (and the library's verdict too)."""
    root = tmp_path_factory.mktemp("tampered")
    copies = {}
    for i, (name, (tamper, _, _)) in enumerate(TAMPERS.items()):
        ws = root / f"t{i}"
        shutil.copytree(base, ws)
        with attacker(ws) as con:
            tamper(con)
        copies[name] = ws
    results = mast_many([(ws, "log", "verify") for ws in copies.values()])
    return {name: (result, library_verify(ws)) for (name, ws), result in zip(copies.items(), results)}


def test_the_untouched_log_verifies(base):
    out = ok(mast(base, "log", "verify"))
    assert out.startswith(f"ok: {N} entries, {len(SIZES)} checkpoints verified; root ")
    assert library_verify(base) is None


@pytest.mark.parametrize("what", list(TAMPERS))
def test_tampering_is_an_integrity_failure_naming_the_first_bad_index(verdicts, what):
    _, index, message = TAMPERS[what]
    result, failure = verdicts[what]
    stderr = integrity_failure(result)
    assert re.search(message, stderr), stderr
    assert failure is not None
    if index is not None:
        assert isinstance(failure, LogIntegrityFailure) and failure.index == index, (failure, getattr(failure, "index", None))


# -- what only an outside checkpoint catches ------------------------------------------------------


def rebuild(ws: Path, bodies: list[bytes], batches: list[int]) -> None:
    """The attacker with the stolen signing key: empty every log table, then append `bodies`
    again in `batches`, each with its freshly signed checkpoint, exactly as mast would."""
    with attacker(ws) as con:
        for table in ("entry_chunks", "entry_refs", "log_tiles", "log_nodes", "log_checkpoints", "log_cosignatures"):
            con.execute(f"DELETE FROM {table}")
    w = Workspace.open(ws)
    try:
        writer = ledger_log.LogWriter(w.origin, w.signer)
        with w.store.engine.begin() as conn:
            writer.sign_empty(conn)
        at = 0
        for size in batches:
            w.store.append([parse_body(b) for b in bodies[at:at + size]], within=writer.extend)
            at += size
        assert at == len(bodies)
    finally:
        w.close()


def all_bodies(ws: Path) -> list[bytes]:
    con = sqlite3.connect(ws / ".mast" / "mast.db")
    try:
        return tampering.bodies(con)
    finally:
        con.close()


def changed(body: bytes) -> bytes:
    return body.replace(b'"status":"met"', b'"status":"missed"')


def saved_checkpoints(ws: Path, directory: Path) -> dict[int, Path]:
    """Each stored checkpoint, saved to a file as an outsider would have saved it when it was
    the latest (`mast log checkpoint` prints the stored note)."""
    con = sqlite3.connect(ws / ".mast" / "mast.db")
    try:
        notes = dict(con.execute("SELECT size, note FROM log_checkpoints"))
    finally:
        con.close()
    directory.mkdir(exist_ok=True)
    out = {}
    for size, note in notes.items():
        out[size] = directory / f"checkpoint-{size}.txt"
        out[size].write_text(note, encoding="utf-8")
    return out


def test_a_saved_checkpoint_still_verifies_after_more_appends(base, tmp_path):
    ws = tmp_path / "lab"
    shutil.copytree(base, ws)
    latest = tmp_path / "latest.txt"
    latest.write_text(ok(mast(ws, "log", "checkpoint")), encoding="utf-8")
    saved = saved_checkpoints(ws, tmp_path / "saved")
    w = Workspace.open(ws)
    try:
        w.add([record(N + i, "more") for i in range(20)])
        w.add([record(N + 20 + i, "more") for i in range(250)])
    finally:
        w.close()
    files = [latest, *(saved[s] for s in (0, 3, 9, 309))]
    results = mast_many([(ws, "log", "verify", "--checkpoint", f) for f in files])
    for f, result in zip(files, results):
        out = ok(result)
        size = int(f.read_text().split("\n")[1])
        assert out.startswith(f"ok: {N + 270} entries"), out
        assert out.endswith(f"; consistent with the checkpoint at size {size}\n"), out


def test_rewritten_or_truncated_history_fails_against_a_saved_checkpoint(base, tmp_path):
    saved = saved_checkpoints(base, tmp_path / "saved")
    latest = saved[N]
    bodies = all_bodies(base)
    rewrites = {
        # one entry changed, every hash recomputed, every checkpoint re-signed with the stolen key
        "rewritten": ([*bodies[:4], changed(bodies[4]), *bodies[5:]], BATCHES),
        # ... and then more records, so that the log looks like it simply grew
        "rewritten and grown": ([*bodies[:4], changed(bodies[4]), *bodies[5:],
                                 *(record_bytes(record(N + i, "x"))
                                   for i in range(3))], [*BATCHES, 3]),
        # the last batch gone, tree and checkpoints with it
        "truncated": (bodies[:309], BATCHES[:-1]),
        # history rewritten only after the entries the saved checkpoint covers
        "rewritten after it": ([*bodies[:9], changed(bodies[9]), *bodies[10:]], BATCHES),
    }
    copies = {}
    for name, (new_bodies, batches) in rewrites.items():
        ws = tmp_path / name.replace(" ", "-")
        shutil.copytree(base, ws)
        rebuild(ws, new_bodies, batches)
        copies[name] = ws
    names = list(copies)
    calls = [(copies[n], "log", "verify") for n in names]
    calls += [(copies[n], "log", "verify", "--checkpoint", latest) for n in names]
    calls += [(copies["rewritten after it"], "log", "verify", "--checkpoint", saved[9])]
    results = mast_many(calls)
    plain, against_saved, earlier = results[:len(names)], results[len(names):-1], results[-1]
    for name, result in zip(names, plain):
        ok(result)  # alone, the log cannot tell: the attacker signed with the log's own key
    for name, result in zip(names, against_saved):
        stderr = integrity_failure(result)
        if name == "truncated":
            assert f"a checkpoint of size {N} is beyond the log's 309 entries" in stderr, stderr
        elif name == "rewritten after it":
            assert f"the checkpoint of size {N} has root" in stderr, stderr
        else:
            assert f"the checkpoint of size {N} has root" in stderr and "was changed" in stderr, (name, stderr)
    # A checkpoint saved before the rewritten entry is still consistent: the prefix it saw is intact.
    assert ok(earlier).endswith("consistent with the checkpoint at size 9\n")


def test_a_checkpoint_of_another_log_or_a_forged_one_is_refused(base, tmp_path):
    other = build(tmp_path / "other", [2, 3], prefix="o")
    foreign = tmp_path / "foreign.txt"
    foreign.write_text(ok(mast(other, "log", "checkpoint")), encoding="utf-8")
    note = ok(mast(base, "log", "checkpoint"))
    forged = tmp_path / "forged.txt"
    forged.write_text(note.replace(f"\n{N}\n", f"\n{N - 1}\n", 1), encoding="utf-8")
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("not a checkpoint\n", encoding="utf-8")
    foreign_r, forged_r, garbage_r = mast_many([(base, "log", "verify", "--checkpoint", f)
                                                for f in (foreign, forged, garbage)])
    stderr = integrity_failure(foreign_r)
    assert str(foreign) in stderr and "mast.local/other" in stderr and "not of this log" in stderr, stderr
    stderr = integrity_failure(forged_r)
    assert str(forged) in stderr and "signature" in stderr, stderr
    assert garbage_r.code == 2 and "Traceback" not in garbage_r.stderr and str(garbage) in garbage_r.stderr


# -- a witness refuses a rewritten log ------------------------------------------------------------


def test_a_witness_refuses_to_cosign_a_rewritten_log(base, tmp_path):
    witness = new_signer("witness.example/w1", alg=ALG_COSIGNATURE_V1)
    key = tmp_path / "w1.key"
    key.write_text(witness.text() + "\n")
    state = tmp_path / "w1.state"
    ws = tmp_path / "lab"
    shutil.copytree(base, ws)
    assert ok(mast(ws, "log", "cosign", "--key", key, "--state", state)).startswith(f"cosigned mast.local/lab at size {N}")
    remembered = state.read_text()

    bodies = all_bodies(ws)
    more = [record_bytes(record(N + i, "x")) for i in range(7)]
    rewrites = {
        "forked": ([*bodies[:4], changed(bodies[4]), *bodies[5:]], BATCHES, "forked"),
        "rewritten and grown": ([*bodies[:4], changed(bodies[4]), *bodies[5:], *more], [*BATCHES, 7],
                                f"consistency proof {N} -> {N + 7} fails"),
        "rolled back": (bodies[:309], BATCHES[:-1], f"rolled back: size 309 < {N}"),
    }
    honest = tmp_path / "honest"
    shutil.copytree(ws, honest)
    w = Workspace.open(honest)
    try:
        w.add([parse_body(b) for b in more])
    finally:
        w.close()
    copies = {}
    for name, (new_bodies, batches, _) in rewrites.items():
        copy = tmp_path / name.replace(" ", "-")
        shutil.copytree(ws, copy)
        rebuild(copy, new_bodies, batches)
        copies[name] = copy
        shutil.copy(state, tmp_path / f"{copy.name}.state")
    shutil.copy(state, tmp_path / "honest.state")
    calls = [(copy, "log", "cosign", "--key", key, "--state", tmp_path / f"{copy.name}.state") for copy in copies.values()]
    calls += [(copy, "log", "verify") for copy in copies.values()]
    calls += [(honest, "log", "cosign", "--key", key, "--state", tmp_path / "honest.state")]
    results = mast_many(calls)
    k = len(copies)
    for (name, (_, _, reason)), result, verified in zip(rewrites.items(), results[:k], results[k:2 * k]):
        ok(verified)  # validly signed with the stolen key: the log alone looks fine...
        stderr = integrity_failure(result)  # ...but the witness remembers
        assert reason in stderr, (name, stderr)
        assert (tmp_path / f"{copies[name].name}.state").read_text() == remembered, name
    assert ok(results[-1]) == f"cosigned mast.local/lab at size {N + 7} as witness.example/w1\n"
