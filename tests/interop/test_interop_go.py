"""Interoperability: Go's golang.org/x/mod/sumdb/note and sumdb/tlog verify what mast writes.

`verify/main.go` is built against Debian's packages of golang.org/x/mod (GOPATH mode; the Go
module proxy is not reachable here). mast signs checkpoints (and witnesses cosign them) with
its Python code; the proofs come from `mast.ledger.merkle` (in memory) and `mast.ledger.tree`
(the SQL tile store, batch by batch), each cross-checked against a tiny RFC 6962 reference
written out below. The Go program must accept them all and reject every tampered variant.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from mast.ledger import merkle
from mast.ledger.checkpoint import Checkpoint, cosign, sign_checkpoint
from mast.ledger.keys import ALG_COSIGNATURE_V1, load_signer, new_signer, write_key_files
from mast.records.canonical import canonical_bytes

GOPATH = "/usr/share/gocode"
GO_PACKAGES = Path(GOPATH) / "src/golang.org/x/mod/sumdb"
HERE = Path(__file__).parent


# In CI (.ci/run installs Go) a missing toolchain is a failure, not a reason to skip.
_MISSING_IS_FATAL = os.environ.get("CI") == "true"
if _MISSING_IS_FATAL and (shutil.which("go") is None or not (GO_PACKAGES / "tlog").is_dir()):
    raise RuntimeError("CI: Go or golang.org/x/mod is missing; tests/interop/install-go.sh should have installed them")

pytestmark = [
    pytest.mark.skipif(
        shutil.which("go") is None,
        reason="Go is not installed: run tests/interop/install-go.sh (golang-go, golang-golang-x-mod-dev)",
    ),
    pytest.mark.skipif(
        not (GO_PACKAGES / "note").is_dir() or not (GO_PACKAGES / "tlog").is_dir(),
        reason=f"golang.org/x/mod/sumdb is not under {GOPATH}: run tests/interop/install-go.sh",
    ),
]


# -- a tiny RFC 6962 / RFC 9162 reference, straight from the RFC's recursive definitions --------


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)  # largest power of two < n


def _mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return _leaf(d[0])
    k = _k(len(d))
    return _node(_mth(d[:k]), _mth(d[k:]))


def _path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return _path(m, d[:k]) + [_mth(d[k:])]
    return _path(m - k, d[k:]) + [_mth(d[:k])]


def _subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [_mth(d)]
    k = _k(n)
    if m <= k:
        return _subproof(m, d[:k], b) + [_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [_mth(d[:k])]


# -- proofs in DESIGN §6's JSON shape ---------------------------------------------------------


@dataclass
class Log:
    """Entries and mast's proofs about them; with `check`, each proof is compared with the
    reference (which is quadratic: leave it off for big trees)."""

    entries: list[bytes]
    check: bool = True

    def __post_init__(self) -> None:
        self.tree = merkle.MemoryTree.of_leaves(self.entries)

    def root(self, size: int) -> bytes:
        got = self.tree.root(size)
        if self.check:
            assert got == _mth(self.entries[:size])
        return got

    def inclusion(self, index: int, size: int) -> dict:
        proof = merkle.inclusion_proof(self.tree, index, size)
        assert merkle.leaf_hash(self.entries[index]) == _leaf(self.entries[index])
        if self.check:
            assert proof == _path(index, self.entries[:size])
        return {
            "index": index,
            "size": size,
            "leaf_hash": merkle.leaf_hash(self.entries[index]).hex(),
            "root": self.root(size).hex(),
            "proof": [h.hex() for h in proof],
        }

    def consistency(self, old: int, new: int) -> dict:
        proof = merkle.consistency_proof(self.tree, old, new)
        if self.check:
            assert proof == _subproof(old, self.entries[:new], True)
        return {
            "old_size": old,
            "new_size": new,
            "old_root": self.root(old).hex(),
            "new_root": self.root(new).hex(),
            "proof": [h.hex() for h in proof],
        }


def entries(n: int) -> list[bytes]:
    """Entries as the log stores them: records' canonical JSON."""
    return [
        canonical_bytes({"kind": "model", "at": f"2025-01-01T00:00:{i % 60:02d}Z", "id": f"m{i}", "name": f"Model {i}"})
        for i in range(n)
    ]


def make_log(n: int) -> Log:
    return Log(entries(n))


# -- the Go program ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def go_verify(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("go-verify")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": GOPATH,
        "GOCACHE": str(out / "cache"),
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    binary = out / "verify"
    result = subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=HERE / "verify",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"go build failed:\n{result.stdout}\n{result.stderr}"
    return binary


