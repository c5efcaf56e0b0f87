"""Interoperability through the command line: Go's golang.org/x/mod/sumdb/note and tlog
(`verify/main.go`, built as in test_interop_go.py) accept exactly what `mast log key`, `mast log
checkpoint`, `mast log leaf N` and `mast log proof ... --json` print for a workspace appended
to in several batches — across a tile boundary, with checkpoints saved along the way as an
outsider would save them, and with a witness's cosignature — and reject a tampered checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_runner import run
from test_interop_go import Workdir, go_verify, pytestmark  # noqa: F401  (the Go build fixture and its skips)

from mast.ledger.keys import ALG_COSIGNATURE_V1, new_signer
from mast.records.kinds import record_adapter
from mast.workspace import Workspace

BATCHES = [1, 2, 253, 9]  # sizes 1, 3, 256, 265: the first tile fills at 256


def mast_many(calls: list[tuple]) -> list[bytes]:
    """Run read-only `mast` commands one after another (each (ws, *args)); their stdout, as bytes."""
    return [mast(*call) for call in calls]


def mast(ws: Path, *args) -> bytes:
    result = run("-w", ws, *map(str, args), width=80)
    assert result.code == 0, (result.args, result.stderr)
    return result.stdout_bytes


def record(i: int):
    return record_adapter.validate_python({
        "kind": "model", "at": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z", "id": f"m{i}", "name": f"Model {i}"})


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A workspace appended to in BATCHES; after each batch an outsider saved `mast log
    checkpoint`. Returns (workspace, {size: saved checkpoint file})."""
    root = tmp_path_factory.mktemp("interop-cli")
    ws = root / "lab"
    Workspace.init(ws).close()
    saved: dict[int, Path] = {}
    n = 0
    for size in BATCHES:
        w = Workspace.open(ws)
        try:
            w.add([record(n + i) for i in range(size)])
        finally:
            w.close()
        n += size
        saved[n] = root / f"checkpoint-{n}.txt"
        saved[n].write_bytes(mast(ws, "log", "checkpoint"))
    return ws, saved


@pytest.fixture
def wd(tmp_path, go_verify) -> Workdir:  # noqa: F811  (go_verify is the imported fixture)
    return Workdir(tmp_path, go_verify)


def test_go_verifies_the_key_checkpoint_leaves_and_inclusion_proofs(lab, wd):
    ws, saved = lab
    size = max(saved)
    indexes = sorted({0, 2, 253, 255, 256, size - 1})
    outs = mast_many([(ws, "log", "key")]
                     + [(ws, "log", "proof", "inclusion", i, "--json") for i in indexes]
                     + [(ws, "log", "leaf", i) for i in indexes])
    key, proofs, leaves = outs[0], outs[1:1 + len(indexes)], outs[1 + len(indexes):]
    args = ["-vkey", wd.file(key), "-checkpoint", str(saved[size])]
    for proof in proofs:
        args += ["-inclusion", wd.file(proof, ".json")]
    for leaf in leaves:
        args += ["-leaf", wd.file(leaf, ".bin")]
    out = wd.ok(*args)
    assert f"checkpoint: {_origin(ws)} size {size} root " in out
    assert out.count("inclusion: leaf") == len(indexes)


def test_go_verifies_inclusion_in_each_saved_checkpoint(lab, wd):
    ws, saved = lab
    key = wd.file(mast(ws, "log", "key"))
    sizes = sorted(saved)
    outs = mast_many([(ws, "log", "proof", "inclusion", s // 2, "--size", s, "--json") for s in sizes])
    for s, proof in zip(sizes, outs):
        wd.ok("-vkey", key, "-checkpoint", str(saved[s]), "-inclusion", wd.file(proof, ".json"))


def test_go_verifies_consistency_between_the_saved_checkpoints(lab, wd):
    ws, saved = lab
    key = wd.file(mast(ws, "log", "key"))
    sizes = sorted(saved)
    # every saved size to the latest (one of them itself) and each to the next
    pairs = sorted({(old, sizes[-1]) for old in sizes} | set(zip(sizes, sizes[1:])))
    outs = mast_many([(ws, "log", "proof", "consistency", old, new, "--json") for old, new in pairs])
    for (old, new), proof in zip(pairs, outs):
        wd.ok("-vkey", key, "-checkpoint", str(saved[new]), "-old-checkpoint", str(saved[old]),
              "-consistency", wd.file(proof, ".json"))
    # The default NEW is the whole log.
    proof = mast(ws, "log", "proof", "consistency", 3, "--json")
    wd.ok("-vkey", key, "-checkpoint", str(saved[max(sizes)]), "-old-checkpoint", str(saved[3]),
          "-consistency", wd.file(proof, ".json"))


def test_go_verifies_a_witness_cosigned_checkpoint(lab, wd, tmp_path):
    ws = tmp_path / "lab"
    shutil.copytree(lab[0], ws)
    witness = new_signer("witness.example/w1", alg=ALG_COSIGNATURE_V1)
    key_file = tmp_path / "w1.key"
    key_file.write_text(witness.text() + "\n")
    mast(ws, "log", "cosign", "--key", key_file, "--state", tmp_path / "w1.state")
    key, note = mast_many([(ws, "log", "key"), (ws, "log", "checkpoint")])
    out = wd.ok("-vkey", wd.file(key), "-checkpoint", wd.file(note), "-witness", wd.file(witness.verifier().text()))
    assert "cosigned by witness.example/w1" in out


def test_go_rejects_a_tampered_checkpoint_from_the_cli(lab, wd, tmp_path):
    ws, saved = lab
    size = max(saved)
    key, note = (out.decode() for out in mast_many([(ws, "log", "key"), (ws, "log", "checkpoint")]))
    vkey = wd.file(key)
    wd.ok("-vkey", vkey, "-checkpoint", wd.file(note))
    body, sigs = note.split("\n\n")
    origin, _, root = body.split("\n")
    older_root = saved[256].read_text().split("\n")[2]
    bad = {
        "size changed": (note.replace(f"\n{size}\n", f"\n{size + 1}\n", 1), "invalid signature"),
        "root changed": (note.replace(root, older_root, 1), "invalid signature"),
        "signature changed": (f"{body}\n\n{sigs[:-6]}{'A' if sigs[-6] != 'A' else 'B'}{sigs[-5:]}", "invalid signature"),
    }
    for what, (text, reason) in bad.items():
        assert text != note, what
        wd.fails("-vkey", vkey, "-checkpoint", wd.file(text), expect=reason)
    # Another workspace's checkpoint, against this log's key.
    other = tmp_path / "other"
    Workspace.init(other).close()
    wd.fails("-vkey", vkey, "-checkpoint", wd.file(mast(other, "log", "checkpoint")), expect="no verifiable signatures")
    # A proof from the CLI against a checkpoint of another size is not anchored.
    proof = mast(ws, "log", "proof", "inclusion", 0, "--size", 256, "--json")
    wd.fails("-vkey", vkey, "-checkpoint", wd.file(note), "-inclusion", wd.file(proof, ".json"),
             expect="not a signed checkpoint's")


def _origin(ws: Path) -> str:
    return f"mast.local/{ws.name}"
