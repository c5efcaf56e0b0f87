"""The tamper-evident log: an RFC 6962 / RFC 9162 Merkle tree over the entries, its storage,
proofs and verification (DESIGN §6).

`ledger` imports nothing of mast but `mast.records.canonical` and `mast.errors`; `records`
never imports `ledger`.

- `mast.ledger.merkle`: hashing, proofs and their verification; pure.
- `mast.ledger.tree`: the tree's hashes in SQL (tlog-tiles layout), beside the entries.
- `mast.ledger.verify`: recompute the whole log from the stored entries.
"""

from mast.ledger.merkle import (  # noqa: F401  (the public API)
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    MemoryTree,
    NodeSource,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
