"""Checks that a batch of records points only at things that exist (DESIGN §4).

Shape is the loader's job; here each record is checked against the log and the published
frameworks: refs are unique, `supersedes` and `about` resolve, models are defined before they
are used, and thresholds, safeguards and escape clauses exist in the framework in force at the
record's time (so records made before a rename keep the old id, and one for a later moment
that uses it is told the new one). A record may point at records earlier in its own batch,
never at later ones: the log is read in order, and a reader must never meet a name before
its definition.

The whole batch is checked and every problem returned, so that nothing is written unless
everything is right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

from mast.errors import Problem
from mast.framework.model import Framework
from mast.framework.versions import element_ids, framework_in_force, in_effect_order, renamed_ids
from mast.records.canonical import canonical_bytes, record_id, sha256_hex
from mast.records.kinds import (
    DeterminationRecord,
    EscapeRecord,
    ExemptionRecord,
    ModelRecord,
    NoticeRecord,
    Record,
    ReportRecord,
    ReviewerRecord,
    ReviewRecord,
    RoadmapRecord,
    RoadmapVersionRecord,
    SafeguardRecord,
    StatementRecord,
)
from mast.records.loader import Batch, LoadedRecord

if TYPE_CHECKING:  # importing the store pulls in SQLAlchemy (≈0.6 s); only a Store argument needs it
    from mast.records.store import Entry, Store

PUBLISH_FIRST = "no framework has been published in this workspace: publish one first with `mast framework publish FILE`"


class _Known:
    """What the log holds so far: ids, refs and models, grown record by record."""

    def __init__(self, existing: "Iterable[Entry] | Store"):
        from mast.records.store import Store

        self.ids: dict[str, str] = {}  # id -> where ("index 4" / "records[2]")
        self.refs: dict[str, str] = {}  # ref -> where
        self.kinds: dict[str, Record] = {}  # id or ref of a model record -> that record
        self.models: dict[str, str] = {}  # model id -> where it was defined
        self.reviewers: dict[str, list[tuple[str, ReviewerRecord]]] = {}  # name -> (id, record)
        self.reports: set[str] = set()  # sha256 of editions named by report records
        self.roadmaps: dict[tuple[str, str], RoadmapVersionRecord] = {}  # (id, version) -> record
        self.store = existing if isinstance(existing, Store) else None
        if isinstance(existing, Store):  # a large log: parse only the records checks read
            for index, id_, _kind, ref in existing.keys():
                self.ids.setdefault(id_, f"index {index}")
                if ref is not None:
                    self.refs.setdefault(ref, f"index {index}")
            store = existing
            existing = [e for kind in ("model", "reviewer", "report", "roadmap_version")
                        for e in store.entries(kind=kind)]
        for entry in existing:
            self.add(entry.id, entry.record, f"index {entry.index}")

    def add(self, id_: str, record: Record, where: str) -> None:
        self.ids.setdefault(id_, where)
        if record.ref is not None:
            self.refs.setdefault(record.ref, where)
        if isinstance(record, ModelRecord):
            self.models.setdefault(record.id, where)
            self.kinds[id_] = record
            if record.ref is not None:
                self.kinds[record.ref] = record
        elif isinstance(record, ReviewerRecord):
            self.reviewers.setdefault(record.name, []).append((id_, record))
        elif isinstance(record, ReportRecord):
            self.reports.add(record.sha256)
        elif isinstance(record, RoadmapVersionRecord):
            self.roadmaps.setdefault((record.roadmap.id, record.roadmap.version), record)

    def has_blob(self, digest: str) -> bool:
        return self.store is not None and self.store.blob(digest) is not None

    def resolves(self, name: str) -> bool:
        return name in self.ids or name in self.refs


def check_references(batch: Batch | Sequence[Record], existing: "Iterable[Entry] | Store",
                     frameworks: Sequence[Framework]) -> list[Problem]:
    """Every reference problem in `batch`, given the log so far and the published versions
    (in log order). An empty list means the batch may be appended.

    `existing` is the log's entries, or the `Store` itself, which is faster for a large log
    (only its model records are parsed)."""
    if not isinstance(batch, Batch):
        batch = Batch.of(batch)
    known = _Known(existing)
    problems: list[Problem] = []
    for item in batch.items:
        record = item.record
        rid = record_id(record)
        out = _Checker(item, batch.name, problems)
        if rid in known.ids:  # its ref and model would clash too; saying so would only confuse
            where = known.ids[rid]
            out((), f"this record is already recorded at {where}" if where.startswith("index")
                else f"the same record as {where}")
            continue
        if record.ref is not None and record.ref in known.refs:
            out(("ref",), f"ref {record.ref!r} is already used at {known.refs[record.ref]}")
        if record.supersedes is not None and not known.resolves(record.supersedes):
            out(("supersedes",), f"no earlier record has ref or id {record.supersedes!r}")
        _check_models(item, known, out)
        _check_framework_refs(item, known, frameworks, out)
        _check_roadmap_and_review(item, known, out)
        known.add(rid, record, item.label)
    return problems


class _Checker:
    """Collects problems about one record, positioned at the offending field."""

    def __init__(self, item: LoadedRecord, name: str, problems: list[Problem]):
        self.item, self.name, self.problems = item, name, problems

    def __call__(self, field: tuple[str | int, ...], message: str) -> None:
        self.problems.append(self.item.problem(field, message, self.name))


def _model_fields(record: Record) -> list[tuple[tuple[str | int, ...], str]]:
    """(field path, model id) for every field of `record` that names a model."""
    if isinstance(record, ModelRecord):
        return [(("parent",), record.parent)] if record.parent else []
    if isinstance(record, (SafeguardRecord, ExemptionRecord)):
        return [(("scope",), record.scope)] if record.scope else []
    if isinstance(record, (EscapeRecord, StatementRecord)):
        return [(("models", i), m) for i, m in enumerate(record.models_ or [])]
    model = getattr(record, "model", None)
    return [(("model",), model)] if isinstance(model, str) else []


def _check_models(item: LoadedRecord, known: _Known, out: _Checker) -> None:
    record = item.record
    if isinstance(record, ModelRecord) and record.id in known.models:
        corrected = known.kinds.get(record.supersedes or "")
        if not (isinstance(corrected, ModelRecord) and corrected.id == record.id):
            out(("id",), f"model {record.id!r} is already defined at {known.models[record.id]} "
                         "(to correct it, add `supersedes:` naming that record)")
    for field, model in _model_fields(record):
        if isinstance(record, ModelRecord) and model == record.id:
            out(field, f"model {model!r} cannot be its own parent")
        elif model not in known.models:
            out(field, f"unknown model {model!r}: define it first with a `model` record")


def _check_framework_refs(item: LoadedRecord, known: _Known, frameworks: Sequence[Framework],
                          out: _Checker) -> None:
    record = item.record
    if record.kind == "framework":
        out(("kind",), "framework versions are published with `mast framework publish FILE`, "
                       "which checks the file and its approvals")
        return
    if isinstance(record, NoticeRecord):
        if record.about is None or known.resolves(record.about):
            return
        ids = {x.id for f in frameworks for x in (*f.commitments, *f.escape_clauses, *f.thresholds)}
        if record.about not in ids:
            hint = "" if frameworks else f" ({PUBLISH_FIRST})"
            out(("about",), f"{record.about!r} is neither an earlier record's ref or id nor a "
                            f"commitment, escape clause or threshold id{hint}")
        return
    if not isinstance(record, (DeterminationRecord, SafeguardRecord, ExemptionRecord, EscapeRecord)):
        return
    framework = framework_in_force(frameworks, record.at)
    if framework is None:
        out(("kind",), f"a {record.kind} record names part of a framework, but {PUBLISH_FIRST}")
        return
    version = f"{framework.id} {framework.version}"
    if isinstance(record, DeterminationRecord):
        if framework.threshold(record.threshold) is None:
            names = ", ".join(t.id for t in framework.thresholds) or "none"
            out(("threshold",), _rename_hint(frameworks, framework, "threshold", record.threshold)
                or f"unknown threshold {record.threshold!r} in {version} "
                   f"(in force at this record's time; its thresholds: {names})")
    elif isinstance(record, (SafeguardRecord, ExemptionRecord)):
        addresses = framework.safeguard_ids()
        if record.safeguard not in addresses:
            shape = "" if "/" in record.safeguard else "; a safeguard is addressed standard/safeguard"
            out(("safeguard",), _rename_hint(frameworks, framework, "safeguard", record.safeguard)
                or f"unknown safeguard {record.safeguard!r} in {version}{shape} "
                   f"(known: {', '.join(sorted(addresses)) or 'none'})")
    elif isinstance(record, EscapeRecord):
        if framework.escape_clause(record.clause) is None:
            names = ", ".join(c.id for c in framework.escape_clauses) or "none"
            out(("clause",), _rename_hint(frameworks, framework, "escape_clause", record.clause)
                or f"unknown escape clause {record.clause!r} in {version} (its escape clauses: {names})")


_NOUNS = {"threshold": "threshold", "safeguard": "safeguard", "escape_clause": "escape clause"}


def _rename_hint(frameworks: Sequence[Framework], in_force: Framework, kind: str, name: str) -> str:
    """The message for a record naming an element by an id it does not have in the version
    in force at the record's time, when a rename explains it: an id from before a rename
    (say the new one), or one from after it (say the one in force then). "" otherwise.

    Records are checked by the version in force at their time, so records made before a
    rename keep working under the old id; a record for a later moment must use the new id,
    and the message says which."""
    ordered = in_effect_order(frameworks)
    k = next(i for i, f in enumerate(ordered) if f is in_force)
    noun, here = _NOUNS[kind], f"{in_force.id} {in_force.version}"
    earlier = [j for j in range(k) if name in element_ids(ordered[j], kind)]
    if earlier:
        current, steps = name, []
        for m in range(earlier[-1] + 1, k + 1):
            step = renamed_ids(ordered[m - 1], ordered[m])[kind]
            if current in step:
                current = step[current]
                steps.append(f"to {current!r} in version {ordered[m].version}")
            elif current not in element_ids(ordered[m], kind):
                return ""  # removed, not renamed
        if steps:
            return (f"{noun} {name!r} was renamed {' and '.join(steps)}; use {current!r} "
                    f"(its id in {here}, in force at this record's time)")
    later = [m for m in range(k + 1, len(ordered)) if name in element_ids(ordered[m], kind)]
    if later:
        current = name
        for m in range(later[0], k, -1):
            back = {new: old for old, new in renamed_ids(ordered[m - 1], ordered[m])[kind].items()}
            if current in back:
                current = back[current]
            elif current not in element_ids(ordered[m - 1], kind):
                return ""  # added later, not renamed
        return (f"{noun} {name!r} is called {current!r} in {here}, in force at this record's time "
                f"({name!r} from version {ordered[later[0]].version} on); use {current!r}")
    return ""


# ---------------------------------------------------------------- roadmap and external review


def _check_roadmap_and_review(item: LoadedRecord, known: _Known, out: _Checker) -> None:
    """Roadmap versions are whole and new; grades name a goal of a published version; a
    reviewer's key is an Ed25519 verifier key; a review is signed by a registered reviewer
    and is of an edition the log knows (docs/roadmap.md)."""
    record = item.record
    if isinstance(record, RoadmapVersionRecord):
        roadmap = record.roadmap
        data = roadmap.model_dump(mode="json", by_alias=True, exclude_none=True)
        digest = sha256_hex(canonical_bytes(data))
        if record.sha256 != digest:
            out(("sha256",), f"does not match the roadmap's canonical JSON (its SHA-256 is {digest})")
        seen: set[str] = set()
        for i, goal in enumerate(roadmap.goals):
            if goal.id in seen:
                out(("roadmap", "goals", i, "id"), f"duplicate goal id {goal.id!r}")
            seen.add(goal.id)
            if not goal.grades or len(set(goal.grades)) != len(goal.grades):
                out(("roadmap", "goals", i, "grades"), "expected a non-empty list of distinct grades")
        key = (roadmap.id, roadmap.version)
        if key in known.roadmaps:
            out(("roadmap", "roadmap", "version"),
                f"roadmap {roadmap.id} {roadmap.version} is already published; give the new version a new version number")
    elif isinstance(record, RoadmapRecord):
        if not known.roadmaps:
            return  # no roadmap yet: a backfilled grade is taken as written
        goals = [g for r in known.roadmaps.values() for g in [r.roadmap.goal(record.goal)] if g is not None]
        if not goals:
            names = sorted({g.id for r in known.roadmaps.values() for g in r.roadmap.goals})
            out(("goal",), f"unknown roadmap goal {record.goal!r} (goals of the published roadmaps: "
                           f"{', '.join(names) or 'none'})")
        elif all(record.status not in g.grades for g in goals):
            out(("status",), f"{record.status!r} is not a grade of goal {goals[-1].id} "
                             f"(its grades: {', '.join(goals[-1].grades)})")
    elif isinstance(record, ReviewerRecord):
        try:
            parse_verifier_key(record.key)
        except ValueError as exc:
            out(("key",), f"{exc} (expected an Ed25519 verifier key, <name>+<hash>+<base64>, "
                          "as `mast review keygen` writes it)")
            return
        registered = known.reviewers.get(record.name, [])
        if registered and record.supersedes not in {n for i, r in registered for n in (i, r.ref) if n}:
            out(("name",), f"reviewer {record.name!r} is already registered; to change its key, add "
                           "`supersedes:` naming that record")
    elif isinstance(record, ReviewRecord):
        registered = known.reviewers.get(record.reviewer, [])
        if not registered:
            names = ", ".join(sorted(known.reviewers)) or "none"
            out(("reviewer",), f"unknown reviewer {record.reviewer!r}: register it first with a `reviewer` "
                               f"record (its name and Ed25519 key); registered: {names}")
        elif not any(verify_review(r.key, record) for _, r in registered):
            out(("signature",), f"the signature does not verify against the key registered for "
                                f"{record.reviewer!r}: the review was changed after signing, or signed "
                                "with another key")
        if record.report not in known.reports and not known.has_blob(record.report):
            out(("report",), f"no report record or stored edition has sha256 {record.report}: a review "
                             "must be of a published edition (publish it first, or record it with a "
                             "`report` record)")


_ED25519 = 0x01


def parse_verifier_key(text: str) -> bytes:
    """The 32-byte Ed25519 public key of a signed-note verifier key `<name>+<hash>+<base64>`
    (type 0x01, key hash checked). The same form as `mast.ledger.keys.Verifier.text()`;
    parsed here because records sit below the ledger."""
    import base64
    import binascii
    import hashlib

    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not parts[0]:
        raise ValueError("malformed key: expected three '+'-separated fields")
    name, hash_hex, b64 = parts
    try:
        raw = base64.b64decode(b64.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ValueError("malformed key: bad base64") from None
    if len(raw) != 33 or raw[0] != _ED25519:
        raise ValueError("not an Ed25519 key (expected a type byte 0x01 and 32 key bytes)")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + raw).digest()
    if len(hash_hex) != 8 or digest[:4].hex() != hash_hex.lower():
        raise ValueError(f"key hash {hash_hex!r} does not match the key")
    return raw[1:]


def verify_review(key_text: str, review: ReviewRecord) -> bool:
    """Whether `review.signature` (`ed25519:<base64>`) is the registered key's signature
    over `review.signed_message()`."""
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    scheme, _, b64 = review.signature.partition(":")
    if scheme != "ed25519":
        return False
    try:
        public = parse_verifier_key(key_text)
        signature = base64.b64decode(b64.encode("ascii"), validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return False
    if len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, review.signed_message())
    except InvalidSignature:
        return False
    return True
