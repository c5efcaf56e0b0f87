"""`mast log`, run as a user runs it: every command's output in exactly the form DESIGN §6
gives, bad arguments refused with exit 2 (no traceback), a checkpoint signed for each batch,
and witnesses cosigning through `mast log cosign`.

The workspace is built once through the CLI (`mast init`, `mast framework publish`, `mast
record add`: four batches) and copied for the tests that change it. The CLI runs in-process
(tests/cli_runner.py), 80 columns wide: the output must not depend on a terminal's width.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import sqlite3
import stat
import textwrap
import time
from pathlib import Path

import pytest

from cli_runner import Result, run
from stored import bodies
from mast.ledger import merkle
from mast.ledger.checkpoint import Checkpoint, open_checkpoint
from mast.ledger.keys import ALG_COSIGNATURE_V1, load_verifier, new_signer
from mast.ledger.note import parse_note
from mast.records.canonical import canonical_bytes

FRAMEWORK_V1 = Path(__file__).parents[1] / "records" / "data" / "framework-v1.yaml"
APPROVALS = ["--approve", "rso=Jane Roe", "--approve", "ceo=Sam Poe"]

MODELS = """\
- {kind: model, at: 2025-02-01T00:00:00Z, id: m1, name: Model One, ref: m1-def}
- {kind: model, at: 2025-02-02T00:00:00Z, id: m2, name: Model Two, parent: m1}
"""
EVALS = """\
- {kind: eval, at: 2025-02-03T00:00:00Z, model: m1, task: wmdp_bio, metrics: {accuracy: 0.41}}
- {kind: eval, at: 2025-02-04T00:00:00Z, model: m2, task: wmdp_bio, metrics: {accuracy: 0.52}}
"""
ROADMAP = '{"kind": "roadmap", "at": "2025-03-01T00:00:00Z", "goal": "g", "status": "met", "note": "n"}'
MORE = """\
- {kind: stage, at: 2025-03-02T00:00:00Z, model: m1, stage: training}
- {kind: model, at: 2025-03-03T00:00:00Z, id: m3, name: Model Three}
- {kind: eval, at: 2025-03-04T00:00:00Z, model: m3, task: wmdp_bio, metrics: {accuracy: 0.3}}
"""

#: Batch sizes of the shared workspace, in order, and the tree sizes after each.
BATCHES = [1, 2, 2, 1]
SIZES = [0, 1, 3, 5, 6]

HEX64 = re.compile(r"^[0-9a-f]{64}$")
B64 = r"[A-Za-z0-9+/]+={0,2}"


def mast(ws: Path | str | None, *args, input: str | None = None) -> Result:
    """`mast -w WS ARGS` as a user runs it."""
    return run(*(["-w", ws] if ws is not None else []), *map(str, args), input=input, width=80)


def ok(result: Result) -> Result:
    assert result.code == 0, (result.args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def refused(result: Result, code: int = 2) -> str:
    assert result.code == code, (result.args, result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert not result.stdout_bytes, result.stdout_bytes
    return result.stderr


def db(ws: Path) -> sqlite3.Connection:
    return sqlite3.connect(ws / ".mast" / "mast.db")


def stored_checkpoints(ws: Path) -> list[tuple[int, bytes, str]]:
    con = db(ws)
    try:
        return [(s, bytes(r), n) for s, r, n in con.execute("SELECT size, root, note FROM log_checkpoints ORDER BY size")]
    finally:
        con.close()


def origin(ws: Path) -> str:
    return re.search(r'^origin = "(.*)"$', (ws / "mast.toml").read_text(), re.M).group(1)


def root_of(leaves: list[bytes]) -> bytes:
    return merkle.root_from_leaf_hashes([merkle.leaf_hash(b) for b in leaves])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A workspace made through the CLI in four batches: framework v1 (index 0), models m1, m2
    (1-2), evals (3-4), a roadmap record (5)."""
    ws = tmp_path_factory.mktemp("log-cli") / "lab"
    ok(mast(None, "init", ws))
    ok(mast(ws, "framework", "publish", FRAMEWORK_V1, *APPROVALS, "--at", "2025-01-01T00:00:00Z"))
    ok(mast(ws, "record", "add", "-", input=MODELS))
    ok(mast(ws, "record", "add", "-", input=EVALS))
    ok(mast(ws, "record", "add", "-", input=ROADMAP))
    return ws


