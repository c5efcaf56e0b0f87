"""C2SP checkpoints, their signatures, witness cosignatures (cosignature/v1), and the Witness."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mast.errors import IntegrityFailure, InvalidInput, Refused
from mast.ledger.checkpoint import (
    Checkpoint,
    Cosignature,
    MalformedCheckpoint,
    Witness,
    cosign,
    cosignature_timestamp,
    open_checkpoint,
    sign_checkpoint,
)
from mast.ledger.keys import ALG_COSIGNATURE_V1, new_signer
from mast.ledger.note import InvalidSignature, MalformedNote, UnverifiedNote, open_note, parse_note

# The example of c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature.
SPEC_EXAMPLE = (
    "example.com/behind-the-sofa\n"
    "20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    "\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)

ORIGIN = "mast.example/log"
LOG = new_signer(ORIGIN, seed=b"\x11" * 32)
W1 = new_signer("witness.example/w1", alg=ALG_COSIGNATURE_V1, seed=b"\x21" * 32)
W2 = new_signer("witness.example/w2", alg=ALG_COSIGNATURE_V1, seed=b"\x22" * 32)


def root_of(n: int) -> bytes:
    return hashlib.sha256(b"root %d" % n).digest()


def cp(n: int, root: bytes | None = None, ext: tuple[str, ...] = ()) -> Checkpoint:
    return Checkpoint(ORIGIN, n, root_of(n) if root is None else root, ext)


# -- the body --------------------------------------------------------------------------------


def test_spec_example_parses():
    text, sigs = parse_note(SPEC_EXAMPLE)
    c = Checkpoint.parse(text)
    assert c.origin == "example.com/behind-the-sofa"
    assert c.size == 20852163
    assert c.root == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert c.extensions == ()
    assert c.body() == text
    # The spec's cosignature is at "time 1679315147" (its signed-message example).
    assert cosignature_timestamp(sigs[1]) == 1679315147


def test_body_exact_format():
    root = bytes(range(32))
    c = Checkpoint("example.com/log", 42, root, ("ext one", "ext-two"))
    assert c.body() == (
        "example.com/log\n42\n" + base64.b64encode(root).decode() + "\next one\next-two\n"
    )
    assert Checkpoint.parse(c.body()) == c
    assert Checkpoint("o", 0, root).body().split("\n")[1] == "0"


@pytest.mark.parametrize(
    "body",
    [
        "o\n1\n",  # two lines
        "o\n1\nAAAA\n",  # root too short
        "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",  # empty origin
        "o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",  # leading zero
        "o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1 \n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n١\n" + base64.b64encode(bytes(32)).decode() + "\n",  # Arabic-Indic digit one
        "o\n1\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
        "o\n1\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",  # no padding
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # empty extension line
        "o\n1\n" + base64.b64encode(bytes(33)).decode() + "\n",  # 33-byte root
        "o\n1\n" + base64.urlsafe_b64encode(b"\xff" * 32).decode() + "\n",  # URL-safe alphabet
    ],
)
def test_malformed_bodies(body):
    with pytest.raises(MalformedCheckpoint):
        Checkpoint.parse(body)


def test_constructor_validates():
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("", 1, bytes(32))
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("o", -1, bytes(32))
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("o", 1, bytes(31))
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("o\nx", 1, bytes(32))
    with pytest.raises(MalformedCheckpoint):
        Checkpoint("o", 1, bytes(32), ("",))


@settings(max_examples=80, deadline=None)
@given(
    origin=st.text(st.characters(min_codepoint=0x21, blacklist_categories=("Cs",)), min_size=1, max_size=20),
    size=st.integers(0, 2**64),
    root=st.binary(min_size=32, max_size=32),
    ext=st.lists(st.text(st.characters(min_codepoint=0x20, blacklist_categories=("Cs",)), min_size=1, max_size=10), max_size=3),
)
def test_body_round_trip_property(origin, size, root, ext):
    c = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse(c.body()) == c
    assert Checkpoint.parse(c.body().encode()) == c


# -- signing and opening ----------------------------------------------------------------------


def test_sign_and_open():
    note = sign_checkpoint(cp(5), LOG)
    assert note.startswith(cp(5).body() + "\n— " + ORIGIN + " ")
    c, cosigs = open_checkpoint(note, LOG.verifier())
    assert c == cp(5) and cosigs == ()


def test_open_requires_the_log_signature():
    note = cosign(sign_checkpoint(cp(5), LOG), W1, 1700000000)
    # Only a witness key is configured as the log key's stand-in: the log's own is missing.
    other_log = new_signer(ORIGIN)
    with pytest.raises(UnverifiedNote):
        open_checkpoint(note, other_log.verifier(), [W1.verifier()])
    # A note signed by the witness only.
    text, sigs = parse_note(note)
    only_witness = text + "\n" + sigs[1].line()
    with pytest.raises(UnverifiedNote, match="log key"):
        open_checkpoint(only_witness, LOG.verifier(), [W1.verifier()])


def test_tampered_checkpoint_is_rejected():
    note = sign_checkpoint(cp(5), LOG)
    body = cp(5).body()
    for i, ch in enumerate(body):
        if ch == "\n":
            continue
        tampered = note[:i] + ("A" if ch != "A" else "B") + note[i + 1 :]
        with pytest.raises((InvalidSignature, MalformedNote, MalformedCheckpoint)):
            open_checkpoint(tampered, LOG.verifier())


def test_extra_and_missing_lines_are_rejected():
    note = sign_checkpoint(cp(5), LOG)
    text, (sig,) = parse_note(note)
    with pytest.raises(InvalidSignature):  # an extension line slipped in
        open_checkpoint(text + "extra\n\n" + sig.line(), LOG.verifier())
    with pytest.raises(InvalidSignature):  # a line removed... and signature no longer matches
        open_checkpoint("\n".join(text.split("\n")[:2]) + "\nx\n\n" + sig.line(), LOG.verifier())
    with pytest.raises((MalformedCheckpoint, InvalidSignature)):
        open_checkpoint(text.split("\n", 1)[1] + "\n" + sig.line(), LOG.verifier())


def test_a_signed_non_checkpoint_is_malformed():
    from mast.ledger.note import sign_note

    with pytest.raises(MalformedCheckpoint):
        open_checkpoint(sign_note("hello\n", LOG), LOG.verifier())


def test_extensions_are_signed():
    c = cp(5, ext=("ext",))
    c2, _ = open_checkpoint(sign_checkpoint(c, LOG), LOG.verifier())
    assert c2.extensions == ("ext",)


def test_log_must_not_sign_with_a_cosignature_key():
    with pytest.raises(ValueError):
        sign_checkpoint(cp(1), W1)


# -- cosignatures -----------------------------------------------------------------------------


def test_cosign_and_verify_several_witnesses():
    note = sign_checkpoint(cp(7), LOG)
    note = cosign(note, W1, 1700000001)
    note = cosign(note, W2, 1700000002)
    c, cosigs = open_checkpoint(note, LOG.verifier(), [W1.verifier(), W2.verifier()])
    assert c == cp(7)
    assert cosigs == (Cosignature(W1.verifier(), 1700000001), Cosignature(W2.verifier(), 1700000002))
    assert [x.name for x in cosigs] == ["witness.example/w1", "witness.example/w2"]
    # Unknown witnesses are ignored; a subset of witnesses reports only those.
    c, cosigs = open_checkpoint(note, LOG.verifier(), [W2.verifier()])
    assert [x.name for x in cosigs] == ["witness.example/w2"]
    c, cosigs = open_checkpoint(note, LOG.verifier())
    assert cosigs == ()


def test_cosignature_signed_message_is_the_spec_one():
    note = cosign(sign_checkpoint(cp(7), LOG), W1, 1679315147)
    text, sigs = parse_note(note)
    raw = sigs[1].signature
    assert raw[:8] == (1679315147).to_bytes(8, "big") and len(raw) == 72
    msg = b"cosignature/v1\ntime 1679315147\n" + text.encode()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    Ed25519PublicKey.from_public_bytes(W1.public_key).verify(raw[8:], msg)  # raises if wrong
    assert sigs[1].key_hash == int.from_bytes(
        hashlib.sha256(b"witness.example/w1\n\x04" + W1.public_key).digest()[:4], "big"
    )


def test_cosignature_timestamp_is_signed():
    note = cosign(sign_checkpoint(cp(7), LOG), W1, 1700000000)
    text, sigs = parse_note(note)
    raw = bytearray(base64.b64decode(sigs[1].base64))
    raw[4 + 7] ^= 1  # last byte of the timestamp
    forged = text + "\n" + sigs[0].line() + f"— {W1.name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(InvalidSignature):
        open_checkpoint(forged, LOG.verifier(), [W1.verifier()])
    # Without the witness configured, the forged line is just an unknown signature.
    open_checkpoint(forged, LOG.verifier())


def test_cosignature_does_not_verify_as_a_plain_signature_and_back():
    note = cosign(sign_checkpoint(cp(7), LOG), W1, 1700000000)
    plain = new_signer(W1.name, seed=W1.seed).verifier()  # same key, type 0x01: other key hash
    _, cosigs = open_checkpoint(note, LOG.verifier(), [plain])
    assert cosigs == ()


def test_recosign_replaces_the_witness_line():
    note = cosign(sign_checkpoint(cp(7), LOG), W1, 1700000000)
    note = cosign(note, W1, 1700000100)
    _, sigs = parse_note(note)
    assert len(sigs) == 2
    _, cosigs = open_checkpoint(note, LOG.verifier(), [W1.verifier()])
    assert cosigs == (Cosignature(W1.verifier(), 1700000100),)


def test_cosign_needs_a_cosignature_key_and_a_checkpoint():
    note = sign_checkpoint(cp(7), LOG)
    with pytest.raises(ValueError):
        cosign(note, LOG, 1)
    from mast.ledger.note import sign_note

    with pytest.raises(MalformedCheckpoint):
        cosign(sign_note("not a checkpoint\n", LOG), W1, 1)
    with pytest.raises(ValueError):
        cosign(note, W1, -5)


def test_witness_key_may_not_be_the_log_key():
    with pytest.raises(InvalidInput):
        open_checkpoint(sign_checkpoint(cp(1), LOG), LOG.verifier(), [LOG.verifier()])


def test_cosignature_survives_go_style_reordering_of_other_lines():
    """Cosignatures are independent lines: a witness's line verifies whatever order others are in."""
    note = cosign(cosign(sign_checkpoint(cp(9), LOG), W1, 1), W2, 2)
    text, sigs = parse_note(note)
    reordered = text + "\n" + "".join(s.line() for s in reversed(sigs))
    _, cosigs = open_checkpoint(reordered, LOG.verifier(), [W1.verifier(), W2.verifier()])
    assert [c.name for c in cosigs] == [W2.name, W1.name]


