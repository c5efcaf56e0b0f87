"""C2SP signed notes (c2sp.org/signed-note), compatible with Go's `golang.org/x/mod/sumdb/note`.

A signed note is a text ending in a newline, a blank line, and one or more signature lines

    — <key name> <base64(4-byte big-endian key hash || signature)>

(em dash U+2014, space, name, space, signature). The signatures cover the text including its
final newline but not the blank line; the text is separated from the signatures by the *last*
blank line. The whole note is UTF-8 with no ASCII control character other than newline.

Opening a note follows the spec and Go's `note.Open`:

- a signature line whose (name, key hash) matches no known verifier is kept but ignored;
- a signature by a known key must verify, or the whole note is rejected;
- at least one known key must have verified, or the note is rejected.

mast is stricter than Go in three places, none of which a well-formed note trips: base64 must
be canonical, a known key may sign only once (Go silently skips the repeats unverified), and a
note holds at most `MAX_SIGNATURES` signature lines (Go's own cap).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mast.errors import IntegrityFailure, InvalidInput, MastError
from mast.ledger.keys import Verifier, b64decode_strict, is_valid_key_name

SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
MAX_NOTE_BYTES = 1 << 20


class NoteError(MastError):
    """Base of the errors below."""


class MalformedNote(NoteError, InvalidInput):
    """The note is not a well-formed signed note (exit 2)."""

    def __init__(self, message: str):
        super().__init__(f"malformed note: {message}")


class InvalidSignature(NoteError, IntegrityFailure):
    """A signature by a known key does not verify (exit 4)."""


class UnverifiedNote(NoteError, IntegrityFailure):
    """No signature by a known (or by a required) key (exit 4)."""


class NoteSigner(Protocol):
    """What signs a note: `keys.Signer` (type 0x01) or `keys.TimestampedSigner` (cosigner)."""

    @property
    def name(self) -> str: ...

    @property
    def key_hash(self) -> int: ...

    def sign(self, msg: bytes) -> bytes: ...


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and hash and the base64 text after the name."""

    name: str
    key_hash: int
    base64: str

    @property
    def signature(self) -> bytes:
        """The signature bytes proper (after the 4-byte key hash)."""
        return base64.b64decode(self.base64)[4:]

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {self.base64}\n"

    @classmethod
    def make(cls, name: str, key_hash: int, signature: bytes) -> Signature:
        b64 = base64.b64encode(key_hash.to_bytes(4, "big") + signature).decode("ascii")
        return cls(name, key_hash, b64)


@dataclass(frozen=True)
class Note:
    """An opened note: its text, every signature line (in order), the keys that verified."""

    text: str
    signatures: tuple[Signature, ...]
    verified_by: tuple[Verifier, ...]

    @property
    def verified(self) -> tuple[Signature, ...]:
        keys = {(v.name, v.key_hash) for v in self.verified_by}
        return tuple(s for s in self.signatures if (s.name, s.key_hash) in keys)

    @property
    def unverified(self) -> tuple[Signature, ...]:
        keys = {(v.name, v.key_hash) for v in self.verified_by}
        return tuple(s for s in self.signatures if (s.name, s.key_hash) not in keys)

    def signed_by(self, verifier: Verifier) -> bool:
        return any(v.name == verifier.name and v.key_hash == verifier.key_hash for v in self.verified_by)

    def signature_by(self, verifier: Verifier) -> Signature | None:
        for s in self.verified:
            if s.name == verifier.name and s.key_hash == verifier.key_hash:
                return s
        return None


def _check_chars(data: str) -> None:
    for i, c in enumerate(data):
        o = ord(c)
        if o < 0x20 and c != "\n":
            raise MalformedNote(f"control character U+{o:04X} at offset {i}")
        if 0xD800 <= o <= 0xDFFF:
            raise MalformedNote(f"not valid UTF-8 (lone surrogate at offset {i})")


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        if len(note) > MAX_NOTE_BYTES:
            raise MalformedNote(f"longer than {MAX_NOTE_BYTES} bytes")
        try:
            return note.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedNote(f"not valid UTF-8 (byte {e.start})") from None
    if not isinstance(note, str):
        raise TypeError("a note is str or bytes")
    if len(note) > MAX_NOTE_BYTES:  # chars <= bytes; the exact check is below
        raise MalformedNote(f"longer than {MAX_NOTE_BYTES} bytes")
    return note


def check_text(text: str) -> str:
    """A text that can be signed: non-empty, ends in newline, no control characters."""
    if not isinstance(text, str):
        raise TypeError("note text is str")
    if not text.endswith("\n"):
        raise MalformedNote("the text must end with a newline")
    _check_chars(text)
    return text


