"""Ed25519 keys in the text forms of Go's `golang.org/x/mod/sumdb/note` and C2SP signed-note.

A verifier key (what `mast log key` prints and what outsiders configure) is

    <name>+<key hash, 8 lowercase hex>+<base64(signature type || 32-byte public key)>

and a signer key (the secret in `.mast/log.key`) is

    PRIVATE+KEY+<name>+<key hash>+<base64(signature type || 32-byte Ed25519 seed)>

The key hash (C2SP calls it the key ID) is the first four bytes, big-endian, of
SHA-256(name || "\\n" || signature type || public key). Two signature types are used:

- `0x01` (`ALG_ED25519`): plain Ed25519 over the note text — the log's own key. These keys are
  byte-for-byte what Go's `note.GenerateKey` makes and `note.NewVerifier` accepts.
- `0x04` (`ALG_COSIGNATURE_V1`): a witness's timestamped Ed25519 cosignature, C2SP
  `tlog-cosignature`. The signature is `u64 timestamp (big-endian) || Ed25519 signature` over
  `"cosignature/v1\\n" + "time <timestamp>\\n" + note text`. The verifier key form is the one
  the spec gives (vkey with type 0x04); the signer key form is the same as above with type
  0x04 (no spec defines one; Go's `note.NewSigner` does not accept it).

Names must be valid note key names: non-empty, UTF-8, no Unicode space, no `+`, and (since a
note may hold no control character) no ASCII control character.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mast.errors import InvalidInput, Refused

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
ALGORITHMS = {ALG_ED25519: "Ed25519", ALG_COSIGNATURE_V1: "cosignature/v1 (timestamped Ed25519)"}

#: Largest timestamp a cosignature may carry (tlog-cosignature: "MUST NOT exceed 2^63 - 1").
MAX_TIMESTAMP = 2**63 - 1

#: File names `write_key_files` uses inside the key directory.
SIGNER_FILE = "log.key"
VERIFIER_FILE = "log.pub"

_PRIVATE_PREFIX = "PRIVATE+KEY+"


class BadKey(InvalidInput):
    """A key text or key name that is not well formed (exit 2)."""


def is_valid_key_name(name: str) -> bool:
    """A note key name: non-empty, no Unicode space, no '+', no control character."""
    if not isinstance(name, str) or not name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return not any(c.isspace() or c == "+" or ord(c) < 0x20 or c == "\x7f" for c in name)


def check_key_name(name: str) -> str:
    if not is_valid_key_name(name):
        raise BadKey(
            f"invalid key name {name!r}: a key name must be non-empty and contain no spaces, "
            "no '+' and no control characters"
        )
    return name


def key_hash(name: str, typed_public_key: bytes) -> int:
    """C2SP key ID: first 4 bytes (big-endian) of SHA-256(name || 0x0A || type || public key)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + typed_public_key).digest()
    return int.from_bytes(digest[:4], "big")


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """The message a cosignature/v1 signs: header line, time line, then the note text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def _check_timestamp(timestamp: int) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("a cosignature timestamp is an int (POSIX seconds)")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} outside 0..2^63-1")
    return timestamp


def b64decode_strict(text: str) -> bytes:
    """Standard base64 with padding, and only its canonical spelling."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise ValueError(f"bad base64: {e}") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("base64 not in canonical form")
    return raw