class Workdir:
    def __init__(self, path: Path, binary: Path):
        self.path, self.binary, self.n = path, binary, 0

    def file(self, content: str | bytes | dict, suffix: str = ".txt") -> str:
        self.n += 1
        p = self.path / f"f{self.n}{suffix}"
        if isinstance(content, dict):
            p.write_text(json.dumps(content))
        elif isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return str(p)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.binary), *args], capture_output=True, text=True, timeout=60)

    def ok(self, *args: str) -> str:
        r = self.run(*args)
        assert r.returncode == 0, f"Go verifier rejected what mast made:\n{r.stdout}\n{r.stderr}"
        return r.stdout

    def fails(self, *args: str, expect: str = "") -> str:
        r = self.run(*args)
        assert r.returncode == 1, f"Go verifier accepted (or could not run on) a tampered input:\n{r.stdout}\n{r.stderr}"
        assert expect in r.stderr, f"rejected, but not for the expected reason ({expect!r}):\n{r.stderr}"
        return r.stderr


@pytest.fixture
def wd(tmp_path, go_verify) -> Workdir:
    return Workdir(tmp_path, go_verify)


@pytest.fixture
def log_key(tmp_path):
    """The log's key as `mast init` makes it: files in Go's note formats."""
    keys = tmp_path / "keys"
    keys.mkdir()
    key_path, pub_path = write_key_files(keys, "mast.example/log")
    return load_signer(key_path), str(pub_path)


ORIGIN = "mast.example/log"


def signed(log: Log, size: int, signer, ext: tuple[str, ...] = ()) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, log.root(size), ext), signer)


# -- what must verify -------------------------------------------------------------------------


def test_checkpoint_note_verifies_with_go(wd, log_key):
    signer, pub = log_key
    log = make_log(5)
    out = wd.ok("-vkey", pub, "-checkpoint", wd.file(signed(log, 5, signer)))
    assert f"checkpoint: {ORIGIN} size 5 root {log.root(5).hex()}" in out


def test_empty_tree_and_extension_lines(wd, log_key):
    signer, pub = log_key
    log = make_log(3)
    wd.ok("-vkey", pub, "-checkpoint", wd.file(signed(log, 0, signer)))
    wd.ok("-vkey", pub, "-checkpoint", wd.file(signed(log, 3, signer, ("ext-a", "ext b"))))


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 64, 100])
def test_every_inclusion_proof_verifies_with_tlog(wd, log_key, size):
    signer, pub = log_key
    log = make_log(size)
    args = ["-vkey", pub, "-checkpoint", wd.file(signed(log, size, signer))]
    for i in range(size):
        args += ["-inclusion", wd.file(log.inclusion(i, size), ".json")]
    for i in range(size):
        args += ["-leaf", wd.file(log.entries[i], ".bin")]
    out = wd.ok(*args)
    assert out.count("inclusion: leaf") == size


def test_every_consistency_proof_verifies_with_tlog(wd, log_key):
    signer, pub = log_key
    log = make_log(33)
    checked = 0
    for new in [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 32, 33]:
        cp_new = wd.file(signed(log, new, signer))
        for old in range(1, new + 1):
            wd.ok(
                "-vkey", pub,
                "-checkpoint", cp_new,
                "-old-checkpoint", wd.file(signed(log, old, signer)),
                "-consistency", wd.file(log.consistency(old, new), ".json"),
                "-inclusion", wd.file(log.inclusion(old - 1, old), ".json"),  # anchored in the old one
            )
            checked += 1
    assert checked > 150


