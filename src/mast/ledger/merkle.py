"""The Merkle tree of the log, as RFC 6962 / RFC 9162 define it (SHA-256).

    leaf hash   = SHA-256(0x00 || entry)
    node hash   = SHA-256(0x01 || left || right)
    empty root  = SHA-256("")

Everything here is pure: no storage, no I/O. Proofs are generated over a `NodeSource`, anything
that can return the hash of a *complete* subtree — the 2^level leaves
[index·2^level, (index+1)·2^level). The hash of an incomplete subtree on the right edge of the
tree is folded from the O(log n) complete subtrees it decomposes into, so that a proof at any
size costs O(log n) node reads (`mast.ledger.tree.SqlNodeSource` reads them from SQL).

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 (in the formulation of the
transparency-dev reference implementation); it raises `ProofError` naming what is wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence

from mast.errors import IntegrityFailure

HASH_SIZE = 32

_sha256 = hashlib.sha256

#: The root of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = _sha256(b"").digest()


class ProofError(IntegrityFailure):
    """A proof that does not verify (exit 4). `reason` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


# -- hashing ---------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """Leaf hashes of many entries (one list comprehension: the fastest way in CPython)."""
    sha = _sha256
    return [sha(b"\x00" + data).digest() for data in leaves]


def reduce_level(hashes: Sequence[bytes]) -> list[bytes]:
    """The next level up of an even-length run of sibling hashes: [H(0,1), H(2,3), ...]."""
    sha = _sha256
    it = iter(hashes)
    return [sha(b"\x01" + left + right).digest() for left, right in zip(it, it)]


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The tree head (MTH) of the leaves whose hashes these are.

    Level by level: pair siblings left to right and carry an unpaired last node up unchanged,
    which is the RFC 6962 tree (split at the largest power of two below n) computed bottom-up.
    """
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        carry = [level[-1]] if len(level) % 2 else []
        level = reduce_level(level[: len(level) - len(carry)]) + carry
    return level[0]


def fold_right(nodes: Sequence[bytes]) -> bytes:
    """The hash of consecutive subtrees of decreasing size, left to right (a tree's frontier):
    the rightmost two are joined first, as RFC 6962 builds the right edge."""
    if not nodes:
        return EMPTY_ROOT
    result = nodes[-1]
    for i in range(len(nodes) - 2, -1, -1):
        result = _sha256(b"\x01" + nodes[i] + result).digest()
    return result


# -- node sources ----------------------------------------------------------------------------


class NodeSource(Protocol):
    """Anything that knows the hashes of complete subtrees of one tree."""

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree over leaves [index·2^level, (index+1)·2^level)."""
        ...


class MemoryTree:
    """A tree held in memory, every complete subtree's hash kept: a `NodeSource` for tests,
    tools and small logs. `levels[l][i]` is `node(l, i)`."""

    def __init__(self, hashes: Iterable[bytes] = ()):
        self.levels: list[list[bytes]] = [[]]
        for h in hashes:
            self.append(h)

    @classmethod
    def of_leaves(cls, leaves: Iterable[bytes]) -> "MemoryTree":
        return cls(leaf_hashes(leaves))

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, h: bytes) -> None:
        levels = self.levels
        levels[0].append(h)
        level = 0
        while len(levels[level]) % 2 == 0:
            row = levels[level]
            parent = node_hash(row[-2], row[-1])
            level += 1
            if level == len(levels):
                levels.append([])
            levels[level].append(parent)
            h = parent

    def node(self, level: int, index: int) -> bytes:
        try:
            if level < 0 or index < 0:
                raise IndexError
            return self.levels[level][index]
        except IndexError:
            raise KeyError(f"no complete subtree at level {level}, index {index}") from None

    def root(self, size: int | None = None) -> bytes:
        return subtree_hash(self, 0, self.size if size is None else size)