# -- the witness's decision -------------------------------------------------------------------


class FakeConsistency:
    """Records calls; accepts the proof [b"ok" * 16] only (mast.ledger.merkle raises instead)."""

    def __init__(self):
        self.calls = []

    def __call__(self, old_size, new_size, old_root, new_root, proof):
        self.calls.append((old_size, new_size, old_root, new_root, list(proof)))
        if list(proof) != [b"ok" * 16]:
            raise IntegrityFailure("bad proof")


def test_witness_first_checkpoint_and_growth():
    check = FakeConsistency()
    w = Witness(W1, LOG.verifier(), check)
    new, note = w.cosign(None, sign_checkpoint(cp(3), LOG), [], 1700000000)
    assert new == cp(3)
    _, cosigs = open_checkpoint(note, LOG.verifier(), [W1.verifier()])
    assert cosigs == (Cosignature(W1.verifier(), 1700000000),)
    new2, _ = w.cosign(new, sign_checkpoint(cp(8), LOG), [b"ok" * 16], 1700000100)
    assert new2 == cp(8)
    assert check.calls == [(3, 8, root_of(3), root_of(8), [b"ok" * 16])]


def test_witness_refuses_a_failing_proof():
    w = Witness(W1, LOG.verifier(), FakeConsistency())
    with pytest.raises(IntegrityFailure, match="consistency"):
        w.check(cp(3), sign_checkpoint(cp(8), LOG), [b"no" * 16])