@dataclass(frozen=True)
class Verifier:
    """A public key that can check signatures of one signature type under one name."""

    name: str
    alg: int
    public_key: bytes
    key_hash: int = field(init=False)
    _key: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.alg not in ALGORITHMS:
            raise BadKey(f"unknown signature type 0x{self.alg:02x} for key {self.name!r}")
        if len(self.public_key) != 32:
            raise BadKey(f"an Ed25519 public key is 32 bytes, got {len(self.public_key)}")
        object.__setattr__(self, "key_hash", key_hash(self.name, bytes([self.alg]) + self.public_key))
        object.__setattr__(self, "_key", Ed25519PublicKey.from_public_bytes(self.public_key))

    @property
    def is_cosigner(self) -> bool:
        return self.alg == ALG_COSIGNATURE_V1

    def as_cosigner(self) -> Verifier:
        """The same Ed25519 key as a cosignature/v1 (type 0x04) verifier (a new key hash)."""
        return self if self.is_cosigner else Verifier(self.name, ALG_COSIGNATURE_V1, self.public_key)

    def text(self) -> str:
        """`<name>+<hash>+<base64(type || key)>`: the form `mast log key` prints."""
        b64 = base64.b64encode(bytes([self.alg]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_hash:08x}+{b64}"

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Check `sig` (the signature bytes after the 4-byte key hash) over note text `msg`."""
        if self.alg == ALG_COSIGNATURE_V1:
            if len(sig) != 8 + 64:
                return False
            (timestamp,) = struct.unpack(">Q", sig[:8])
            if timestamp > MAX_TIMESTAMP:
                return False
            msg, sig = cosignature_message(msg, timestamp), sig[8:]
        elif len(sig) != 64:
            return False
        try:
            self._key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes under a name. Keep `text()` secret."""

    name: str
    alg: int
    seed: bytes = field(repr=False)
    key_hash: int = field(init=False)
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.alg not in ALGORITHMS:
            raise BadKey(f"unknown signature type 0x{self.alg:02x} for key {self.name!r}")
        if len(self.seed) != 32:
            raise BadKey(f"an Ed25519 seed is 32 bytes, got {len(self.seed)}")
        key = Ed25519PrivateKey.from_private_bytes(self.seed)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "key_hash", key_hash(self.name, bytes([self.alg]) + self.public_key))

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def is_cosigner(self) -> bool:
        return self.alg == ALG_COSIGNATURE_V1

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.alg, self.public_key)

    def as_cosigner(self) -> Signer:
        """The same Ed25519 key as a cosignature/v1 (type 0x04) signer, as transparency-dev's
        witness does with a plain note key. Use one key for one purpose only."""
        return self if self.is_cosigner else Signer(self.name, ALG_COSIGNATURE_V1, self.seed)

    def text(self) -> str:
        """`PRIVATE+KEY+<name>+<hash>+<base64(type || seed)>` (Go's signer key form)."""
        b64 = base64.b64encode(bytes([self.alg]) + self.seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_hash:08x}+{b64}"

    def sign(self, msg: bytes, timestamp: int | None = None) -> bytes:
        """Signature bytes (without the key hash) over note text `msg`.

        A cosigner (type 0x04) needs `timestamp` and returns `u64 timestamp || signature`.
        """
        if self.alg == ALG_COSIGNATURE_V1:
            if timestamp is None:
                raise ValueError("a cosignature/v1 signature needs a timestamp")
            timestamp = _check_timestamp(timestamp)
            return struct.pack(">Q", timestamp) + self._key.sign(cosignature_message(msg, timestamp))
        if timestamp is not None:
            raise ValueError("a plain Ed25519 note signature takes no timestamp")
        return self._key.sign(msg)

    def at(self, timestamp: int) -> TimestampedSigner:
        """This cosigner bound to a timestamp, usable wherever a note signer is expected."""
        if not self.is_cosigner:
            raise ValueError(f"key {self.name!r} is not a cosignature key")
        return TimestampedSigner(self, _check_timestamp(timestamp))

    def __repr__(self) -> str:  # never show the seed
        return f"Signer(name={self.name!r}, alg=0x{self.alg:02x}, key_hash={self.key_hash:08x})"


@dataclass(frozen=True)
class TimestampedSigner:
    """A cosignature key with the time it signs at; has the note-signer interface."""

    signer: Signer
    timestamp: int

    @property
    def name(self) -> str:
        return self.signer.name

    @property
    def key_hash(self) -> int:
        return self.signer.key_hash

    def sign(self, msg: bytes) -> bytes:
        return self.signer.sign(msg, self.timestamp)


def new_signer(name: str, *, alg: int = ALG_ED25519, seed: bytes | None = None) -> Signer:
    """A fresh (or, with `seed`, a determined) signer."""
    return Signer(check_key_name(name), alg, secrets.token_bytes(32) if seed is None else seed)


def generate_signer(name: str, *, alg: int = ALG_ED25519) -> tuple[str, str]:
    """A new key pair as (signer key text, verifier key text) in Go's note formats."""
    signer = new_signer(name, alg=alg)
    return signer.text(), signer.verifier().text()


def _split_key(text: str, parts: int, what: str) -> list[str]:
    fields = text.split("+", parts - 1)  # the base64 key data may itself contain '+'
    if len(fields) != parts:
        raise BadKey(f"malformed {what}: expected {parts} '+'-separated fields")
    return fields