@pytest.fixture
def lab(tmp_path, built) -> Path:
    """A copy of the built workspace, for tests that append or cosign."""
    shutil.copytree(built, tmp_path / "lab")
    return tmp_path / "lab"


# -- mast log key ---------------------------------------------------------------------------------


def test_key_is_the_verifier_key_in_signed_note_form(built):
    out = ok(mast(built, "log", "key")).stdout
    name = origin(built)
    m = re.fullmatch(rf"({re.escape(name)})\+([0-9a-f]{{8}})\+({B64})\n", out)
    assert m, out
    typed = base64.b64decode(m.group(3), validate=True)
    assert len(typed) == 33 and typed[0] == 0x01  # Ed25519, then the 32-byte public key
    # The key hash is the first four bytes of SHA-256(name || "\n" || type || key).
    assert m.group(2) == hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4].hex()
    assert out == (built / ".mast" / "keys" / "log.pub").read_text()
    assert load_verifier(out).name == name


def test_signing_key_is_private(built):
    keys = built / ".mast" / "keys"
    assert stat.S_IMODE((keys / "log.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert (keys / "log.key").read_text().startswith(f"PRIVATE+KEY+{origin(built)}+")


# -- mast log checkpoint --------------------------------------------------------------------------


def test_checkpoint_is_the_c2sp_signed_note(built):
    note = ok(mast(built, "log", "checkpoint")).stdout
    name = origin(built)
    leaves = bodies(built)
    root = base64.b64encode(root_of(leaves)).decode()
    m = re.fullmatch(rf"{re.escape(name)}\n{len(leaves)}\n{re.escape(root)}\n\n\u2014 {re.escape(name)} ({B64})\n", note)
    assert m, note
    sig = base64.b64decode(m.group(1))
    verifier = load_verifier((built / ".mast" / "keys" / "log.pub").read_text())
    assert len(sig) == 4 + 64 and int.from_bytes(sig[:4], "big") == verifier.key_hash
    cp, cosigs = open_checkpoint(note, verifier)
    assert (cp.origin, cp.size, cp.root) == (name, len(leaves), root_of(leaves)) and cosigs == ()


def test_a_checkpoint_is_signed_for_each_batch_and_one_at_init(built):
    verifier = load_verifier((built / ".mast" / "keys" / "log.pub").read_text())
    leaves = bodies(built)
    stored = stored_checkpoints(built)
    assert len(stored) == len(BATCHES) + 1
    assert [size for size, _, _ in stored] == SIZES
    for size, root, note in stored:
        cp, _ = open_checkpoint(note, verifier)
        assert (cp.size, cp.root) == (size, root) == (size, root_of(leaves[:size]))
    assert stored[0][1] == hashlib.sha256(b"").digest()  # the empty log's, signed at init


def test_the_empty_log_has_a_checkpoint_and_verifies(tmp_path):
    ok(mast(None, "init", tmp_path / "empty"))
    ws = tmp_path / "empty"
    note, verify, leaf, inclusion, consistency = [mast(*call) for call in [
        (ws, "log", "checkpoint"), (ws, "log", "verify"), (ws, "log", "leaf", "0"),
        (ws, "log", "proof", "inclusion", "0", "--json"), (ws, "log", "proof", "consistency", "1", "--json")]]
    ok(note)
    empty = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    assert note.stdout.startswith(f"{origin(ws)}\n0\n{empty}\n\n\u2014 {origin(ws)} ")
    assert ok(verify).stdout.startswith("ok: 0 entries")
    for bad in (leaf, inclusion, consistency):
        refused(bad)


def test_a_refused_batch_signs_nothing(lab):
    before = stored_checkpoints(lab)
    refused(mast(lab, "record", "add", "-", input="- {kind: eval, at: 2025-04-01T00:00:00Z, model: nobody, "
                                                     "task: t, metrics: {a: 1}}\n"))
    assert stored_checkpoints(lab) == before


# -- mast log leaf / proof ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_leaves(built) -> list[bytes]:
    """`mast log leaf N` for every entry, as printed."""
    return [ok(mast(built, "log", "leaf", i)).stdout_bytes for i in range(sum(BATCHES))]


def test_leaf_prints_the_canonical_json_bytes(built, cli_leaves):
    for i, (printed, stored) in enumerate(zip(cli_leaves, bodies(built), strict=True)):
        assert printed == stored, i  # exactly the leaf: no newline added
        assert printed == canonical_bytes(json.loads(printed)), i


def test_inclusion_proofs_verify_and_match_the_leaves(built, cli_leaves):
    n = len(cli_leaves)
    cases = [(0, None), (n - 1, None), (0, 1), (1, 3), (4, 5)]
    results = [mast(built, "log", "proof", "inclusion", i, *(["--size", s] if s else []), "--json") for i, s in cases]
    roots = {size: root for size, root, _ in stored_checkpoints(built)}
    for (index, size), result in zip(cases, results):
        data = json.loads(ok(result).stdout)
        size = size or n
        assert list(data) == ["index", "size", "leaf_hash", "root", "proof"]
        assert (data["index"], data["size"]) == (index, size)
        for h in [data["leaf_hash"], data["root"], *data["proof"]]:
            assert HEX64.match(h), h
        # `mast log leaf N` gives the bytes whose RFC 6962 leaf hash the proof starts from.
        assert data["leaf_hash"] == hashlib.sha256(b"\x00" + cli_leaves[index]).hexdigest()
        # ...and the root is the signed checkpoint's at that size.
        assert bytes.fromhex(data["root"]) == roots[size] == root_of(cli_leaves[:size])
        merkle.verify_inclusion(index, size, bytes.fromhex(data["leaf_hash"]),
                                [bytes.fromhex(h) for h in data["proof"]], bytes.fromhex(data["root"]))


def test_consistency_proofs_verify_between_checkpoints(built):
    leaves = bodies(built)
    n = len(leaves)
    cases = [(1, n), (3, 5), (5, 6), (6, 6), (3, None)]
    results = [mast(built, "log", "proof", "consistency", a, *([b] if b else []), "--json") for a, b in cases]
    for (old, new), result in zip(cases, results):
        data = json.loads(ok(result).stdout)
        new = new or n
        assert list(data) == ["old_size", "new_size", "old_root", "new_root", "proof"]
        assert (data["old_size"], data["new_size"]) == (old, new)
        for h in [data["old_root"], data["new_root"], *data["proof"]]:
            assert HEX64.match(h), h
        assert bytes.fromhex(data["old_root"]) == root_of(leaves[:old])
        assert bytes.fromhex(data["new_root"]) == root_of(leaves[:new])
        merkle.verify_consistency(old, new, bytes.fromhex(data["old_root"]), bytes.fromhex(data["new_root"]),
                                  [bytes.fromhex(h) for h in data["proof"]])


def test_bad_arguments_exit_2_without_a_traceback(built, tmp_path):
    n = len(bodies(built))
    nowhere = tmp_path / "not-a-workspace"
    nowhere.mkdir()
    cases = {
        "leaf past the end": (built, "log", "leaf", str(n)),
        "negative leaf": (built, "log", "leaf", "--", "-1"),
        "inclusion index = size": (built, "log", "proof", "inclusion", str(n), "--json"),
        "inclusion --size past the log": (built, "log", "proof", "inclusion", "0", "--size", str(n + 1), "--json"),
        "inclusion --size 0": (built, "log", "proof", "inclusion", "0", "--size", "0", "--json"),
        "consistency OLD > NEW": (built, "log", "proof", "consistency", "5", "3", "--json"),
        "consistency NEW past the log": (built, "log", "proof", "consistency", "1", str(n + 1), "--json"),
        "consistency OLD 0": (built, "log", "proof", "consistency", "0", "3", "--json"),
        "verify: no such checkpoint file": (built, "log", "verify", "--checkpoint", tmp_path / "missing.txt"),
        "not a workspace: key": (nowhere, "log", "key"),
        "not a workspace: leaf": (nowhere, "log", "leaf", "0"),
        "not a workspace: consistency": (nowhere, "log", "proof", "consistency", "1", "--json"),
        "not a workspace: verify": (nowhere, "log", "verify"),
    }
    for what, call in cases.items():
        result = mast(*call)
        assert result.code == 2, (what, result.code, result.stdout, result.stderr)
        stderr = refused(result)
        if what.startswith("not a workspace"):
            assert "not a mast workspace" in stderr, (what, stderr)
        elif "past the end" in what:
            assert f"no entry {cases[what][-1]}" in stderr, (what, stderr)


def test_verify_says_ok_on_one_line(built):
    out = ok(mast(built, "log", "verify")).stdout
    root = root_of(bodies(built)).hex()
    assert re.fullmatch(rf"ok: 6 entries, {len(SIZES)} checkpoints verified; root {root}\n", out), out


# -- witnesses ------------------------------------------------------------------------------------


def witness_key(directory: Path, name: str = "witness.example/w1"):
    """A witness's key files: its signer (cosignature/v1) and its verifier key text."""
    signer = new_signer(name, alg=ALG_COSIGNATURE_V1)
    path = directory / f"{name.replace('/', '_')}.key"
    path.write_text(signer.text() + "\n")
    path.chmod(0o600)
    return path, signer.verifier()


def test_a_witness_cosigns_and_the_checkpoint_carries_both_signatures(lab, tmp_path):
    key, wv = witness_key(tmp_path)
    state = tmp_path / "w1.state"
    log_v = load_verifier((lab / ".mast" / "keys" / "log.pub").read_text())
    before = int(time.time())

    result = ok(mast(lab, "log", "cosign", "--key", key, "--state", state))
    assert result.stdout == f"cosigned {origin(lab)} at size 6 as witness.example/w1\n"
    note = ok(mast(lab, "log", "checkpoint")).stdout
    text, sigs = parse_note(note)
    assert [s.name for s in sigs] == [origin(lab), "witness.example/w1"]  # the log's first
    cp, cosigs = open_checkpoint(note, log_v, [wv])
    assert cp.size == 6 and [c.name for c in cosigs] == ["witness.example/w1"]
    assert before <= cosigs[0].timestamp <= int(time.time())
    assert Checkpoint.parse(parse_note(state.read_text())[0]) == cp  # the witness remembers it

    # Asked again with nothing new, it has nothing to add.
    result = ok(mast(lab, "log", "cosign", "--key", key, "--state", state))
    assert result.stdout == f"already cosigned {origin(lab)} at size 6 as witness.example/w1\n"
    assert ok(mast(lab, "log", "checkpoint")).stdout == note

    # More records: the new checkpoint is the log's alone until the witness, having checked a
    # consistency proof from the checkpoint in its state, cosigns it too.
    ok(mast(lab, "record", "add", "-", input=MORE))
    note = ok(mast(lab, "log", "checkpoint")).stdout
    assert [s.name for s in parse_note(note)[1]] == [origin(lab)]
    ok(mast(lab, "log", "cosign", "--key", key, "--state", state))
    note = ok(mast(lab, "log", "checkpoint")).stdout
    cp, cosigs = open_checkpoint(note, log_v, [wv])
    assert cp.size == 9 and [c.name for c in cosigs] == ["witness.example/w1"]
    assert Checkpoint.parse(parse_note(state.read_text())[0]).size == 9

    # A second witness: the checkpoint carries all three signatures.
    key2, wv2 = witness_key(tmp_path, "witness.example/w2")
    ok(mast(lab, "log", "cosign", "--key", key2, "--state", tmp_path / "w2.state"))
    note = ok(mast(lab, "log", "checkpoint")).stdout
    assert [s.name for s in parse_note(note)[1]] == [origin(lab), "witness.example/w1", "witness.example/w2"]
    assert [c.name for c in open_checkpoint(note, log_v, [wv, wv2])[1]] == ["witness.example/w1", "witness.example/w2"]


def configure_witnesses(ws: Path, *verifiers) -> None:
    keys = ", ".join(f'"{v.text()}"' for v in verifiers)
    with open(ws / "mast.toml", "a", encoding="utf-8") as f:
        f.write(f"\nwitnesses = [{keys}]\n")


def test_verify_checks_the_configured_witnesses_cosignatures(lab, tmp_path):
    key, wv = witness_key(tmp_path)
    state = tmp_path / "w1.state"
    ok(mast(lab, "log", "cosign", "--key", key, "--state", state))
    ok(mast(lab, "record", "add", "-", input=MORE))
    ok(mast(lab, "log", "cosign", "--key", key, "--state", state))
    configure_witnesses(lab, wv)
    out = ok(mast(lab, "log", "verify")).stdout
    assert out.startswith("ok: 9 entries")

    # Forge the witness's signature on the size-6 checkpoint (as an attacker with the database).
    con = db(lab)
    con.execute("DROP TRIGGER log_cosignatures_no_update")
    (note,) = con.execute("SELECT note FROM log_cosignatures WHERE size = 6").fetchone()
    *lines, witness_line, _ = note.split("\n")
    name, b64 = witness_line[2:].split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[-1] ^= 1
    forged = "\n".join([*lines, f"\u2014 {name} {base64.b64encode(bytes(raw)).decode()}", ""])
    assert name == "witness.example/w1" and forged != note
    con.execute("UPDATE log_cosignatures SET note = ? WHERE size = 6", (forged,))
    con.commit()
    con.close()
    stderr = refused(mast(lab, "log", "verify"), 4)
    assert "cosigned checkpoint at size 6" in stderr and "witness.example/w1" in stderr, stderr


def test_cosign_refuses_keys_that_are_not_a_witness_key(lab, tmp_path):
    plain = tmp_path / "plain.key"
    plain.write_text(new_signer("witness.example/plain").text() + "\n")
    stderr = refused(mast(lab, "log", "cosign", "--key", plain, "--state", tmp_path / "s"))
    assert "cosignature/v1" in stderr
    stderr = refused(mast(lab, "log", "cosign", "--key", tmp_path / "missing.key", "--state", tmp_path / "s"))
    assert "missing.key" in stderr
    assert not (tmp_path / "s").exists()


def test_a_witness_following_another_log_refuses(lab, tmp_path):
    ok(mast(None, "init", tmp_path / "other"))
    ok(mast(tmp_path / "other", "record", "add", "-", input=ROADMAP))
    key, _ = witness_key(tmp_path)
    state = tmp_path / "w1.state"
    ok(mast(tmp_path / "other", "log", "cosign", "--key", key, "--state", state))
    remembered = state.read_text()
    stderr = refused(mast(lab, "log", "cosign", "--key", key, "--state", state), 3)
    assert "mast.local/other" in stderr
    assert state.read_text() == remembered


def test_verify_reads_witness_keys_from_mast_toml(lab, tmp_path):
    """A malformed witness key in mast.toml is invalid input, not an integrity failure."""
    with open(lab / "mast.toml", "a", encoding="utf-8") as f:
        f.write(textwrap.dedent('''
            witnesses = ["witness.example/w1+00000000+not-base64"]
            '''))
    refused(mast(lab, "log", "verify"), 2)
