"""External review (docs/roadmap.md, "External review").

A reviewer holds an Ed25519 key (a signed-note signer key, `mast.ledger.keys`) and is
registered in the workspace by a `reviewer` record with its name and verifier key. The
reviewer signs, outside any workspace, a `review` record naming the edition it read by the
SHA-256 of the edition file's bytes; the workspace appends it only if the signature verifies
against a registered key and the edition is one the log knows (a `report` record's sha256 or
a stored blob). The check runs in `mast.records.references`, so `mast record add` cannot
bypass it either.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from mast.errors import InvalidInput, Problem, Refused
from mast.ledger.keys import Signer, new_signer, parse_signer
from mast.records.kinds import ReviewerRecord, ReviewRecord
from mast.records.loader import Batch, load_batch
from mast.vocabulary import UTC

__all__ = ["add_reviews", "edition_sha256", "reviewer_record", "sign_review", "write_reviewer_keys",
           "read_signer"]


def edition_sha256(path: str | Path) -> str:
    """SHA-256 of an edition file's bytes (what a review and a `report` record name)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(Problem(str(path), None, None, "no such file")) from None
    except OSError as exc:
        raise InvalidInput(Problem(str(path), None, None, f"cannot read: {exc}")) from None
    return hashlib.sha256(data).hexdigest()


def read_signer(path: str | Path) -> Signer:
    """A reviewer's signer key file (`PRIVATE+KEY+<name>+<hash>+<base64>`); exit 2 if bad."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(Problem(str(path), None, None, "no such key file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(Problem(str(path), None, None, f"cannot read the key: {exc}")) from None
    try:
        return parse_signer(text)
    except InvalidInput as exc:
        raise InvalidInput(Problem(str(path), None, None, f"not a signer key: {exc}")) from None


def sign_review(report_sha256: str, signer: Signer, *, verdict: str, text: str, reviewer: str | None = None,
                at: datetime | None = None, **fields: Any) -> ReviewRecord:
    """A `review` record of the edition with `report_sha256`, signed with `signer`.
    `reviewer` defaults to the key's name; `fields` may add `ref`, `audience`, `model`."""
    when = at or datetime.now(UTC).replace(microsecond=0)
    if when.utcoffset() is None:
        raise InvalidInput(Problem("--at", None, None, "expected a time with a zone, e.g. 2025-05-14T00:00:00Z"))
    unsigned = ReviewRecord(kind="review", at=when, reviewer=reviewer or signer.name, report=report_sha256,
                            verdict=verdict, text=text, signature="", **fields)
    signature = base64.b64encode(signer.sign(unsigned.signed_message())).decode("ascii")
    return unsigned.model_copy(update={"signature": f"ed25519:{signature}"})


def reviewer_record(name: str, verifier_text: str, at: datetime, **fields: Any) -> ReviewerRecord:
    return ReviewerRecord(kind="reviewer", at=at, name=name, key=verifier_text.strip(), **fields)


def write_reviewer_keys(prefix: str | Path, name: str) -> tuple[Path, Path, Signer]:
    """A new reviewer key pair: `PREFIX.key` (the signer, mode 0600) and `PREFIX.pub` (the
    verifier key to register). Refuses (exit 3) to overwrite either file."""
    prefix = Path(prefix)
    key_path, pub_path = prefix.with_name(prefix.name + ".key"), prefix.with_name(prefix.name + ".pub")
    for p in (key_path, pub_path):
        if p.exists():
            raise Refused(f"{p} exists; refusing to overwrite a key")
    signer = new_signer(name)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(signer.text() + "\n")
    pub_path.write_text(signer.verifier().text() + "\n", encoding="utf-8")
    return key_path, pub_path, signer


def add_reviews(ws: Any, path: str | Path) -> list[Any]:
    """Append the signed review(s) in `path` (JSON or YAML, as `mast review sign` writes
    them). Anything but `review` records, a bad signature, an unknown reviewer or an edition
    the log does not know is invalid input (exit 2) and nothing is written."""
    batch: Batch = load_batch(path)
    problems = [item.problem(("kind",), f"expected a review record, got a {item.record.kind} record", batch.name)
                for item in batch.items if item.record.kind != "review"]
    if not batch.items:
        problems.append(Problem(batch.name, None, None, "no review in the file"))
    if problems:
        raise InvalidInput(problems)
    return ws.add(batch)
