"""`mast log`: the tamper-evident log (DESIGN §6–§7) — keys, checkpoints, leaves, proofs,
verification and witness cosigning. Output formats are those DESIGN §6 fixes, so that other
implementations can read them."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import typer

from mast.cli.app import app, out, state, writes
from mast.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from mast.workspace import Workspace

log_app = typer.Typer(help="The tamper-evident log: keys, checkpoints, proofs, verification.",
                      no_args_is_help=True)
proof_app = typer.Typer(help="Inclusion and consistency proofs (RFC 9162 §2.1.3–2.1.4).", no_args_is_help=True)
log_app.add_typer(proof_app, name="proof")
app.add_typer(log_app, name="log")


@contextmanager
def _workspace() -> Iterator["Workspace"]:
    """The workspace of `-w`, closed afterwards."""
    from mast.workspace import Workspace

    ws = Workspace.open(state.workspace)
    try:
        yield ws
    finally:
        ws.close()


@contextmanager
def _reading() -> Iterator[tuple["Workspace", "Connection"]]:
    """The workspace and one read connection (one snapshot of the log) for a command."""
    with _workspace() as ws, ws.store.engine.connect() as conn:
        yield ws, conn


def _size_of(conn) -> int:
    from mast.ledger import tree

    return tree.tree_size(conn)


def _check_range(value: int, lo: int, hi: int, what: str) -> None:
    if not lo <= value <= hi:
        raise InvalidInput(Problem(what, None, None, f"expected {lo}..{hi}, got {value}"))


@log_app.command("key")
def key() -> None:
    """Print the log's verifier key in signed-note form (`<name>+<hash>+<base64>`)."""
    with _workspace() as ws:
        typer.echo(ws.verifier.text())


@log_app.command("checkpoint")
def checkpoint() -> None:
    """Print the latest signed checkpoint exactly as C2SP tlog-checkpoint specifies."""
    from mast.ledger.log import latest_checkpoint

    with _reading() as (ws, conn):
        note = latest_checkpoint(conn)
    if note is None:
        raise InvalidInput(Problem(str(ws.root), None, None, "the log has no checkpoint"))
    sys.stdout.write(note)


@log_app.command("leaf")
def leaf(index: int = typer.Argument(..., help="Entry index, from 0.")) -> None:
    """Print entry N's canonical JSON bytes (the leaf the tree hashes)."""
    with _workspace() as ws:
        entry = next(ws.store.bodies(index, index + 1), None) if index >= 0 else None
        if entry is None:
            raise InvalidInput(Problem("N", None, None, f"no entry {index} (the log has {ws.store.count()} entries)"))
    sys.stdout.buffer.write(entry[2])
    sys.stdout.buffer.flush()


@proof_app.command("inclusion")
def inclusion(
    index: int = typer.Argument(..., help="Entry index."),
    size: Optional[int] = typer.Option(None, "--size", help="Tree size (default: the whole log)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the default output is JSON too)."),
) -> None:
    """Prove entry N is in the tree of size S: `{index, size, leaf_hash, root, proof}`."""
    from mast.ledger import merkle, tree

    with _reading() as (ws, conn):
        have = _size_of(conn)
        size = have if size is None else size
        _check_range(size, 1, have, "--size")
        _check_range(index, 0, size - 1, "N")
        body = next(ws.store.bodies(index, index + 1))[2]
        data = {"index": index, "size": size, "leaf_hash": merkle.leaf_hash(body).hex(),
                "root": tree.root(conn, size).hex(),
                "proof": [h.hex() for h in tree.inclusion_proof(conn, index, size)]}
    typer.echo(json.dumps(data, indent=2))


@proof_app.command("consistency")
def consistency(
    old: int = typer.Argument(..., help="The earlier tree size."),
    new: Optional[int] = typer.Argument(None, help="The later tree size (default: the whole log)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the default output is JSON too)."),
) -> None:
    """Prove the tree of size OLD is a prefix of the tree of size NEW."""
    from mast.ledger import tree

    with _reading() as (_ws, conn):
        have = _size_of(conn)
        new = have if new is None else new
        _check_range(new, 1, have, "NEW")
        _check_range(old, 1, new, "OLD")
        data = {"old_size": old, "new_size": new, "old_root": tree.root(conn, old).hex(),
                "new_root": tree.root(conn, new).hex(),
                "proof": [h.hex() for h in tree.consistency_proof(conn, old, new)]}
    typer.echo(json.dumps(data, indent=2))


