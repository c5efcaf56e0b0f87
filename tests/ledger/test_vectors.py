"""The transparency-dev Merkle test vectors (../shared/vectors/merkle/, Apache-2.0).

Every `happy-path.json` must verify, and every other case must be rejected exactly when its
`wantErr` says so, for inclusion and for consistency proofs.

The `subtreeinclusion` / `subtreeconsistency` sets test the *subtree* proofs of the Merkle Tree
Certificates draft: a proof about the subtree [start, end) of a tree. Where that is an RFC 9162
question, the case is checked here too:
- subtree inclusion of leaf i in [start, end), for a valid subtree (start a multiple of the
  smallest power of two >= end - start), is RFC 9162 inclusion of leaf i - start in a tree of
  end - start leaves; an invalid subtree must be an expected error;
- subtree consistency of [0, end) with a tree of `size` leaves is RFC 9162 consistency from
  size `end` to `size`. With start > 0 it is a different proof (there is no RFC 9162 form), so
  those cases are skipped, each with that reason.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mast.ledger.merkle import ProofError, verify_consistency, verify_inclusion

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT.parent / "shared" / "vectors" / "merkle"


def _cases(kind: str) -> list:
    folder = VECTORS / kind
    if not folder.is_dir():
        pytest.fail(f"test vectors missing: {folder} (the shared/ folder beside the project)")
    files = sorted(folder.rglob("*.json"))
    return [pytest.param(f, id=str(f.relative_to(VECTORS))) for f in files]


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(case: dict) -> list[bytes]:
    return [_b64(h) for h in case.get("proof") or []]


def _outcome(check) -> bool:
    """True if `check()` rejected its input."""
    try:
        check()
    except ProofError:
        return True
    return False


def _expect(path: Path, case: dict, rejected: bool) -> None:
    if path.name.startswith("happy-path"):
        assert not case["wantErr"], "a happy path that expects an error?"
    assert rejected == case["wantErr"], (
        f"{case['desc']}: {'rejected' if rejected else 'accepted'}, but wantErr is {case['wantErr']}")


@pytest.mark.parametrize("path", _cases("inclusion"))
def test_inclusion_vectors(path):
    c = _load(path)
    rejected = _outcome(lambda: verify_inclusion(c["leafIdx"], c["treeSize"], _b64(c["leafHash"]),
                                                 _proof(c), _b64(c["root"])))
    _expect(path, c, rejected)


@pytest.mark.parametrize("path", _cases("consistency"))
def test_consistency_vectors(path):
    c = _load(path)
    rejected = _outcome(lambda: verify_consistency(c["size1"], c["size2"], _b64(c["root1"]),
                                                   _b64(c["root2"]), _proof(c)))
    _expect(path, c, rejected)


def _valid_subtree(start: int, end: int) -> bool:
    if not 0 <= start < end:
        return False
    width = 1 << (end - start - 1).bit_length()  # smallest power of two >= end - start
    return start % width == 0


@pytest.mark.parametrize("path", _cases("subtreeinclusion"))
def test_subtree_inclusion_vectors_as_rfc9162_inclusion(path):
    c = _load(path)
    start, end, leaf = c["start"], c["end"], c["leafIdx"]
    if not _valid_subtree(start, end):
        assert c["wantErr"], f"{c['desc']}: [{start}, {end}) is not a subtree, yet no error is expected"
        return
    rejected = (not start <= leaf < end) or _outcome(lambda: verify_inclusion(
        leaf - start, end - start, _b64(c["leafHash"]), _proof(c), _b64(c["root"])))
    _expect(path, c, rejected)


@pytest.mark.parametrize("path", _cases("subtreeconsistency"))
def test_subtree_consistency_vectors_from_the_first_leaf(path):
    c = _load(path)
    start, end, size = c["start"], c["end"], c["size"]
    if start != 0 or end == 0:
        pytest.skip(f"subtree consistency of [{start}, {end}) is the MTC draft's proof (a subtree not "
                    "starting at leaf 0, or empty), which RFC 9162 has no form of; mast proves "
                    "consistency of non-empty prefixes only")
    rejected = _outcome(lambda: verify_consistency(end, size, _b64(c["root1"]), _b64(c["root2"]), _proof(c)))
    _expect(path, c, rejected)


def test_every_vector_set_is_used():
    assert {p.name for p in VECTORS.iterdir() if p.is_dir()} == {
        "inclusion", "consistency", "subtreeinclusion", "subtreeconsistency"}
