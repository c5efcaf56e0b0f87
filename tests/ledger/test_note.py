"""C2SP signed notes: Go's known answers, several signers, and every kind of tampering."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mast.errors import IntegrityFailure, InvalidInput
from mast.ledger.keys import ALG_COSIGNATURE_V1, load_verifier, new_signer, parse_signer
from mast.ledger.note import (
    InvalidSignature,
    MalformedNote,
    Signature,
    UnverifiedNote,
    add_signatures,
    open_note,
    parse_note,
    sign_note,
)

# Known answers from golang.org/x/mod/sumdb/note (note_test.go TestSign/TestOpen).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

peter = load_verifier(PETER_VKEY)
enoch = load_verifier(ENOCH_VKEY)


def test_sign_known_answer():
    assert sign_note(TEXT, parse_signer(PETER_SKEY)) == TEXT + "\n" + PETER_SIG


def test_two_signers_known_answer():
    both = sign_note(TEXT, [parse_signer(PETER_SKEY), new_signer("EnochRoot", seed=bytes(32))])
    assert both == TEXT + "\n" + PETER_SIG + ENOCH_SIG
    # ...which is also what adding a signature to Peter's note gives (Go's ExampleSign_add_signatures).
    assert add_signatures(TEXT + "\n" + PETER_SIG, new_signer("EnochRoot", seed=bytes(32))) == both


def test_open_one_known_one_unknown():
    n = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter])
    assert n.text == TEXT
    assert n.verified_by == (peter,)
    assert [s.name for s in n.signatures] == ["PeterNeumann", "EnochRoot"]
    assert [s.name for s in n.verified] == ["PeterNeumann"]
    assert [s.name for s in n.unverified] == ["EnochRoot"]
    assert n.signatures[0] == Signature("PeterNeumann", 0xC74F20A3, PETER_SIG.split()[-1])
    assert n.signed_by(peter) and not n.signed_by(enoch)


def test_open_both_known():
    n = open_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(), [peter, enoch])
    assert n.verified_by == (peter, enoch)
    assert n.unverified == ()


def test_open_no_known_key():
    with pytest.raises(UnverifiedNote):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    with pytest.raises(UnverifiedNote):
        open_note(TEXT + "\n" + ENOCH_SIG, peter)


def test_same_name_other_hash_is_an_unknown_key():
    """Spec: ignore signatures from unknown keys even if they share a name or ID with a known key."""
    other = new_signer("PeterNeumann")  # same name, another key, another hash
    note = sign_note(TEXT, [other, parse_signer(PETER_SKEY)])
    n = open_note(note, [peter])
    assert n.verified_by == (peter,) and len(n.unverified) == 1


def test_invalid_signature_by_known_key_rejects_the_note():
    # Go's TestOpen "Invalid signature": four characters spliced into the base64.
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(InvalidSignature):
        open_note(TEXT + "\n" + bad, [peter])
    # Even when another known key verifies.
    with pytest.raises(InvalidSignature):
        open_note(TEXT + "\n" + ENOCH_SIG + bad, [peter, enoch])
    assert issubclass(InvalidSignature, IntegrityFailure)


def test_bad_signature_from_unknown_key_is_ignored():
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    n = open_note(TEXT + "\n" + PETER_SIG + bad_enoch, [peter])
    assert n.verified_by == (peter,)


@pytest.mark.parametrize(
    "msg",
    [
        TEXT,  # no signatures
        TEXT + "\n",  # empty signature block
        TEXT + "\n" + PETER_SIG[:-1],  # no final newline
        "\x01" + TEXT + "\n" + PETER_SIG,  # control character
        TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,  # CR
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",  # extra line
        TEXT + "\n" + PETER_SIG + "\n",  # trailing blank line
        TEXT + "\n" + PETER_SIG.replace("—", "-"),  # hyphen, not em dash
        TEXT + "\n" + PETER_SIG.replace("— ", "—"),  # no space
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann ", "PeterNeumann  "),  # two spaces
        TEXT + "\n" + PETER_SIG.replace("AM=", "AM"),  # bad padding
        TEXT + "\n" + PETER_SIG.replace("x08go", "x08g!"),  # not base64
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical base64
        TEXT + "\n" + "— PeterNeumann x08gow==\n",  # too short (4 bytes)
        TEXT + "\n" + "— PeterNeumann \n",  # empty signature
        TEXT + "\n" + "—  x08go/ZJ\n",  # empty name
    ],
)
def test_malformed_notes(msg):
    with pytest.raises(MalformedNote):
        open_note(msg, [peter])
    assert issubclass(MalformedNote, InvalidInput)


def test_invalid_utf8():
    with pytest.raises(MalformedNote):
        open_note(b"\xff" + (TEXT + "\n" + PETER_SIG).encode(), [peter])
    with pytest.raises(MalformedNote):
        open_note("\ud800" + TEXT + "\n" + PETER_SIG, [peter])


def test_too_many_signatures():
    enoch_lines = [sign_note(TEXT, new_signer(f"w{i}")).split("\n\n")[1] for i in range(100)]
    ok = TEXT + "\n" + PETER_SIG + "".join(enoch_lines[:99])
    assert open_note(ok, [peter]).verified_by == (peter,)  # 100 signatures: accepted
    with pytest.raises(MalformedNote):
        open_note(ok + enoch_lines[99], [peter])  # 101: refused (Go's cap)


def test_duplicate_signatures_by_a_known_key_are_rejected():
    """Go skips a known key's repeats unverified; mast refuses a note that carries them."""
    with pytest.raises(MalformedNote, match="two signatures"):
        open_note(TEXT + "\n" + PETER_SIG + PETER_SIG, [peter])
    bad = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(MalformedNote):
        open_note(TEXT + "\n" + PETER_SIG + bad, [peter])