def test_proofs_from_the_sql_tile_store_verify_with_tlog(wd, log_key, tmp_path):
    """The log as `mast` stores it: batches committed to SQLite (tlog-tiles layout), a
    checkpoint signed after each batch, proofs read back from the stored tiles."""
    from sqlalchemy import create_engine

    from mast.ledger import tree

    signer, pub = log_key
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    tree.create_tables(engine)
    data = entries(700)
    ref = Log(data, check=False)
    checkpoints: dict[int, str] = {}
    size = 0
    for batch in [1, 2, 250, 3, 1, 256, 187]:  # crosses tile boundaries at 256 and 512
        with engine.begin() as conn:
            root = tree.extend(conn, size, data[size : size + batch])
        size += batch
        assert root == ref.root(size)
        checkpoints[size] = wd.file(sign_checkpoint(Checkpoint(ORIGIN, size, root), signer))
    sizes = sorted(checkpoints)
    with engine.connect() as conn:
        for new in sizes:
            args = ["-vkey", pub, "-checkpoint", checkpoints[new]]
            for index in sorted(i for i in {0, 1, new // 2, 255, 256, 511, 512, new - 1} if i < new):
                proof = tree.inclusion_proof(conn, index, new)
                assert proof == merkle.inclusion_proof(ref.tree, index, new)
                args += ["-inclusion", wd.file({**ref.inclusion(index, new), "proof": [h.hex() for h in proof]}, ".json")]
            wd.ok(*args)
            for old in sizes[: sizes.index(new) + 1]:
                proof = tree.consistency_proof(conn, old, new)
                assert proof == merkle.consistency_proof(ref.tree, old, new)
                wd.ok(
                    "-vkey", pub, "-checkpoint", checkpoints[new], "-old-checkpoint", checkpoints[old],
                    "-consistency", wd.file({**ref.consistency(old, new), "proof": [h.hex() for h in proof]}, ".json"),
                )
    engine.dispose()


def test_witness_cosignatures_verify_with_go(wd, log_key, tmp_path):
    signer, pub = log_key
    log = make_log(6)
    w1 = new_signer("witness.example/w1", alg=ALG_COSIGNATURE_V1)
    w2 = new_signer("witness.example/w2", alg=ALG_COSIGNATURE_V1)
    w3 = new_signer("witness.example/w3")  # a plain key used as a cosigner (transparency-dev style)
    note = cosign(cosign(cosign(signed(log, 6, signer), w1, 1700000000), w2, 1700000001), w3.as_cosigner(), 5)
    keys = []
    for w in (w1, w2):
        keys += ["-witness", wd.file(w.verifier().text())]
    keys += ["-witness", wd.file(w3.verifier().text())]  # given as its type-0x01 key
    out = wd.ok("-vkey", pub, "-checkpoint", wd.file(note), *keys)
    assert "cosigned by witness.example/w1" in out and "cosigned by witness.example/w3" in out
    # Go's note.Open with only the log key ignores the cosignatures (unknown keys).
    wd.ok("-vkey", pub, "-checkpoint", wd.file(note))


def test_pinned_vector_verifies_with_go(wd):
    """The fixed vector of tests/ledger/test_checkpoint.py, checked by Go."""
    note = (
        "mast.example/log\n7\nQdhlabzts28LrqeaQtylYVvVGlafb0Hvl3pLc91SBDA=\n\n"
        "— mast.example/log sMwaiiNN9NAqPsdAyPgt6LLtmhtTxpcKKutgnne/5wN12x146nxC18SohpqoJprYvBJX5aDGEj+1IvSIzosTgNlh9ws=\n"
        "— witness.example/w1 yG1qPwAAAABkGFDLLPOe/RjgwB+gLv1L3boUQXsoktJuXCh9G4jaf58zmdoNugP+/dnT9hKzyDrIoBDrxkL9JsO6JuExrfywQ4thDg==\n"
    )
    log_vkey = "mast.example/log+b0cc1a8a+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3"
    w_vkey = "witness.example/w1+c86d6a3f+BIhLiFf06qFhPGFQTbNNS+rzRlF6DjHePN3U2bQgHZ0L"
    wd.ok("-vkey", wd.file(log_vkey), "-checkpoint", wd.file(note), "-witness", wd.file(w_vkey))


# -- what must be rejected --------------------------------------------------------------------


def test_tampered_checkpoints_are_rejected(wd, log_key):
    signer, pub = log_key
    log = make_log(9)
    note = signed(log, 9, signer)
    body, sigs = note.split("\n\n")
    other = new_signer(ORIGIN)
    invalid, unverified, malformed = "invalid signature", "no verifiable signatures", "malformed note"
    bad_notes = {
        "size changed": (note.replace("\n9\n", "\n8\n", 1), invalid),
        "root changed": (note.replace(body.split("\n")[2], base64.b64encode(log.root(8)).decode(), 1), invalid),
        "origin changed": (note.replace(ORIGIN + "\n", "mast.example/lo9\n", 1), invalid),
        "extension added": (body + "\nextra\n\n" + sigs, invalid),
        "signature byte flipped": (body + "\n\n" + sigs[:-6] + ("A" if sigs[-6] != "A" else "B") + sigs[-5:], invalid),
        "signed by another key": (signed(log, 9, other), unverified),
        "no blank line": (body + "\n" + sigs, malformed),
        "bad base64": (body + "\n\n" + sigs.replace("=", "", 1), malformed),
    }
    for what, (bad, reason) in bad_notes.items():
        assert bad != note, what
        wd.fails("-vkey", pub, "-checkpoint", wd.file(bad), expect=reason)


def test_missing_or_forged_cosignature_is_rejected(wd, log_key):
    signer, pub = log_key
    log = make_log(4)
    w1 = new_signer("witness.example/w1", alg=ALG_COSIGNATURE_V1)
    w2 = new_signer("witness.example/w2", alg=ALG_COSIGNATURE_V1)
    note = cosign(signed(log, 4, signer), w1, 1700000000)
    wkeys = ["-witness", wd.file(w1.verifier().text())]
    wd.ok("-vkey", pub, "-checkpoint", wd.file(note), *wkeys)
    # A witness that did not cosign.
    wd.fails("-vkey", pub, "-checkpoint", wd.file(note), *wkeys, "-witness", wd.file(w2.verifier().text()), expect="not signed by witness.example/w2")
    # The timestamp is signed: change it and the cosignature fails.
    body, sigs = note.split("\n\n")
    log_line, w_line = sigs.strip("\n").split("\n")
    name, b64 = w_line[2:].split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[4 + 7] ^= 1
    forged = f"{body}\n\n{log_line}\n— {name} {base64.b64encode(bytes(raw)).decode()}\n"
    wd.fails("-vkey", pub, "-checkpoint", wd.file(forged), *wkeys, expect="invalid signature for key witness.example/w1")


def test_tampered_proofs_are_rejected(wd, log_key):
    signer, pub = log_key
    log = make_log(13)
    cp = wd.file(signed(log, 13, signer))
    good = log.inclusion(5, 13)
    wd.ok("-vkey", pub, "-checkpoint", cp, "-inclusion", wd.file(good, ".json"), "-leaf", wd.file(log.entries[5], ".bin"))

    def flip(h: str) -> str:
        return ("0" if h[0] != "0" else "1") + h[1:]

    bad_inclusions = {
        "proof hash changed": {**good, "proof": [flip(good["proof"][0]), *good["proof"][1:]]},
        "proof hash dropped": {**good, "proof": good["proof"][:-1]},
        "proof hash added": {**good, "proof": [*good["proof"], good["proof"][0]]},
        "proof reversed": {**good, "proof": good["proof"][::-1]},
        "wrong index": {**good, "index": 4},
        "wrong leaf hash": {**good, "leaf_hash": flip(good["leaf_hash"])},
        "root not the checkpoint's": {**good, "root": flip(good["root"])},
        "size not the checkpoint's": log.inclusion(5, 12),
        "uppercase hex": {**good, "root": good["root"].upper()},
    }
    for what, bad in bad_inclusions.items():
        reason = (
            "not a signed checkpoint's" if what in ("root not the checkpoint's", "size not the checkpoint's")
            else "lowercase hex" if what == "uppercase hex"
            else "invalid transparency proof"
        )
        wd.fails("-vkey", pub, "-checkpoint", cp, "-inclusion", wd.file(bad, ".json"), expect=reason)
    # The right proof for another entry's bytes.
    wd.fails(
        "-vkey", pub, "-checkpoint", cp, "-inclusion", wd.file(good, ".json"),
        "-leaf", wd.file(log.entries[6], ".bin"), expect="entry hashes to",
    )

    old_cp = wd.file(signed(log, 6, signer))
    goodc = log.consistency(6, 13)
    wd.ok("-vkey", pub, "-checkpoint", cp, "-old-checkpoint", old_cp, "-consistency", wd.file(goodc, ".json"))
    bad_consistency = {
        "proof hash changed": {**goodc, "proof": [flip(goodc["proof"][0]), *goodc["proof"][1:]]},
        "proof hash dropped": {**goodc, "proof": goodc["proof"][1:]},
        "proof reversed": {**goodc, "proof": goodc["proof"][::-1]},
        "old root changed": {**goodc, "old_root": flip(goodc["old_root"])},
        "old size changed": {**goodc, "old_size": 7},
    }
    for what, bad in bad_consistency.items():
        wd.fails("-vkey", pub, "-checkpoint", cp, "-consistency", wd.file(bad, ".json"), expect="invalid transparency proof")
    # A forked log: the same first 6 entries, then different ones; its proof is fine in itself
    # but its new root is not the signed checkpoint's.
    fork = Log(log.entries[:6] + [b"forged %d" % i for i in range(7)])
    wd.fails(
        "-vkey", pub, "-checkpoint", cp, "-old-checkpoint", old_cp,
        "-consistency", wd.file(fork.consistency(6, 13), ".json"), expect="is not the checkpoint's",
    )
    # ...and Go's tlog itself rejects the honest proof against the forked root.
    wd.fails(
        "-vkey", pub, "-checkpoint", cp,
        "-consistency", wd.file({**goodc, "old_root": fork.root(6).hex(), "proof": fork.consistency(6, 13)["proof"]}, ".json"),
        expect="invalid transparency proof",
    )
    # An old checkpoint that the new tree does not extend.
    unrelated = wd.file(signed(Log([b"x"] * 6), 6, signer))
    wd.fails(
        "-vkey", pub, "-checkpoint", cp, "-old-checkpoint", unrelated,
        "-consistency", wd.file(goodc, ".json"), expect="is not the old checkpoint's",
    )
