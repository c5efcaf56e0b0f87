"""C2SP checkpoints (c2sp.org/tlog-checkpoint) and witness cosignatures (c2sp.org/tlog-cosignature).

A checkpoint is a signed note whose text is

    <origin>
    <tree size, decimal, no leading zeroes>
    <base64 of the 32-byte RFC 6962 root hash>
    [<extension line>...]

each line ending in a newline. The log signs it with its Ed25519 note key (type 0x01); a witness
adds a cosignature/v1 line (type 0x04): `u64 timestamp || Ed25519` over
`"cosignature/v1\\ntime <t>\\n" + checkpoint text`, meaning "as of time t, this is the largest
tree of this log I have seen, and it is consistent with every earlier one I saw".

A witness must check a consistency proof from the last checkpoint it cosigned before it cosigns
a new one: `Witness.check` does that, given a `verify_consistency` function (the Merkle code's);
where the witness keeps its last checkpoint is up to the caller (`mast log cosign`).
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from mast.errors import IntegrityFailure, InvalidInput, Refused
from mast.ledger.keys import ALG_COSIGNATURE_V1, Signer, Verifier, b64decode_strict
from mast.ledger.note import (
    MalformedNote,
    Note,
    Signature,
    UnverifiedNote,
    add_signatures,
    check_text,
    open_note,
    parse_note,
    sign_note,
)

HASH_SIZE = 32


class MalformedCheckpoint(InvalidInput):
    """A checkpoint body that does not follow tlog-checkpoint (exit 2)."""

    def __init__(self, message: str):
        super().__init__(f"malformed checkpoint: {message}")


def _check_line(what: str, line: str) -> None:
    if not line:
        raise MalformedCheckpoint(f"empty {what}")
    for c in line:
        if ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF:
            raise MalformedCheckpoint(f"{what} contains control character U+{ord(c):04X}")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str):
            raise TypeError("origin is str")
        _check_line("origin", self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise MalformedCheckpoint(f"tree size must be a non-negative int, got {self.size!r}")
        if not isinstance(self.root, (bytes, bytearray)) or len(self.root) != HASH_SIZE:
            raise MalformedCheckpoint("root hash must be 32 bytes")
        object.__setattr__(self, "root", bytes(self.root))
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for ext in self.extensions:
            if not isinstance(ext, str):
                raise TypeError("extension lines are str")
            _check_line("extension line", ext)

    def body(self) -> str:
        """The note text, exactly as C2SP specifies it (ends in a newline)."""
        root = base64.b64encode(self.root).decode("ascii")
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions))

    @property
    def root_hex(self) -> str:
        return self.root.hex()

    @classmethod
    def parse(cls, text: str | bytes) -> Checkpoint:
        """Parse a checkpoint body (a note's text, not the signed note)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedCheckpoint("not valid UTF-8") from None
        if not text.endswith("\n"):
            raise MalformedCheckpoint("the body must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedCheckpoint("needs at least three lines: origin, size, root hash")
        origin, size_text, root_text, *extensions = lines
        _check_line("origin", origin)
        if not size_text.isascii() or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
            raise MalformedCheckpoint(f"tree size {size_text!r} is not a decimal without leading zeroes")
        try:
            root = b64decode_strict(root_text)
        except ValueError as e:
            raise MalformedCheckpoint(f"root hash: {e}") from None
        if len(root) != HASH_SIZE:
            raise MalformedCheckpoint(f"root hash is {len(root)} bytes, not {HASH_SIZE}")
        return cls(origin, int(size_text), root, tuple(extensions))


parse_checkpoint = Checkpoint.parse


@dataclass(frozen=True)
class Cosignature:
    """A verified witness signature on a checkpoint (timestamp is None for a type-0x01 key)."""

    witness: Verifier
    timestamp: int | None

    @property
    def name(self) -> str:
        return self.witness.name


def cosignature_timestamp(sig: Signature) -> int:
    """The POSIX time a cosignature/v1 line claims (unverified: open the note first)."""
    raw = sig.signature
    if len(raw) != 8 + 64:
        raise MalformedNote(f"signature by {sig.name} is not a cosignature/v1 (wrong length)")
    return int(struct.unpack(">Q", raw[:8])[0])


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a signed note, signed by the log's key."""
    if signer.is_cosigner:
        raise ValueError("a log signs its checkpoints with a plain Ed25519 note key (type 0x01)")
    return sign_note(check_text(cp.body()), signer)


def open_checkpoint(
    note_text: str | bytes,
    log_verifier: Verifier,
    witness_verifiers: Iterable[Verifier] = (),
) -> tuple[Checkpoint, tuple[Cosignature, ...]]:
    """Verify a signed checkpoint: the log's signature is required; the witnesses' optional.

    Returns the checkpoint and the cosignatures that verified, in note order. Signatures by
    keys not given are ignored; a bad signature by any given key rejects the whole note.
    """
    witnesses = tuple(witness_verifiers)
    for w in witnesses:
        if (w.name, w.key_hash) == (log_verifier.name, log_verifier.key_hash):
            raise InvalidInput(f"witness key {w.name}+{w.key_hash:08x} is the log's key")
    note = open_note(note_text, (log_verifier, *witnesses))
    if not note.signed_by(log_verifier):
        raise UnverifiedNote(
            f"checkpoint not signed by the log key {log_verifier.name}+{log_verifier.key_hash:08x}"
        )
    cp = Checkpoint.parse(note.text)
    return cp, _cosignatures(note, witnesses)


def _cosignatures(note: Note, witnesses: Sequence[Verifier]) -> tuple[Cosignature, ...]:
    out: list[Cosignature] = []
    for sig in note.verified:
        for w in witnesses:
            if (w.name, w.key_hash) == (sig.name, sig.key_hash):
                ts = cosignature_timestamp(sig) if w.alg == ALG_COSIGNATURE_V1 else None
                out.append(Cosignature(w, ts))
    return tuple(out)


def cosign(checkpoint_note: str | bytes, witness_signer: Signer, timestamp: int) -> str:
    """Add `witness_signer`'s cosignature/v1 line to a signed checkpoint (replacing an earlier
    one by the same key); the other lines are kept as they are.

    This is the bare primitive: it checks that the text is a checkpoint but not the log's
    signature nor consistency; `Witness.cosign` does both.
    """
    if not witness_signer.is_cosigner:
        raise ValueError("a cosignature key has signature type 0x04 (cosignature/v1)")
    return add_signatures(_checked(checkpoint_note), witness_signer.at(timestamp))


def _checked(checkpoint_note: str | bytes) -> str | bytes:
    text, _ = parse_note(checkpoint_note)
    Checkpoint.parse(text)
    return checkpoint_note


#: verify_consistency(old_size, new_size, old_root, new_root, proof) -> bool (or raises).
ConsistencyCheck = Callable[[int, int, bytes, bytes, Sequence[bytes]], object]


class Witness:
    """A witness's decision to cosign: only a checkpoint that the log signed, of the same log,
    no smaller than the last one this witness cosigned, and proven consistent with it."""

    def __init__(self, signer: Signer, log_verifier: Verifier, verify_consistency: ConsistencyCheck):
        if not signer.is_cosigner:
            raise ValueError("a witness signs with a cosignature/v1 key (type 0x04)")
        self.signer = signer
        self.log_verifier = log_verifier
        self.verify_consistency = verify_consistency

    def check(
        self, last: Checkpoint | None, new_note: str | bytes, proof: Sequence[bytes]
    ) -> Checkpoint:
        """The new checkpoint if this witness may cosign it; otherwise raises.

        `last` is the checkpoint this witness last cosigned for the log (None: never), `proof`
        the consistency proof from `last.size` to the new size (list of 32-byte hashes).
        Raises `Refused` (another log), `IntegrityFailure` (not signed by the log, smaller
        than before, a different root at the same size, or a proof that fails).
        """
        new, _ = open_checkpoint(new_note, self.log_verifier)
        if last is None:
            return new
        if new.origin != last.origin:
            raise Refused(f"checkpoint is for log {new.origin!r}, this witness follows {last.origin!r}")
        if new.size < last.size:
            raise IntegrityFailure(
                f"log {new.origin} rolled back: size {new.size} < {last.size} already cosigned"
            )
        proof = list(proof)
        if new.size == last.size:
            if new.root != last.root or proof:
                raise IntegrityFailure(
                    f"log {new.origin} forked: two different roots at size {new.size}"
                    if new.root != last.root
                    else "a consistency proof between equal trees must be empty"
                )
            return new
        if last.size == 0:  # everything extends the empty tree
            if proof:
                raise IntegrityFailure("a consistency proof from the empty tree must be empty")
            return new
        try:
            ok = self.verify_consistency(last.size, new.size, last.root, new.root, proof)
        except (ValueError, IntegrityFailure, InvalidInput) as e:
            raise IntegrityFailure(
                f"log {new.origin}: consistency proof {last.size} -> {new.size} fails: {e}"
            ) from None
        if ok is False:
            raise IntegrityFailure(f"log {new.origin}: consistency proof {last.size} -> {new.size} fails")
        return new

    def cosign(
        self,
        last: Checkpoint | None,
        new_note: str | bytes,
        proof: Sequence[bytes],
        timestamp: int,
    ) -> tuple[Checkpoint, str]:
        """Check, then cosign: (the new checkpoint, to remember as `last`; the cosigned note)."""
        new = self.check(last, new_note, proof)
        return new, cosign(new_note, self.signer, timestamp)


__all__ = [
    "Checkpoint",
    "Cosignature",
    "MalformedCheckpoint",
    "MalformedNote",
    "Witness",
    "cosign",
    "cosignature_timestamp",
    "open_checkpoint",
    "parse_checkpoint",
    "sign_checkpoint",
]