def test_identical_unknown_lines_are_kept_once():
    n = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG + ENOCH_SIG, [peter])
    assert [s.name for s in n.signatures] == ["PeterNeumann", "EnochRoot"]
    assert add_signatures(TEXT + "\n" + ENOCH_SIG + ENOCH_SIG, parse_signer(PETER_SKEY)) == (
        TEXT + "\n" + ENOCH_SIG + PETER_SIG
    )


def test_tampered_text_fails():
    note = sign_note(TEXT, parse_signer(PETER_SKEY))
    for i in range(len(TEXT) - 1):  # every byte of the text but the final newline
        if TEXT[i] == "\n":
            continue
        tampered = note[:i] + chr(ord(note[i]) ^ 1) + note[i + 1 :]
        with pytest.raises((InvalidSignature, MalformedNote)):
            open_note(tampered, [peter])


def test_tampered_signature_bytes_fail():
    note = sign_note(TEXT, parse_signer(PETER_SKEY))
    text, (sig,) = parse_note(note)
    raw = base64.b64decode(sig.base64)
    for i in range(len(raw)):
        b = bytearray(raw)
        b[i] ^= 0x01
        line = f"— PeterNeumann {base64.b64encode(bytes(b)).decode()}\n"
        with pytest.raises((InvalidSignature, UnverifiedNote)):  # key-hash bytes -> unknown key
            open_note(text + "\n" + line, [peter])


def test_wrong_key():
    note = sign_note(TEXT, new_signer("PeterNeumann"))
    with pytest.raises(UnverifiedNote):
        open_note(note, [peter])


def test_blank_lines_in_text_and_last_blank_line_splits():
    text = "a\n\nb\n\n"
    s = new_signer("k")
    note = sign_note(text, s)
    n = open_note(note, [s.verifier()])
    assert n.text == text


@pytest.mark.parametrize("text", ["", "no newline", "ctl\x07\n", "cr\r\n", "\ud800\n"])
def test_sign_rejects_bad_text(text):
    with pytest.raises(MalformedNote):
        sign_note(text, new_signer("k"))


def test_sign_replaces_an_existing_signature_by_the_same_key():
    # Go's TestSign: an existing signature by the signer's key is replaced.
    s = parse_signer(PETER_SKEY)
    assert sign_note(TEXT, s, existing=[Signature("PeterNeumann", 0xC74F20A3, "x08go/ZJBADSIG")]) == (
        TEXT + "\n" + PETER_SIG
    )


def test_sign_rejects_the_same_signer_twice_and_no_signer():
    s = new_signer("k")
    with pytest.raises(ValueError):
        sign_note(TEXT, [s, s])
    with pytest.raises(ValueError):
        sign_note(TEXT, [])


def test_ambiguous_verifiers_are_refused():
    a = new_signer("same")
    # Force a (name, hash) collision: two different keys reported under one id cannot be told apart.
    import dataclasses

    fake = dataclasses.replace(new_signer("same").verifier())
    object.__setattr__(fake, "key_hash", a.key_hash)
    with pytest.raises(InvalidInput, match="ambiguous"):
        open_note(sign_note(TEXT, a), [a.verifier(), fake])


def test_cosignature_key_in_a_plain_note():
    w = new_signer("witness.example/w1", alg=ALG_COSIGNATURE_V1)
    note = sign_note(TEXT, w.at(1700000000))
    n = open_note(note, [w.verifier()])
    assert n.verified_by == (w.verifier(),)
    # The same key as a plain Ed25519 key (type 0x01) has another key hash: an unknown key.
    with pytest.raises(UnverifiedNote):
        open_note(note, [new_signer("witness.example/w1", seed=w.seed).verifier()])


_text_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n", min_codepoint=0x20),
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_text_line, min_size=1, max_size=6), n_signers=st.integers(1, 4))
def test_round_trip_property(lines, n_signers):
    text = "".join(line + "\n" for line in lines)
    signers = [new_signer(f"k{i}.example/log", seed=bytes([i]) * 32) for i in range(n_signers)]
    note = sign_note(text, signers)
    n = open_note(note, [s.verifier() for s in signers])
    assert n.text == text
    assert n.verified_by == tuple(s.verifier() for s in signers)
    # Any one verifier alone suffices.
    assert open_note(note, [signers[-1].verifier()]).verified_by == (signers[-1].verifier(),)