def _decode_typed_key(name: str, hash_hex: str, b64: str, what: str) -> tuple[int, bytes, int]:
    if len(hash_hex) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hash_hex):
        raise BadKey(f"malformed {what}: the key hash must be 8 hex digits")
    try:
        raw = b64decode_strict(b64)
    except ValueError as e:
        raise BadKey(f"malformed {what}: {e}") from None
    if len(raw) != 33:
        raise BadKey(f"malformed {what}: key data must be a type byte and 32 key bytes")
    check_key_name(name)
    return raw[0], raw[1:], int(hash_hex, 16)


def load_verifier(text: str, *, cosigner: bool = False) -> Verifier:
    """Parse a verifier key `<name>+<hash>+<base64>`; the hash must match the key.

    With `cosigner=True` (a witness's key) a plain Ed25519 key (type 0x01) is taken as the
    cosignature/v1 key it names, as transparency-dev's `NewVerifierForCosignatureV1` does.
    """
    text = text.strip()
    if text.startswith(_PRIVATE_PREFIX):
        raise BadKey("this is a signer (private) key, not a verifier key")
    name, hash_hex, b64 = _split_key(text, 3, "verifier key")
    alg, pub, claimed = _decode_typed_key(name, hash_hex, b64, "verifier key")
    verifier = Verifier(name, alg, pub)
    if verifier.key_hash != claimed:
        raise BadKey(f"verifier key {name}: key hash {hash_hex} does not match the key")
    return verifier.as_cosigner() if cosigner else verifier


def parse_signer(text: str) -> Signer:
    """Parse a signer key `PRIVATE+KEY+<name>+<hash>+<base64>`; the hash must match the key."""
    text = text.strip()
    fields = _split_key(text, 5, "signer key")
    if fields[0] != "PRIVATE" or fields[1] != "KEY":
        raise BadKey("malformed signer key: it must start with PRIVATE+KEY+")
    name, hash_hex, b64 = fields[2:]
    alg, seed, claimed = _decode_typed_key(name, hash_hex, b64, "signer key")
    signer = Signer(name, alg, seed)
    if signer.key_hash != claimed:
        raise BadKey(f"signer key {name}: key hash {hash_hex} does not match the key")
    return signer


def load_signer(path: str | os.PathLike[str]) -> Signer:
    """Read a signer key file (as `write_key_files` writes it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such signer key file") from None
    except UnicodeDecodeError:
        raise BadKey(f"{path}: not a signer key (not UTF-8)") from None
    try:
        return parse_signer(text)
    except BadKey as e:
        raise BadKey(f"{path}: {e}") from None


def load_verifier_file(path: str | os.PathLike[str]) -> Verifier:
    path = Path(path)
    try:
        return load_verifier(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such verifier key file") from None
    except BadKey as e:
        raise BadKey(f"{path}: {e}") from None


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create `path` holding `data`, never replacing a file, never visible half-written.

    The bytes go to a temporary file opened with O_CREAT|O_EXCL and `mode` from the start
    (so a secret is never readable by others, not even for an instant), are fsynced, and
    the file is hard-linked to its name, which fails if the name exists.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, mode)
    try:
        try:
            os.fchmod(fd, mode)  # in case the umask took bits we want (never adds any others)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise Refused(f"{path} exists; refusing to overwrite a key") from None
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def write_key_files(
    directory: str | os.PathLike[str], name: str, *, alg: int = ALG_ED25519
) -> tuple[Path, Path]:
    """Make a key pair for `name`: `log.key` (signer, mode 0600) and `log.pub` (verifier).

    Refuses (exit 3) if either file exists; nothing is overwritten. Returns both paths.
    """
    directory = Path(directory)
    signer = new_signer(name, alg=alg)
    key_path, pub_path = directory / SIGNER_FILE, directory / VERIFIER_FILE
    for p in (key_path, pub_path):
        if p.exists():
            raise Refused(f"{p} exists; refusing to overwrite a key")
    _write_new_file(key_path, (signer.text() + "\n").encode("utf-8"), 0o600)
    _write_new_file(pub_path, (signer.verifier().text() + "\n").encode("utf-8"), 0o644)
    _fsync_dir(directory)
    return key_path, pub_path
