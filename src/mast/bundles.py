"""Entry bundles: many log entries in one byte string, as the C2SP tlog-tiles spec frames an
entry bundle — each entry's length as 2 bytes big-endian, then its bytes.

The store keeps the log's entries in chunks of up to 256 framed this way (one SQL row per
chunk: a row per entry cost 2.5–5 µs each through Python's sqlite3, more than hashing the
entry), and `mast log verify` reads them back the same way. Shared by `records` and `ledger`,
which import nothing else of each other for it. Entries stay under 64 KiB, so 2 bytes hold
every length.
"""

from __future__ import annotations

from typing import Sequence

#: The largest entry a bundle can frame.
MAX_ENTRY = 0xFFFF
#: Every 2-byte length prefix, made once: looking one up is cheaper than `int.to_bytes`.
_PREFIXES = [n.to_bytes(2, "big") for n in range(MAX_ENTRY + 1)]


class BrokenBundle(ValueError):
    """A bundle whose framing does not add up: `entries` are the whole entries before the
    break (a length running past the end)."""

    def __init__(self, entries: list[bytes]):
        self.entries = entries
        super().__init__(f"the framing breaks after {len(entries)} entries")


def frame(entries: Sequence[bytes]) -> bytes:
    """The bundle of `entries` (each under 64 KiB): lengths and bytes interleaved, joined in C."""
    parts: list[bytes] = [b""] * (2 * len(entries))
    parts[0::2] = [_PREFIXES[len(entry)] for entry in entries]
    parts[1::2] = entries
    return b"".join(parts)


def split(bundle: bytes) -> list[bytes]:
    """The entries of a bundle, in order; `BrokenBundle` if a length runs past its end."""
    out: list[bytes] = []
    append = out.append
    at, end = 0, len(bundle)
    while at < end:
        if at + 2 > end:
            raise BrokenBundle(out)
        nxt = at + 2 + (bundle[at] << 8 | bundle[at + 1])
        if nxt > end:
            raise BrokenBundle(out)
        append(bundle[at + 2:nxt])
        at = nxt
    return out