def test_witness_refuses_a_false_returning_check():
    w = Witness(W1, LOG.verifier(), lambda *a: False)
    with pytest.raises(IntegrityFailure):
        w.check(cp(3), sign_checkpoint(cp(8), LOG), [b"x" * 32])


def test_witness_refuses_rollback_fork_other_log_and_unsigned():
    w = Witness(W1, LOG.verifier(), FakeConsistency())
    with pytest.raises(IntegrityFailure, match="rolled back"):
        w.check(cp(8), sign_checkpoint(cp(3), LOG), [])
    with pytest.raises(IntegrityFailure, match="forked"):
        w.check(cp(8), sign_checkpoint(cp(8, root=root_of(99)), LOG), [])
    other = Checkpoint("other.example/log", 3, root_of(3))
    with pytest.raises(Refused):
        w.check(other, sign_checkpoint(cp(8), LOG), [b"ok" * 16])
    with pytest.raises(UnverifiedNote):
        w.check(cp(3), sign_checkpoint(cp(8), new_signer(ORIGIN)), [b"ok" * 16])
    with pytest.raises(IntegrityFailure):  # same size: the proof must be empty
        w.check(cp(8), sign_checkpoint(cp(8), LOG), [b"ok" * 16])


def test_witness_same_checkpoint_again_and_from_empty():
    w = Witness(W1, LOG.verifier(), FakeConsistency())
    assert w.check(cp(8), sign_checkpoint(cp(8), LOG), []) == cp(8)
    assert w.check(cp(0), sign_checkpoint(cp(5), LOG), []) == cp(5)


