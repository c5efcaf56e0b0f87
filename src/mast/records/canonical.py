"""Canonical JSON (RFC 8785) and record ids.

The log's leaves are these bytes, so this is the one place that decides how a record looks
on the wire. `ledger` imports only this module of `records`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from pydantic import BaseModel


#: A log entry (a record's canonical JSON) must stay under 64 KiB: the C2SP tlog-tiles entry
#: limit (DESIGN §6). Larger content is stored as a blob and named by its sha256.
MAX_RECORD_BYTES = 65535


def record_data(record: BaseModel) -> dict[str, Any]:
    """A record as JSON data: aliases used (`from`, `models`), unset optionals omitted."""
    return record.model_dump(mode="json", by_alias=True, exclude_none=True)


def canonical_bytes(data: Any) -> bytes:
    """RFC 8785 canonical JSON of plain data."""
    return rfc8785.dumps(data)


def record_bytes(record: BaseModel) -> bytes:
    return canonical_bytes(record_data(record))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_id(record: BaseModel) -> str:
    """The record's id: SHA-256 of its canonical JSON, lowercase hex."""
    return sha256_hex(record_bytes(record))
