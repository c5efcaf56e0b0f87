"""Every record kind survives the trip file -> record -> canonical JSON -> store -> record,
and a record's bytes and id do not change from run to run."""

from __future__ import annotations

import hashlib
import json

import pytest

from mast.records.canonical import record_bytes, record_id
from mast.records.kinds import parse_record
from mast.records.store import Store, parse_body
from mast.vocabulary import RECORD_KINDS

SHA = "ab" * 32
AT = "2025-06-01T12:00:00Z"

ONE_OF_EACH = [
    {"kind": "model", "at": AT, "id": "m1", "name": "Model One", "ref": "m1-def"},
    {"kind": "model", "at": AT, "id": "m2", "name": "Model Two", "parent": "m1"},
    {"kind": "stage", "at": AT, "model": "m1", "stage": "deployed"},
    {"kind": "eval", "at": AT, "model": "m1", "task": "wmdp_bio", "metrics": {"accuracy": 0.61, "n": 1200},
     "source": {"format": "inspect", "sha256": SHA, "path": "logs/x.eval"}},
    {"kind": "determination", "at": AT, "model": "m1", "threshold": "cbrn-3", "status": "not_ruled_out",
     "rationale": "Cannot rule out.", "approved_by": {"rso": "Jane Roe"}},
    {"kind": "safeguard", "at": AT, "safeguard": "asl3-deployment/classifier-guards", "status": "partial",
     "scope": "m1", "audience": "reviewer", "redaction_reason": "public-safety"},
    {"kind": "exemption", "at": AT, "safeguard": "asl3-deployment/classifier-guards", "scope": "m1",
     "reason": "Research access only", "approved_by": {"rso": "Jane Roe"}, "expires": "2025-07-01T00:00:00+02:00"},
    {"kind": "incident", "at": AT, "model": "m1", "severity": "high", "description": "Jailbreak found."},
    {"kind": "notice", "at": AT, "to": "authority", "about": "incident-72h", "text": "We report."},
    {"kind": "report", "at": AT, "period": {"from": "2025-01-01T00:00:00Z", "to": "2025-06-30T23:59:59Z"},
     "edition": "public", "sha256": SHA},
    {"kind": "review", "at": AT, "reviewer": "Audit Co", "report": SHA, "verdict": "adequate", "text": "Fine.",
     "signature": "sig"},
    {"kind": "escape", "at": AT, "clause": "competitor-parity", "models": ["m1", "m2"], "rationale": "Parity.",
     "until": "2025-09-01T00:00:00Z", "ref": "esc-1"},
    {"kind": "roadmap", "at": AT, "goal": "ASL-4 security", "status": "on_track", "note": "Going well."},
    {"kind": "statement", "at": AT, "topic": "competitive-landscape", "text": "A rival shipped.", "models": ["m1"]},
    {"kind": "framework", "at": AT, "framework": {"mast": 1, "framework": {"id": "x"}}, "sha256": SHA,
     "approved_by": {"rso": "Jane Roe"}},
    {"kind": "roadmap_version", "at": AT, "sha256": SHA,
     "roadmap": {"mast": 1, "roadmap": {"id": "rm", "version": "1", "effective": AT, "changelog": []},
                 "goals": [{"id": "g1", "area": "security", "title": "Goal one", "target": "2026-01-01T00:00:00Z",
                            "grades": ["on_track", "met", "dropped"], "audience": "public"}]}},
    {"kind": "reviewer", "at": AT, "name": "Audit Co", "key": "audit-co+01234567+AQ=="},
]


def test_every_kind_is_exercised():
    assert sorted({d["kind"] for d in ONE_OF_EACH}) == sorted(RECORD_KINDS)


@pytest.mark.parametrize("data", ONE_OF_EACH, ids=[f"{i}-{d['kind']}" for i, d in enumerate(ONE_OF_EACH)])
def test_round_trip_through_canonical_json(data):
    record = parse_record(data)
    body = record_bytes(record)
    again = parse_body(body)
    assert again == record
    assert record_bytes(again) == body
    assert record_id(again) == hashlib.sha256(body).hexdigest()
    # what the user wrote is what is kept (aliases `from` and `models`, no nulls added)
    assert json.loads(body) == {"audience": "public", **data}


def test_round_trip_through_the_store(tmp_path):
    store = Store.sqlite(tmp_path / "m.db", create=True)
    records = [parse_record(d) for d in ONE_OF_EACH]
    entries = store.append(records)
    assert [e.index for e in entries] == list(range(len(records)))
    assert store.records() == records
    assert [e.id for e in store.entries()] == [record_id(r) for r in records]
    assert [b for _, _, b in store.bodies()] == [record_bytes(r) for r in records]


def test_canonical_bytes_and_id_are_stable():
    """These bytes are the log's leaves: if they change, every published id changes."""
    record = parse_record({"kind": "eval", "at": "2025-06-01T12:00:00+00:00", "model": "m1", "task": "wmdp_bio",
                           "metrics": {"accuracy": 0.5, "n": 10}})
    assert record_bytes(record) == (
        b'{"at":"2025-06-01T12:00:00Z","audience":"public","kind":"eval",'
        b'"metrics":{"accuracy":0.5,"n":10},"model":"m1","task":"wmdp_bio"}'
    )
    assert record_id(record) == hashlib.sha256(record_bytes(record)).hexdigest()
    assert record_id(record) == "1ce9f2a2f183d33fd6a60bc6cc3c6eb6988aa705cbda0f7c5f4e759990ec0ab9"


def test_equal_moments_in_different_zones_are_different_records():
    """A record keeps the zone its author wrote; ids are over the text, not the instant."""
    a = parse_record({"kind": "stage", "at": "2025-06-01T12:00:00Z", "model": "m1", "stage": "training"})
    b = parse_record({"kind": "stage", "at": "2025-06-01T14:00:00+02:00", "model": "m1", "stage": "training"})
    assert a.at == b.at
    assert record_id(a) != record_id(b)
