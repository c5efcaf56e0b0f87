"""External review: reviewer keys, `mast review sign` (outside any workspace) and `mast review
add` (verified against the registered key and a published edition). A bad signature, an
unknown reviewer or a review of another edition is exit 2 with nothing written — through
`mast record add` too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cli_runner import Result, run
from mast.errors import InvalidInput
from mast.records.kinds import parse_record
from mast.records.references import verify_review
from mast.reports.review import edition_sha256, read_signer, sign_review, write_reviewer_keys
from mast.workspace import Workspace

AT = "2025-07-01T00:00:00Z"


def mast(*args: str, cwd: Path) -> Result:
    return run(*args, cwd=cwd)


def db(ws: Path) -> bytes:
    return (ws / ".mast" / "mast.db").read_bytes()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a published reviewer edition and a registered reviewer; the
    reviewer's keys and files live in reviewer/, outside it."""
    root = tmp_path_factory.mktemp("review")
    reviewer = root / "reviewer"
    reviewer.mkdir()
    (reviewer / "edition.html").write_bytes(b"<html>Risk Report, reviewer edition</html>\n")
    (reviewer / "other.html").write_bytes(b"<html>Risk Report, another edition</html>\n")
    (reviewer / "review.txt").write_text("The report is accurate.\nWe found no omission.\n")
    done = mast("review", "keygen", "audit-co", "-o", "audit", cwd=reviewer)
    assert done.code == 0, done.stderr
    assert (reviewer / "audit.key").stat().st_mode & 0o777 == 0o600
    assert mast("review", "keygen", "impostor", "-o", "impostor", cwd=reviewer).code == 0

    ws = root / "ws"
    assert mast("init", str(ws), cwd=root).code == 0
    digest = edition_sha256(reviewer / "edition.html")
    (root / "report.yaml").write_text(
        f"- {{kind: report, at: {AT}, period: {{from: 2025-01-01T00:00:00Z, to: {AT}}}, "
        f"edition: reviewer, sha256: {digest}}}\n")
    assert mast("record", "add", "../report.yaml", cwd=ws).code == 0
    done = mast("review", "register", "Audit Co", "--key", "../reviewer/audit.pub", "--at", AT, cwd=ws)
    assert done.code == 0, done.stderr
    return root


@pytest.fixture()
def ws(setup: Path, tmp_path: Path) -> Path:
    shutil.copytree(setup, tmp_path / "lab")
    return tmp_path / "lab" / "ws"


def sign(reviewer: Path, edition: str = "edition.html", key: str = "audit.key", *extra: str) -> dict:
    done = mast("review", "sign", edition, "--key", key, "--verdict", "adequate", "--text", "review.txt",
                "--reviewer", "Audit Co", "--at", "2025-08-01T00:00:00Z", *extra, cwd=reviewer)
    assert done.code == 0, done.stderr
    return json.loads(done.stdout)


def test_sign_prints_a_signed_review_record(setup: Path) -> None:
    review = sign(setup / "reviewer")
    assert set(review) == {"kind", "at", "audience", "reviewer", "report", "verdict", "text", "signature"}
    assert review["kind"] == "review" and review["reviewer"] == "Audit Co"
    assert review["report"] == edition_sha256(setup / "reviewer" / "edition.html")
    assert review["text"] == "The report is accurate.\nWe found no omission."
    assert review["signature"].startswith("ed25519:")
    key = (setup / "reviewer" / "audit.pub").read_text()
    assert verify_review(key, parse_record(review))
    assert not verify_review(key, parse_record({**review, "verdict": "inadequate"}))


def test_a_valid_review_is_accepted(ws: Path) -> None:
    reviewer = ws.parent / "reviewer"
    done = mast("review", "sign", "edition.html", "--key", "audit.key", "--verdict", "adequate", "--text",
                "review.txt", "--reviewer", "Audit Co", "-o", "signed.json", cwd=reviewer)
    assert done.code == 0, done.stderr
    added = mast("review", "add", "../reviewer/signed.json", cwd=ws)
    assert added.code == 0, added.stderr
    assert "appended 1 record" in added.stdout
    workspace = Workspace.open(ws)
    try:
        [review] = workspace.store.records(kind="review")
    finally:
        workspace.close()
    assert review.reviewer == "Audit Co" and review.verdict == "adequate"


@pytest.mark.parametrize("tamper", ["text", "verdict", "at", "signature"])
def test_a_changed_review_is_refused_and_nothing_is_written(ws: Path, tamper: str) -> None:
    review = sign(ws.parent / "reviewer")
    review[tamper] = {"text": "The report is excellent.", "verdict": "excellent", "at": "2025-08-02T00:00:00Z",
                      "signature": "ed25519:" + "A" * 86 + "=="}[tamper]
    (ws / "review.json").write_text(json.dumps(review))
    before = db(ws)
    done = mast("review", "add", "review.json", cwd=ws)
    assert done.code == 2
    assert "signature does not verify" in done.stderr and "nothing was written" in done.stderr
    assert db(ws) == before