@log_app.command("verify")
def verify(
    checkpoint_file: Optional[Path] = typer.Option(
        None, "--checkpoint", help="A checkpoint saved earlier (by anyone): check today's log is consistent with it."),
) -> None:
    """Recompute the log from its entries and check every stored hash and checkpoint.

    Exit 4 on any changed, missing, extra or reordered entry, naming the first bad index."""
    from mast.ledger import merkle, tree
    from mast.ledger.log import verify as verify_log

    with _workspace() as ws:
        extra = []
        saved = None
        if checkpoint_file is not None:
            try:
                text = checkpoint_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(Problem(str(checkpoint_file), None, None, f"cannot read: {exc}")) from None
            saved = _open_saved_checkpoint(checkpoint_file, text, ws)
            extra.append((saved.size, saved.root))
        with ws.store.engine.connect() as conn:
            result = verify_log(conn, ws.verifier, ws.witnesses(), extra)
            if saved is not None and 0 < saved.size < result.size:
                proof = tree.consistency_proof(conn, saved.size, result.size)
                merkle.verify_consistency(saved.size, result.size, saved.root, result.root, proof)
    root = result.root.hex() if result.root else ""
    message = f"ok: {result.size} entries, {result.checkpoints} checkpoints verified; root {root}"
    if saved is not None:
        message += f"; consistent with the checkpoint at size {saved.size}"
    out.print(message, markup=False, highlight=False, soft_wrap=True)


def _open_saved_checkpoint(path: Path, text: str, ws):
    """The checkpoint an outsider saved, verified with this log's key (and its witnesses'):
    errors name the file, and a checkpoint of another log says so."""
    from mast.errors import IntegrityFailure
    from mast.ledger.checkpoint import Checkpoint, open_checkpoint
    from mast.ledger.note import parse_note

    try:
        saved, _ = open_checkpoint(text, ws.verifier, ws.witnesses())
    except InvalidInput as exc:
        raise InvalidInput(Problem(str(path), None, None, str(exc))) from None
    except IntegrityFailure as exc:
        try:
            origin = Checkpoint.parse(parse_note(text)[0]).origin
        except InvalidInput:
            origin = None
        if origin is not None and origin != ws.origin:
            raise IntegrityFailure(f"{path}: a checkpoint of log {origin!r}, not of this log ({ws.origin!r})") from None
        raise IntegrityFailure(f"{path}: {exc} (this log's key is {ws.verifier.text()})") from None
    if saved.origin != ws.origin:
        raise IntegrityFailure(f"{path}: a checkpoint of log {saved.origin!r}, not of this log ({ws.origin!r})")
    return saved


@log_app.command("cosign")
@writes
def cosign(
    key_file: Path = typer.Option(..., "--key", help="The witness's signer key (cosignature/v1, 0x04)."),
    state_file: Path = typer.Option(..., "--state", help="The witness's memory: the checkpoint it last cosigned."),
) -> None:
    """As a witness: cosign the log's latest checkpoint after checking it is consistent with
    the last one this witness cosigned (kept in --state), and add the cosignature to the log."""
    from mast.ledger import merkle, tree
    from mast.ledger.checkpoint import Checkpoint, Witness
    from mast.ledger.keys import load_signer
    from sqlalchemy import select

    from mast.ledger.log import add_cosignature, checkpoint_at, cosignatures_table, latest_checkpoint
    from mast.ledger.note import parse_note

    witness_signer = load_signer(key_file)
    if not witness_signer.is_cosigner:
        raise InvalidInput(Problem(str(key_file), None, None,
                                   "not a witness key: a witness cosigns with a cosignature/v1 key (type 0x04)"))
    with _workspace() as ws:
        last = None
        if state_file.exists():
            last = Checkpoint.parse(parse_note(state_file.read_text(encoding="utf-8"))[0])
        witness = Witness(witness_signer, ws.verifier, merkle.verify_consistency)
        with ws.store.engine.begin() as conn:
            note = latest_checkpoint(conn)
            if note is None:
                raise InvalidInput(Problem(str(ws.root), None, None, "the log has no checkpoint"))
            size = Checkpoint.parse(parse_note(note)[0]).size
            proof = tree.consistency_proof(conn, last.size, size) if last and 0 < last.size < size else []
            new, cosigned = witness.cosign(last, checkpoint_at(conn, size) or note, proof, int(time.time()))
            already = conn.execute(select(cosignatures_table.c.note).where(
                cosignatures_table.c.size == new.size, cosignatures_table.c.witness == witness_signer.name)).scalar()
            if already is None:
                add_cosignature(conn, new.size, witness_signer.name, cosigned)
            else:
                cosigned = already  # the log keeps one cosignature per witness and size: nothing to add
    state_file.write_text(cosigned, encoding="utf-8")
    what = "already cosigned" if already is not None else "cosigned"
    out.print(f"{what} {new.origin} at size {new.size} as {witness_signer.name}", markup=False, highlight=False,
              soft_wrap=True)
