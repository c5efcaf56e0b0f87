"""Ed25519 note keys: Go's text forms, key hashes, key files (mode 0600, never overwritten)."""

from __future__ import annotations

import os
import stat

import pytest

from mast.errors import InvalidInput, Refused
from mast.ledger import keys
from mast.ledger.keys import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    BadKey,
    generate_signer,
    is_valid_key_name,
    key_hash,
    load_signer,
    load_verifier,
    new_signer,
    parse_signer,
    write_key_files,
)

# Known answers from golang.org/x/mod/sumdb/note (note_test.go, example_test.go).
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"  # GenerateKey with a zero reader
# A deployed witness's cosignature/v1 verifier key (type 0x04), from transparency-dev/formats tests.
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
# A type-0x01 key whose base64 contains '+', from the same tests.
TEST_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"


def test_go_signer_key_known_answer():
    signer = parse_signer(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_hash == 0xC74F20A3
    assert signer.alg == ALG_ED25519
    assert signer.text() == PETER_SKEY
    assert signer.verifier().text() == PETER_VKEY


def test_go_verifier_key_known_answers():
    for vkey in (PETER_VKEY, ENOCH_VKEY, TEST_VKEY):
        assert load_verifier(vkey).text() == vkey
    enoch = new_signer("EnochRoot", seed=bytes(32))
    assert enoch.verifier().text() == ENOCH_VKEY


def test_cosignature_verifier_key_known_answer():
    v = load_verifier(REMORA_VKEY)
    assert v.alg == ALG_COSIGNATURE_V1 and v.is_cosigner
    assert v.key_hash == 0xDA77ADE7
    assert v.text() == REMORA_VKEY


def test_plain_key_as_cosigner_gets_the_type_4_key_hash():
    v = load_verifier(TEST_VKEY)
    c = load_verifier(TEST_VKEY, cosigner=True)
    assert c.alg == ALG_COSIGNATURE_V1 and c.public_key == v.public_key
    assert c.key_hash == key_hash("TEST", bytes([4]) + v.public_key) != v.key_hash
    assert load_verifier(c.text()) == c
    s = parse_signer(PETER_SKEY).as_cosigner()
    assert s.verifier() == load_verifier(PETER_VKEY, cosigner=True)


def test_key_hash_is_sha256_of_name_newline_type_key():
    import hashlib

    pub = load_verifier(PETER_VKEY).public_key
    want = int.from_bytes(hashlib.sha256(b"PeterNeumann\n\x01" + pub).digest()[:4], "big")
    assert key_hash("PeterNeumann", b"\x01" + pub) == want == 0xC74F20A3


@pytest.mark.parametrize("alg", [ALG_ED25519, ALG_COSIGNATURE_V1])
def test_generate_round_trip(alg):
    skey, vkey = generate_signer("example.com/log", alg=alg)
    assert skey.startswith("PRIVATE+KEY+example.com/log+")
    signer, verifier = parse_signer(skey), load_verifier(vkey)
    assert signer.verifier() == verifier
    assert signer.alg == verifier.alg == alg
    msg = b"hello\n"
    sig = signer.sign(msg, 7) if alg == ALG_COSIGNATURE_V1 else signer.sign(msg)
    assert verifier.verify(msg, sig)
    assert not verifier.verify(msg + b"x", sig)
    bad = bytearray(sig)
    bad[-1] ^= 1
    assert not verifier.verify(msg, bytes(bad))


def test_fresh_keys_differ():
    assert generate_signer("a")[0] != generate_signer("a")[0]


@pytest.mark.parametrize(
    "name",
    ["", "has space", "tab\there", "plus+sign", "nl\nx", "nbsp\u00a0x", "em\u2003space", "ctl\x01", "del\x7f"],
)
def test_invalid_key_names(name):
    assert not is_valid_key_name(name)
    with pytest.raises(BadKey):
        generate_signer(name)


@pytest.mark.parametrize("name", ["example.com/log", "PeterNeumann", "oid/1.3.6.1.4.1", "ünïcode.example/x"])
def test_valid_key_names(name):
    assert is_valid_key_name(name)


def test_every_mangled_go_key_is_rejected():
    """As Go's TestNewVerifier/TestNewSigner: every strict substring and every bumped byte fails."""
    for key, load in ((PETER_VKEY, load_verifier), (PETER_SKEY, parse_signer)):
        b = key.encode()
        for i in range(len(b)):
            for j in range(i + 1, len(b) + 1):
                if i == 0 and j == len(b):
                    continue
                text = b[i:j].decode()
                if text.strip() == key:  # whitespace around a whole key is fine
                    continue
                with pytest.raises(InvalidInput):
                    load(text)
        for i in range(len(b)):
            m = bytearray(b)
            m[i] = (m[i] + 1) % 128
            text = m.decode()
            if text.strip() == key:
                continue
            with pytest.raises(InvalidInput):
                load(text)


def test_bad_keys_rejected():
    # From Go's TestNewVerifier: wrong length key, and unknown algorithm (each with an adjusted hash).
    for vkey in (
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong hash
        "PeterNeumann+c74f20a3",
        PETER_SKEY,
    ):
        with pytest.raises(BadKey):
            load_verifier(vkey)
    with pytest.raises(BadKey):
        parse_signer(PETER_VKEY)


def test_signer_repr_hides_the_seed():
    s = parse_signer(PETER_SKEY)
    assert "AYEKF" not in repr(s) and s.seed.hex() not in repr(s)


def test_cosigner_needs_a_timestamp_and_plain_key_refuses_one():
    w = new_signer("w", alg=ALG_COSIGNATURE_V1)
    with pytest.raises(ValueError):
        w.sign(b"x\n")
    with pytest.raises(ValueError):
        w.sign(b"x\n", -1)
    with pytest.raises(ValueError):
        w.sign(b"x\n", 2**63)
    with pytest.raises(ValueError):
        parse_signer(PETER_SKEY).sign(b"x\n", 5)
    with pytest.raises(ValueError):
        parse_signer(PETER_SKEY).at(5)


def test_cosignature_signs_header_time_and_text():
    w = new_signer("w", alg=ALG_COSIGNATURE_V1, seed=bytes(range(32)))
    sig = w.sign(b"origin\n1\nroot\n", 1679315147)
    assert sig[:8] == (1679315147).to_bytes(8, "big")
    plain = keys.Verifier("w", ALG_ED25519, w.public_key)
    assert plain.verify(b"cosignature/v1\ntime 1679315147\norigin\n1\nroot\n", sig[8:])
    assert not plain.verify(b"cosignature/v1\ntime 1679315148\norigin\n1\nroot\n", sig[8:])


# -- key files ---------------------------------------------------------------------------------


def test_write_key_files_modes_and_contents(tmp_path):
    key_path, pub_path = write_key_files(tmp_path, "example.com/log")
    assert key_path == tmp_path / "log.key" and pub_path == tmp_path / "log.pub"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(pub_path.stat().st_mode) == 0o644
    signer = load_signer(key_path)
    assert signer.name == "example.com/log"
    assert load_verifier(pub_path.read_text()) == signer.verifier()
    assert keys.load_verifier_file(pub_path) == signer.verifier()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_key_file_is_0600_even_with_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        key_path, _ = write_key_files(tmp_path, "log")
    finally:
        os.umask(old)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_key_file_is_created_0600_from_the_start(tmp_path, monkeypatch):
    """The secret is never in a file anyone else could read, not even before a chmod."""
    seen = []
    real_open = os.open

    def spy(path, flags, mode=0o777, *a, **kw):
        fd = real_open(path, flags, mode, *a, **kw)
        if str(path).endswith(".tmp") and "log.key" in str(path):
            seen.append((flags, mode, stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    monkeypatch.setattr(os, "open", spy)
    write_key_files(tmp_path, "log")
    assert len(seen) == 1
    flags, mode, actual = seen[0]
    assert flags & os.O_EXCL and flags & os.O_CREAT
    assert mode == 0o600 and actual & 0o077 == 0


def test_key_files_are_never_overwritten(tmp_path):
    key_path, _ = write_key_files(tmp_path, "log")
    before = key_path.read_bytes()
    with pytest.raises(Refused):
        write_key_files(tmp_path, "log")
    assert key_path.read_bytes() == before
    (tmp_path / "log.key").unlink()
    with pytest.raises(Refused):  # log.pub alone is enough to refuse
        write_key_files(tmp_path, "log")
    assert not (tmp_path / "log.key").exists()


def test_load_signer_errors(tmp_path):
    with pytest.raises(InvalidInput, match="no such"):
        load_signer(tmp_path / "missing.key")
    bad = tmp_path / "bad.key"
    bad.write_text(PETER_VKEY)
    with pytest.raises(BadKey, match="bad.key"):
        load_signer(bad)