def test_witness_needs_a_cosignature_key():
    with pytest.raises(ValueError):
        Witness(LOG, LOG.verifier(), FakeConsistency())


def test_witness_with_the_real_merkle_code():
    from mast.ledger import merkle

    leaves = [b"leaf %d" % i for i in range(13)]
    tree = merkle.MemoryTree.of_leaves(leaves)
    old, new = cp(5, root=tree.root(5)), cp(13, root=tree.root(13))
    proof = merkle.consistency_proof(tree, 5, 13)
    w = Witness(W1, LOG.verifier(), merkle.verify_consistency)
    got, note = w.cosign(old, sign_checkpoint(new, LOG), proof, 1700000000)
    assert got == new
    bad = list(proof)
    bad[0] = bytes(32)
    with pytest.raises(IntegrityFailure):
        w.check(old, sign_checkpoint(new, LOG), bad)
    forked = cp(13, root=merkle.MemoryTree.of_leaves(leaves[:12] + [b"other"]).root(13))
    with pytest.raises(IntegrityFailure):
        w.check(old, sign_checkpoint(forked, LOG), proof)


def test_pinned_cosigned_checkpoint():
    """A fixed vector (Ed25519 is deterministic): any change to the formats shows up here.
    The interop test checks the same kind of note with Go."""
    pinned = (
        "mast.example/log\n7\nQdhlabzts28LrqeaQtylYVvVGlafb0Hvl3pLc91SBDA=\n\n"
        "— mast.example/log sMwaiiNN9NAqPsdAyPgt6LLtmhtTxpcKKutgnne/5wN12x146nxC18SohpqoJprYvBJX5aDGEj+1IvSIzosTgNlh9ws=\n"
        "— witness.example/w1 yG1qPwAAAABkGFDLLPOe/RjgwB+gLv1L3boUQXsoktJuXCh9G4jaf58zmdoNugP+/dnT9hKzyDrIoBDrxkL9JsO6JuExrfywQ4thDg==\n"
    )
    assert LOG.verifier().text() == "mast.example/log+b0cc1a8a+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3"
    assert W1.verifier().text() == "witness.example/w1+c86d6a3f+BIhLiFf06qFhPGFQTbNNS+rzRlF6DjHePN3U2bQgHZ0L"
    assert cosign(sign_checkpoint(cp(7), LOG), W1, 1679315147) == pinned
    c, cosigs = open_checkpoint(pinned, LOG.verifier(), [W1.verifier()])
    assert c == cp(7) and cosigs == (Cosignature(W1.verifier(), 1679315147),)
