"""The Merkle tree against RFC 9162's own recursive definitions, and proofs that verify — and
stop verifying when anything about them is changed."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mast.errors import IntegrityFailure
from mast.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    ProofError,
    consistency_proof,
    frontier_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# -- RFC 9162 §2.1, literally ----------------------------------------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = _k(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def leaves(n: int) -> list[bytes]:
    return [b"entry %d" % i for i in range(n)]


def tree_of(n: int) -> MemoryTree:
    return MemoryTree.of_leaves(leaves(n))


# -- hashing ---------------------------------------------------------------------------------


def test_hashes_are_rfc6962():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    # The well-known root of the RFC 6962 test tree of 8 leaves (certificate-transparency).
    rfc_leaves = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                             "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
    assert root_from_leaf_hashes([leaf_hash(x) for x in rfc_leaves]).hex() == \
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_proof_errors_are_integrity_failures():
    assert issubclass(ProofError, IntegrityFailure)
    assert ProofError("why").reason == "why"


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 255, 256, 257, 1000])
def test_roots_agree_with_the_recursive_definition(n):
    d = leaves(n)
    want = mth(d)
    hashes = [leaf_hash(x) for x in d]
    assert root_from_leaf_hashes(hashes) == want
    assert tree_of(n).root() == want
    cr = CompactRange()
    cr.extend(hashes)
    assert cr.size == n and cr.root() == want
    assert len(cr.nodes) == bin(n).count("1")


def test_compact_range_from_a_node_source_continues_the_tree():
    t = tree_of(300)
    cr = CompactRange.from_source(t, 123)
    assert cr.root() == t.root(123)
    cr.extend(t.levels[0][123:])
    assert cr.root() == t.root()
    copy = cr.copy()
    copy.append(leaf_hash(b"x"))
    assert cr.size == 300 and copy.size == 301


def test_frontier_nodes_cover_the_tree_left_to_right():
    assert frontier_nodes(0) == []
    assert frontier_nodes(13) == [(3, 0), (2, 2), (0, 12)]


# -- proofs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 100])
def test_proofs_agree_with_the_recursive_definition(n):
    d, t = leaves(n), tree_of(n)
    for m in range(n):
        assert inclusion_proof(t, m, n) == path(m, d)
    for m in range(1, n + 1):
        assert consistency_proof(t, m, n) == ([] if m == n else subproof(m, d, True))


def test_proofs_of_a_smaller_tree_use_its_own_nodes():
    t = tree_of(100)
    assert inclusion_proof(t, 3, 10) == path(3, leaves(10))
    assert consistency_proof(t, 7, 10) == subproof(7, leaves(10), True)
    assert root_at(t, 10) == mth(leaves(10))


@pytest.mark.parametrize("index,size", [(0, 0), (5, 5), (-1, 3)])
def test_no_inclusion_proof_outside_the_tree(index, size):
    with pytest.raises(ValueError):
        inclusion_proof(tree_of(5), index, size)


@pytest.mark.parametrize("old,new", [(0, 5), (6, 5), (-1, 2)])
def test_no_consistency_proof_for_impossible_sizes(old, new):
    with pytest.raises(ValueError):
        consistency_proof(tree_of(5), old, new)


def test_a_proof_reads_only_log_n_nodes():
    class Counting:
        def __init__(self, t):
            self.t, self.reads = t, 0

        def node(self, level, index):
            self.reads += 1
            return self.t.node(level, index)

    t = tree_of(5000)
    for index in (0, 2500, 4095, 4096, 4999):
        src = Counting(t)
        inclusion_proof(src, index, 5000)
        assert src.reads <= 2 * 13
    src = Counting(t)
    consistency_proof(src, 1234, 5000)
    assert src.reads <= 2 * 13


def test_verification_errors_say_why():
    t = tree_of(10)
    proof = inclusion_proof(t, 3, 10)
    with pytest.raises(ProofError, match="beyond the tree size"):
        verify_inclusion(10, 10, t.node(0, 3), proof, t.root())
    with pytest.raises(ProofError, match="needs"):
        verify_inclusion(3, 10, t.node(0, 3), proof[:-1], t.root())
    with pytest.raises(ProofError, match="leads to root"):
        verify_inclusion(3, 10, t.node(0, 4), proof, t.root())
    with pytest.raises(ProofError, match="32-byte"):
        verify_inclusion(3, 10, t.node(0, 3), [proof[0][:31]] + proof[1:], t.root())
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 10, EMPTY_ROOT, t.root(), [])
    with pytest.raises(ProofError, match="smaller"):
        verify_consistency(10, 9, t.root(), t.root(9), [])
    with pytest.raises(ProofError, match="empty proof"):
        verify_consistency(3, 10, t.root(3), t.root(), [])
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(3, 3, t.root(3), t.root(4), [])


# -- properties ------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=2000)


@st.composite
def tree_and_index(draw):
    n = draw(sizes)
    return n, draw(st.integers(min_value=0, max_value=n - 1))


@st.composite
def two_sizes(draw):
    n = draw(sizes)
    return draw(st.integers(min_value=1, max_value=n)), n


def _flip(proof: list[bytes], which: int, bit: int) -> list[bytes]:
    out = list(proof)
    h = bytearray(out[which])
    h[bit // 8] ^= 1 << (bit % 8)
    out[which] = bytes(h)
    return out


def _turns(index: int, size: int) -> list[str] | None:
    """The sides on which an inclusion proof's hashes are joined, bottom-up."""
    if index >= size:
        return None
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return ["L" if index >> i & 1 else "R" for i in range(inner)] + ["L"] * border