def parse_signature_line(line: str) -> Signature:
    """One signature line, without its newline."""
    if not line.startswith(SIG_PREFIX):
        raise MalformedNote(f"signature line does not start with an em dash and a space: {line[:80]!r}")
    name, sep, b64 = line[len(SIG_PREFIX):].partition(" ")
    if not sep or not is_valid_key_name(name):
        raise MalformedNote(f"bad key name in signature line: {line[:80]!r}")
    try:
        raw = b64decode_strict(b64)
    except ValueError as e:
        raise MalformedNote(f"signature by {name}: {e}") from None
    if len(raw) < 5:
        raise MalformedNote(f"signature by {name} is too short")
    return Signature(name, int.from_bytes(raw[:4], "big"), b64)


def parse_note(note: str | bytes) -> tuple[str, tuple[Signature, ...]]:
    """Split a signed note into its text and signature lines (all of them, in order);
    checks syntax only."""
    data = _as_text(note)
    _check_chars(data)
    if len(data.encode("utf-8")) > MAX_NOTE_BYTES:
        raise MalformedNote(f"longer than {MAX_NOTE_BYTES} bytes")
    split = data.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line before the signatures")
    text, block = data[: split + 1], data[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNote("the signature block must be non-empty and end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    return text, tuple(parse_signature_line(line) for line in lines)


def _unique(sigs: Iterable[Signature]) -> list[Signature]:
    """Identical repeated lines kept once (as Go does)."""
    out: list[Signature] = []
    for s in sigs:
        if s not in out:
            out.append(s)
    return out


def _verifier_map(verifiers: Iterable[Verifier]) -> dict[tuple[str, int], Verifier]:
    known: dict[tuple[str, int], Verifier] = {}
    for v in verifiers:
        k = (v.name, v.key_hash)
        if k in known and known[k] != v:
            raise InvalidInput(f"ambiguous keys: two different keys named {v.name}+{v.key_hash:08x}")
        known[k] = v
    return known


def open_note(note: str | bytes, verifiers: Iterable[Verifier] | Verifier) -> Note:
    """Parse `note` and check its signatures against the known `verifiers`.

    Raises `MalformedNote` (bad syntax, or two signatures by one known key),
    `InvalidSignature` (a known key's signature fails) or `UnverifiedNote` (no known key signed).
    """
    if isinstance(verifiers, Verifier):
        verifiers = (verifiers,)
    known = _verifier_map(verifiers)
    text, sigs = parse_note(note)
    msg = text.encode("utf-8")
    verified: list[Verifier] = []
    kept: list[Signature] = []
    for sig in sigs:
        v = known.get((sig.name, sig.key_hash))
        if v is None:  # unknown key: ignored, as the spec requires
            if sig not in kept:
                kept.append(sig)
            continue
        kept.append(sig)
        if v in verified:
            raise MalformedNote(f"two signatures by key {sig.name}+{sig.key_hash:08x}")
        if not v.verify(msg, sig.signature):
            raise InvalidSignature(f"invalid signature by key {sig.name}+{sig.key_hash:08x}")
        verified.append(v)
    if not verified:
        names = ", ".join(f"{s.name}+{s.key_hash:08x}" for s in sigs)
        raise UnverifiedNote(f"note has no signature by a known key (signed by: {names})")
    return Note(text, tuple(kept), tuple(verified))


def sign_note(
    text: str,
    signers: NoteSigner | Sequence[NoteSigner],
    existing: Iterable[Signature] = (),
) -> str:
    """The signed note: `text`, a blank line, the `existing` signature lines, then one line per
    signer. An existing line by the same (name, key hash) as a signer is replaced (as Go's
    `note.Sign` does)."""
    check_text(text)
    if not isinstance(signers, Sequence):
        signers = (signers,)
    if not signers and not existing:
        raise ValueError("a signed note needs at least one signature")
    msg = text.encode("utf-8")
    new: list[Signature] = []
    ids: set[tuple[str, int]] = set()
    for s in signers:
        if not is_valid_key_name(s.name):
            raise ValueError(f"invalid signer name {s.name!r}")
        if (s.name, s.key_hash) in ids:
            raise ValueError(f"key {s.name}+{s.key_hash:08x} given twice")
        ids.add((s.name, s.key_hash))
        new.append(Signature.make(s.name, s.key_hash, s.sign(msg)))
    kept = [e for e in existing if (e.name, e.key_hash) not in ids]
    lines = [text, "\n"]
    for sig in [*kept, *new]:
        lines.append(parse_signature_line(sig.line()[:-1]).line())  # re-checks existing lines
    out = "".join(lines)
    if len(kept) + len(new) > MAX_SIGNATURES or len(out.encode("utf-8")) > MAX_NOTE_BYTES:
        raise MalformedNote("too many signatures")
    return out


def add_signatures(note: str | bytes, signers: NoteSigner | Sequence[NoteSigner]) -> str:
    """Add (or replace) signatures on a signed note, keeping its other lines as they are.

    This does not verify the note's existing signatures: open it first if that matters.
    """
    text, sigs = parse_note(note)
    return sign_note(text, signers, existing=_unique(sigs))