@dataclass
class CompactRange:
    """The frontier of a tree: the hashes of its O(log n) maximal complete subtrees, left to
    right. Appending a leaf and taking the root are O(log n), whatever the size.

    `nodes[i]` covers 2^levels[i] leaves; levels strictly decrease (the set bits of `size`).
    """

    size: int = 0
    nodes: list[bytes] = field(default_factory=list)

    @classmethod
    def from_source(cls, source: NodeSource, size: int) -> "CompactRange":
        """The frontier at `size` of a tree known to `source` (O(log n) reads)."""
        return cls(size, [source.node(level, index) for level, index in frontier_nodes(size)])

    @property
    def levels(self) -> list[int]:
        return [b for b in range(self.size.bit_length() - 1, -1, -1) if self.size >> b & 1]

    def append(self, h: bytes) -> None:
        """Append a leaf by its leaf hash."""
        nodes = self.nodes
        s = self.size
        while s & 1:
            h = _sha256(b"\x01" + nodes.pop() + h).digest()
            s >>= 1
        nodes.append(h)
        self.size += 1

    def extend(self, hashes: Iterable[bytes]) -> None:
        append = self.append
        for h in hashes:
            append(h)

    def root(self) -> bytes:
        return fold_right(self.nodes)

    def copy(self) -> "CompactRange":
        return CompactRange(self.size, list(self.nodes))


def frontier_nodes(size: int) -> list[tuple[int, int]]:
    """(level, index) of the maximal complete subtrees of a tree of `size` leaves, left to right."""
    out = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """(level, index) of the complete subtrees that [start, end) decomposes into, left to right,
    each as large as its alignment allows. For a range that is a subtree in the RFC 6962 sense
    (as every range a proof names is), their sizes decrease and `fold_right` gives its hash."""
    out = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        out.append((level, start >> level))
        start += 1 << level
    return out


def subtree_hash(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) from complete-subtree hashes: one read when the range is a complete
    subtree, O(log n) on the right edge. The empty range gives the empty root."""
    return fold_right([source.node(level, index) for level, index in range_nodes(start, end)])


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 6962 splits n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


# -- proofs ----------------------------------------------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [start, end) whose subtree hashes form the audit path of leaf `index`
    in the tree of `size` leaves (RFC 9162 §2.1.3.1), leaf-side first.
    Raises ValueError unless 0 <= index < size."""
    if not 0 <= index < size:
        raise ValueError(f"no leaf {index} in a tree of {size} leaves")
    path: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form the consistency proof from `old_size` to
    `new_size` (RFC 9162 §2.1.4.1): none when the sizes are equal. Raises ValueError unless
    0 < old_size <= new_size (nothing can be proved about the empty tree)."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}: "
                         "need 0 < old size <= new size")
    path: list[tuple[int, int]] = []
    start, end, m, whole = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                path.append((start, end))
            break
        k = _split(n)
        if m <= k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
            m -= k
            whole = False
    path.reverse()
    return path