@settings(max_examples=150, deadline=None)
@given(tree_and_index(), st.data())
def test_inclusion_proofs_verify_and_any_change_breaks_them(case, data):
    n, m = case
    t = tree_of(n)
    root, leaf = t.root(), t.node(0, m)
    proof = inclusion_proof(t, m, n)
    verify_inclusion(m, n, leaf, proof, root)
    assert root_from_inclusion_proof(m, n, leaf, proof) == root
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        with pytest.raises(ProofError):
            verify_inclusion(m, n, leaf, _flip(proof, which, bit), root)
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_inclusion(m, n, _flip([leaf], 0, bit)[0], proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(m, n, leaf, proof, _flip([root], 0, bit)[0])
    other = data.draw(st.integers(0, n))
    assume(other != m)
    with pytest.raises(ProofError):
        verify_inclusion(other, n, leaf, proof, root)
    # RFC 9162 proofs do not bind the size as such, only the shape of the path it implies:
    # a size whose path takes the same turns yields the same root (e.g. leaf 0 of 5 or 6).
    wrong_size = data.draw(st.integers(1, 2 * n + 1))
    assume(wrong_size != n and _turns(m, wrong_size) != _turns(m, n))
    with pytest.raises(ProofError):
        verify_inclusion(m, wrong_size, leaf, proof, root)


@settings(max_examples=150, deadline=None)
@given(two_sizes(), st.data())
def test_consistency_proofs_verify_and_any_change_breaks_them(case, data):
    old, new = case
    t = tree_of(new)
    old_root, new_root = t.root(old), t.root()
    proof = consistency_proof(t, old, new)
    verify_consistency(old, new, old_root, new_root, proof)
    bit = data.draw(st.integers(0, 255))
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, _flip(proof, which, bit))
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, new_root, proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(old, new, _flip([old_root], 0, bit)[0], new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, _flip([new_root], 0, bit)[0], proof)
    other_old = data.draw(st.integers(1, new))
    assume(other_old != old)
    # Another old size with the same proof: rejected (unless the two sizes happen to have
    # the same old root and proof, which is impossible for different sizes).
    with pytest.raises(ProofError):
        verify_consistency(other_old, new, old_root, new_root, proof)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=300))
def test_every_way_of_computing_the_root_agrees(data):
    want = mth(data)
    hashes = [leaf_hash(x) for x in data]
    assert root_from_leaf_hashes(hashes) == want
    cr = CompactRange()
    for h in hashes:
        cr.append(h)
    assert cr.root() == want
    assert MemoryTree(hashes).root() == want
