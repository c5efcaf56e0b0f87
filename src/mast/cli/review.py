"""`mast review keygen|register|sign|add`: external review of report editions.

`keygen` and `sign` are run by the reviewer and need no workspace; `register` and `add` are
run by the framework owner and append to its log (docs/roadmap.md, "External review").
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer

from mast.cli.app import app, out, state, writes

review_app = typer.Typer(help="External review: reviewer keys, signed reviews of report editions.",
                         no_args_is_help=True)
app.add_typer(review_app, name="review")


def _now() -> datetime:
    from mast.vocabulary import UTC

    return datetime.now(UTC).replace(microsecond=0)


@review_app.command("keygen")
@writes
def keygen_command(
    name: str = typer.Argument(..., help="The key's name (no spaces), e.g. meridian-assurance."),
    output: Path = typer.Option(Path("reviewer"), "-o", "--out", metavar="PREFIX",
                                help="Writes PREFIX.key (secret, mode 0600) and PREFIX.pub."),
) -> None:
    """Make a reviewer's Ed25519 key pair (run by the reviewer; no workspace needed)."""
    from mast.reports.review import write_reviewer_keys

    key_path, pub_path, signer = write_reviewer_keys(output, name)
    out.print(f"wrote {key_path} (keep it secret) and {pub_path}", markup=False, highlight=False)
    out.print(signer.verifier().text(), markup=False, highlight=False, soft_wrap=True)


@review_app.command("register")
@writes
def register_command(
    name: str = typer.Argument(..., help="The reviewer's name as its reviews give it, e.g. 'Meridian AI Assurance'."),
    key: str = typer.Option(..., "--key", metavar="PUBFILE|KEY", help="The reviewer's verifier key, or a file holding it."),
    at: Optional[str] = typer.Option(None, "--at", metavar="TIME", help="Registration time (default now)."),
    ref: Optional[str] = typer.Option(None, "--ref", help="A ref for the reviewer record."),
) -> None:
    """Register an external reviewer and its public key (appends a `reviewer` record)."""
    from mast.cli.records import describe_appended, parse_time
    from mast.reports.review import reviewer_record
    from mast.workspace import Workspace

    text = Path(key).read_text(encoding="utf-8") if Path(key).is_file() else key
    when = parse_time(at, "--at") if at else _now()
    record = reviewer_record(name, text, when, **({"ref": ref} if ref else {}))
    ws = Workspace.open(state.workspace)
    try:
        entries = ws.add([record])
    finally:
        ws.close()
    out.print(f"registered reviewer {name!r}: " + describe_appended(entries), markup=False, highlight=False)


@review_app.command("sign")
@writes
def sign_command(
    report_file: Path = typer.Argument(..., metavar="REPORT_FILE", help="The edition reviewed (its bytes are hashed).",
                                       show_default=False),
    key: Path = typer.Option(..., "--key", metavar="KEY", help="The reviewer's signer key file."),
    verdict: str = typer.Option(..., "--verdict", metavar="V", help="The verdict, e.g. adequate."),
    text: Path = typer.Option(..., "--text", metavar="FILE", help="A file holding the review's text."),
    reviewer: Optional[str] = typer.Option(None, "--reviewer", help="The reviewer's registered name (default: the key's)."),
    at: Optional[str] = typer.Option(None, "--at", metavar="TIME", help="The review's time (default now)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the signed review here (default: stdout)."),
) -> None:
    """Sign a review of a report edition (run by the reviewer; no workspace needed)."""
    from mast.cli.records import parse_time
    from mast.errors import InvalidInput, Problem
    from mast.records.canonical import record_data
    from mast.reports.review import edition_sha256, read_signer, sign_review

    digest = edition_sha256(report_file)
    signer = read_signer(key)
    try:
        body = text.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(Problem(str(text), None, None, f"cannot read: {exc}")) from None
    if not body.strip():
        raise InvalidInput(Problem(str(text), None, None, "the review text is empty"))
    when = parse_time(at, "--at") if at else _now()
    review = sign_review(digest, signer, verdict=verdict, text=body.strip(), reviewer=reviewer, at=when)
    data = json.dumps(record_data(review), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(data, nl=False)
    else:
        output.write_text(data, encoding="utf-8")
        out.print(f"wrote {output} (review of {digest})", markup=False, highlight=False)


@review_app.command("add")
@writes
def add_command(
    file: Path = typer.Argument(..., help="A signed review, as `mast review sign` writes it.", show_default=False),
) -> None:
    """Verify a signed review against its registered reviewer and the edition, and append it."""
    from mast.cli.records import describe_appended
    from mast.reports.review import add_reviews
    from mast.workspace import Workspace

    ws = Workspace.open(state.workspace)
    try:
        entries = add_reviews(ws, file)
    finally:
        ws.close()
    out.print(describe_appended(entries), markup=False, highlight=False)