def hashes_of_ranges(source: NodeSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The subtree hash of each range. The complete subtrees they need are named to the source
    first (`source.prefetch(keys)`, if it has that method), so that a store can read them in
    one query rather than one each."""
    parts = [range_nodes(start, end) for start, end in ranges]
    prefetch = getattr(source, "prefetch", None)
    if prefetch is not None:
        prefetch([key for part in parts for key in part])
    node = source.node
    return [fold_right([node(level, index) for level, index in part]) for part in parts]


def inclusion_proof(source: NodeSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1),
    leaf-side first: O(log n) node reads. Raises ValueError unless 0 <= index < size."""
    return hashes_of_ranges(source, inclusion_ranges(index, size))


def consistency_proof(source: NodeSource, old_size: int, new_size: int) -> list[bytes]:
    """The proof that the tree of `old_size` leaves is a prefix of the tree of `new_size`
    (RFC 9162 §2.1.4.1): O(log n) node reads; empty when the sizes are equal. Raises
    ValueError unless 0 < old_size <= new_size."""
    return hashes_of_ranges(source, consistency_ranges(old_size, new_size))


def root_at(source: NodeSource, size: int) -> bytes:
    """The tree head at `size` leaves, from the O(log n) subtrees of its frontier."""
    return hashes_of_ranges(source, [(0, size)])[0]


# -- verification ----------------------------------------------------------------------------


def _check_hashes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
            raise ProofError(f"proof[{i}] is not a {HASH_SIZE}-byte hash")


def _decompose(index: int, size: int) -> tuple[int, int]:
    """How many proof hashes are inner (below where the paths to `index` and to the last leaf
    meet) and how many lie on the right border above."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner, border


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that an inclusion proof of the leaf hash `leaf` at `index` implies."""
    if index < 0 or size < 0:
        raise ProofError("index and size must not be negative")
    if index >= size:
        raise ProofError(f"index {index} is beyond the tree size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"the leaf hash has {len(leaf)} bytes, not {HASH_SIZE}")
    inner, border = _decompose(index, size)
    if len(proof) != inner + border:
        raise ProofError(f"the proof has {len(proof)} hashes; leaf {index} of {size} needs {inner + border}")
    _check_hashes(proof)
    h = leaf
    for i in range(inner):
        if index >> i & 1:
            h = node_hash(proof[i], h)
        else:
            h = node_hash(h, proof[i])
    for i in range(inner, inner + border):
        h = node_hash(proof[i], h)
    return h


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that the leaf hash `leaf` is entry `index` of the tree of `size` with `root`
    (RFC 9162 §2.1.3.2). Returns None, or raises ProofError."""
    computed = root_from_inclusion_proof(index, size, leaf, proof)
    if computed != root:
        raise ProofError(f"the inclusion proof of leaf {index} leads to root {computed.hex()}, "
                         f"not {bytes(root).hex()}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Check that the tree of `old_size` with `old_root` is a prefix of the tree of
    `new_size` with `new_root` (RFC 9162 §2.1.4.2). Returns None, or raises ProofError.

    Equal sizes need an empty proof and equal roots. The empty tree is a prefix of every tree
    but nothing proves it, so an old size of 0 is refused rather than accepted vacuously.
    """
    if old_size < 0 or new_size < 0:
        raise ProofError("sizes must not be negative")
    if new_size < old_size:
        raise ProofError(f"the new size {new_size} is smaller than the old size {old_size}")
    if old_size == 0:
        raise ProofError("no consistency proof can be checked against the empty tree (old size 0)")
    if old_size == new_size:
        if len(proof):
            raise ProofError(f"the sizes are equal ({old_size}) but the proof is not empty")
        if old_root != new_root:
            raise ProofError(f"the sizes are equal ({old_size}) but the roots differ")
        return
    if not len(proof):
        raise ProofError(f"an empty proof cannot show that size {old_size} is a prefix of size {new_size}")
    _check_hashes(proof)
    if len(old_root) != HASH_SIZE or len(new_root) != HASH_SIZE:
        raise ProofError(f"a root is not a {HASH_SIZE}-byte hash")

    inner, border = _decompose(old_size - 1, new_size)
    shift = (old_size & -old_size).bit_length() - 1  # trailing zeros of old_size
    inner -= shift
    # The old tree's rightmost complete subtree (of 2^shift leaves) starts the chain; it is the
    # first proof hash, unless the old tree is that subtree, in which case it is old_root.
    if old_size == 1 << shift:
        seed, rest = old_root, list(proof)
    else:
        seed, rest = proof[0], list(proof[1:])
    if len(rest) != inner + border:
        want = inner + border + (0 if old_size == 1 << shift else 1)
        raise ProofError(f"the proof has {len(proof)} hashes; from size {old_size} to {new_size} needs {want}")

    mask = (old_size - 1) >> shift
    h1 = h2 = seed
    for i in range(inner):
        if mask >> i & 1:
            h1 = node_hash(rest[i], h1)
            h2 = node_hash(rest[i], h2)
        else:
            h2 = node_hash(h2, rest[i])
    for i in range(inner, inner + border):
        h1 = node_hash(rest[i], h1)
        h2 = node_hash(rest[i], h2)
    if h1 != old_root:
        raise ProofError(f"the consistency proof leads to old root {h1.hex()}, not {bytes(old_root).hex()}")
    if h2 != new_root:
        raise ProofError(f"the consistency proof leads to new root {h2.hex()}, not {bytes(new_root).hex()}")