def test_a_review_of_another_edition_is_refused(ws: Path) -> None:
    review = sign(ws.parent / "reviewer", "other.html")
    (ws / "review.json").write_text(json.dumps(review))
    before = db(ws)
    done = mast("review", "add", "review.json", cwd=ws)
    assert done.code == 2 and "no report record or stored edition has sha256" in done.stderr
    assert db(ws) == before


def test_a_review_signed_with_another_key_is_refused(ws: Path) -> None:
    review = sign(ws.parent / "reviewer", "edition.html", "impostor.key")
    (ws / "review.json").write_text(json.dumps(review))
    before = db(ws)
    done = mast("review", "add", "review.json", cwd=ws)
    assert done.code == 2 and "signature does not verify" in done.stderr
    assert db(ws) == before


def test_an_unregistered_reviewer_is_refused(ws: Path) -> None:
    review = sign(ws.parent / "reviewer")
    review["reviewer"] = "Someone Else"
    (ws / "review.json").write_text(json.dumps(review))
    before = db(ws)
    done = mast("review", "add", "review.json", cwd=ws)
    assert done.code == 2 and "unknown reviewer 'Someone Else'" in done.stderr
    assert db(ws) == before


def test_record_add_cannot_bypass_the_check(ws: Path) -> None:
    review = sign(ws.parent / "reviewer")
    review["verdict"] = "excellent"
    (ws / "review.json").write_text(json.dumps([review]))
    before = db(ws)
    done = mast("record", "add", "review.json", cwd=ws)
    assert done.code == 2 and "signature does not verify" in done.stderr
    assert db(ws) == before


def test_review_add_takes_only_reviews(ws: Path) -> None:
    (ws / "other.yaml").write_text("- {kind: model, at: 2025-01-01T00:00:00Z, id: m1, name: M1}\n")
    done = mast("review", "add", "other.yaml", cwd=ws)
    assert done.code == 2 and "expected a review record" in done.stderr


def test_a_bad_reviewer_key_or_a_second_registration_is_refused(ws: Path) -> None:
    done = mast("review", "register", "Bad Co", "--key", "bad+00000000+AQ==", cwd=ws)
    assert done.code == 2 and "key" in done.stderr
    again = mast("review", "register", "Audit Co", "--key", "../reviewer/impostor.pub", cwd=ws)
    assert again.code == 2 and "already registered" in again.stderr


def test_a_key_rotation_supersedes_the_registration(tmp_path: Path) -> None:
    workspace = Workspace.init(tmp_path / "ws")
    try:
        _, old_pub, old = write_reviewer_keys(tmp_path / "old", "audit-co")
        _, new_pub, new = write_reviewer_keys(tmp_path / "new", "audit-co")
        from mast.reports.review import reviewer_record
        from mast.vocabulary import UTC
        from datetime import datetime

        at = datetime(2025, 7, 1, tzinfo=UTC)
        workspace.add([reviewer_record("Audit Co", old_pub.read_text(), at, ref="audit-co-1"),
                       parse_record({"kind": "report", "at": AT, "sha256": "1" * 64, "edition": "reviewer",
                                     "period": {"from": AT, "to": AT}})])
        workspace.add([reviewer_record("Audit Co", new_pub.read_text(), at, supersedes="audit-co-1")])
        review = sign_review("1" * 64, new, verdict="ok", text="fine", reviewer="Audit Co", at=at)
        workspace.add([review])
        # a forged review in code is refused as well
        forged = review.model_copy(update={"text": "better"})
        with pytest.raises(InvalidInput, match="signature does not verify"):
            workspace.add([forged])
        assert len(workspace.store.records(kind="review")) == 1
        assert read_signer(tmp_path / "new.key").public_key == new.public_key
        assert old.public_key != new.public_key
    finally:
        workspace.close()


def test_keygen_refuses_to_overwrite(setup: Path) -> None:
    done = mast("review", "keygen", "audit-co", "-o", "audit", cwd=setup / "reviewer")
    assert done.code == 3 and "refusing to overwrite" in done.stderr


def test_the_example_labs_review_is_signed_by_its_registered_reviewer() -> None:
    from mast.demo import EXAMPLE_LAB
    from mast.records.loader import load_records

    records = load_records(EXAMPLE_LAB / "records" / "02-2025H2.yaml")
    [reviewer] = [r for r in records if r.kind == "reviewer"]
    [review] = [r for r in records if r.kind == "review"]
    assert review.reviewer == reviewer.name
    assert verify_review(reviewer.key, review)
    assert review.report in {r.sha256 for r in records if r.kind == "report"}
