"""A workspace: a directory with `mast.toml` and `.mast/` (the database and the log's keys).

The workspace is where the rules that span layers live: a batch is checked against the log
and the published frameworks before it is appended; it is appended together with the Merkle
tree's new hashes and a signed checkpoint, in one transaction; and a framework version is
published only with the approvals the framework itself demands.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping, Sequence

from mast.errors import IntegrityFailure, InvalidInput, MastError, Problem, Refused
from mast.framework.loader import framework_from_data
from mast.framework.model import Framework
from mast.framework.revision import check_revision, valid_emergency
from mast.ledger import log as ledger_log
from mast.ledger.keys import Signer, Verifier, load_signer, load_verifier_file, write_key_files
from mast.records.canonical import MAX_RECORD_BYTES, canonical_bytes, record_bytes, sha256_hex
from mast.records.kinds import FrameworkRecord, Record
from mast.records.loader import Batch
from mast.framework.versions import framework_in_force
from mast.records.references import check_references
from mast.records.store import Entry, Store
from mast.sourcemap import SourceDocument
from mast.vocabulary import UTC

CONFIG = "mast.toml"
STATE_DIR = ".mast"
DB_FILE = "mast.db"
KEYS_DIR = "keys"
#: a framework record larger than this keeps its document in a blob (leaves stay < 64 KiB)
INLINE_LIMIT = MAX_RECORD_BYTES // 2

_CONFIG_TEMPLATE = '''\
# A mast workspace, created by `mast init`. See docs/records.md.

# The name of this workspace's log: it appears in signed checkpoints, so that a verifier
# knows which log a checkpoint is about. Keep it stable once records have been published.
origin = "{origin}"

# Where records are stored. The default is SQLite in .mast/mast.db; a future version will
# accept a PostgreSQL URL here:
# database = "postgresql://user@host/mast"
'''


@dataclass
class Workspace:
    """An opened workspace. `store` is its append-only log of records."""

    root: Path
    config: dict[str, Any]
    store: Store
    _frameworks: list[Framework] | None = field(default=None, repr=False)

    # -- creating and opening ----------------------------------------------------------------

    @classmethod
    def init(cls, directory: str | Path) -> "Workspace":
        """Create a workspace in `directory` (made if missing); refuses an existing one."""
        root = Path(directory)
        if (root / CONFIG).exists() or (root / STATE_DIR).exists():
            raise InvalidInput(Problem(str(root), None, None,
                                       "already a mast workspace (mast.toml or .mast/ exists); nothing was changed"))
        if root.exists() and not root.is_dir():
            raise InvalidInput(Problem(str(root), None, None, "not a directory"))
        root.mkdir(parents=True, exist_ok=True)
        origin = f"mast.local/{_slug(root.resolve().name) or 'workspace'}"
        (root / STATE_DIR).mkdir()
        keys = root / STATE_DIR / KEYS_DIR
        keys.mkdir(mode=0o700)
        key_path, _ = write_key_files(keys, origin)
        store = Store.sqlite(root / STATE_DIR / DB_FILE, create=True)
        try:
            with store.engine.begin() as conn:
                ledger_log.create_tables(conn)
                ledger_log.LogWriter(origin, load_signer(key_path)).sign_empty(conn)
        finally:
            store.close()
        (root / CONFIG).write_text(_CONFIG_TEMPLATE.format(origin=origin), encoding="utf-8")
        return cls.open(root)

    @classmethod
    def open(cls, directory: str | Path) -> "Workspace":
        root = Path(directory)
        config_path = root / CONFIG
        if not config_path.is_file():
            raise InvalidInput(Problem(str(root), None, None, "not a mast workspace: run mast init"))
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(Problem(str(config_path), None, None, f"cannot read: {exc}")) from None
        database = config.get("database")
        if database is None:
            db_path = root / STATE_DIR / DB_FILE
            if not db_path.is_file():
                raise MastError(f"{db_path}: the workspace's database is missing")
            store = Store.sqlite(db_path)
        elif isinstance(database, str):
            store = Store.open(database)
        else:
            raise InvalidInput(Problem(str(config_path), None, None, "database: expected a URL string"))
        return cls(root, config, store)

    @property
    def origin(self) -> str:
        return str(self.config.get("origin") or f"mast.local/{_slug(self.root.resolve().name)}")

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    # -- the log -----------------------------------------------------------------------------

    @property
    def signer(self) -> Signer:
        """The log's signing key (`.mast/keys/log.key`, mode 0600)."""
        return load_signer(self.state_dir / KEYS_DIR / "log.key")

    @property
    def verifier(self) -> Verifier:
        return load_verifier_file(self.state_dir / KEYS_DIR / "log.pub")

    def witnesses(self) -> list[Verifier]:
        """Witness keys configured in mast.toml (`witnesses = ["name+hash+key", ...]`)."""
        from mast.ledger.keys import load_verifier

        out = []
        for text in self.config.get("witnesses", []):
            try:
                out.append(load_verifier(text, cosigner=True))
            except (InvalidInput, ValueError):
                out.append(load_verifier(text))
        return out

    def _append(self, records: Sequence[Record], blobs: Sequence[bytes] = (),
                checked_through: int | None = None) -> list[Entry]:
        """Append with the tree's hashes and a signed checkpoint, in one transaction.
        `checked_through`: the log's size when the caller compared the records with its ids
        (the store then compares them only with the entries appended since; default: all)."""
        writer = ledger_log.LogWriter(self.origin, self.signer)
        return self.store.append(records, within=writer.extend, blobs=blobs, checked_through=checked_through)

    def close(self) -> None:
        self.store.close()

    # -- reading -----------------------------------------------------------------------------

    def frameworks(self) -> list[Framework]:
        """The published framework versions, in log order, rebuilt from `framework` records."""
        if self._frameworks is None:
            self._frameworks = [framework_of(e, self.store) for e in self.store.entries(kind="framework")]
        return list(self._frameworks)

    # -- writing -----------------------------------------------------------------------------

    def add(self, records: Batch | Sequence[Record]) -> list[Entry]:
        """Check a batch against the log and the frameworks, then append it whole.

        A `Batch` (from `mast.records.loader`) carries the positions of its records, so that
        problems cite FILE:LINE; plain records are accepted too.
        """
        batch = records if isinstance(records, Batch) else Batch.of(records)
        # The reference check reads every id of the log and refuses those already there; the
        # log's size, taken before it reads, tells the store which entries it has seen, so
        # that appending compares the batch only with what another writer appended since.
        seen = self.store.count()
        problems = check_references(batch, self.store, self.frameworks())
        if problems:
            raise InvalidInput(problems)
        self._check_determination_approvals(batch.records)
        return self._append(batch.records, checked_through=seen)

    def _check_determination_approvals(self, records: Sequence[Record]) -> None:
        """Every determination needs the sign-off of each role in `determinations.approvals`
        of the version in force at its `at`, however it reaches the log (exit 3 otherwise)."""
        frameworks = self.frameworks()
        for record in records:
            if record.kind != "determination":
                continue
            framework = framework_in_force(frameworks, record.at)
            if framework is None:
                continue
            required = framework.determinations.approvals
            missing = [role for role in required if not record.approved_by.get(role)]
            if missing:
                raise Refused(
                    f"a determination under {framework.id} {framework.version} needs the approval of "
                    f"{', '.join(missing)} (its determinations.approvals: {', '.join(required)}); "
                    f"give --approve ROLE=NAME (or approved_by) for each. Nothing was written.")

    def publish(self, framework: Framework, source: SourceDocument | str | None = None,
                approvals: Mapping[str, str] | None = None, at: datetime | None = None,
                emergency: str | None = None) -> Entry:
        """Publish a checked framework version as a `framework` record.

        `approvals` maps role -> name. The revision gate (`mast.framework.revision`) decides
        against the latest published version, by log order: every weakening acknowledged in
        the changelog, the sign-off of each role the version it amends lists (the first
        version: its own), and its `amendment.notice` respected unless `emergency` gives a
        reason, which the record keeps. A workspace holds one framework: a version with
        another framework id is invalid input. `source` (the file's document or name) is
        what problems cite. Nothing is written when anything is refused.
        """
        name = source.name if isinstance(source, SourceDocument) else (source or "<framework>")
        approvals = dict(approvals or {})
        if at is not None and at.utcoffset() is None:
            raise InvalidInput(Problem(name, None, None, "--at: expected a time with a zone, e.g. 2025-05-14T00:00:00Z"))
        published = self.frameworks()
        previous = published[-1] if published else None
        if previous is not None and previous.id != framework.id:
            raise InvalidInput(_at_field(source, name, ("framework", "id"),
                                         f"framework.id: this workspace's framework is {previous.id} (published "
                                         f"{', '.join(f.version for f in published)}), not {framework.id}; "
                                         "a workspace holds one framework: publish another in its own workspace"))
        if any(f.version == framework.version for f in published):
            raise InvalidInput(_at_field(source, name, ("framework", "version"),
                                         f"framework.version: {framework.id} {framework.version} is already published; "
                                         "give the new version a new version number"))
        when = at or datetime.now(UTC).replace(microsecond=0)
        emergency = valid_emergency(emergency)
        check_revision(previous, framework, approvals=approvals, published_at=when, emergency=emergency)
        data = framework_data(framework)
        document = canonical_bytes(data)
        record = FrameworkRecord(kind="framework", at=when, framework=data, sha256=sha256_hex(document),
                                 approved_by=approvals, emergency=emergency)
        blobs: list[bytes] = []
        if len(record_bytes(record)) > INLINE_LIMIT:
            # too large for a leaf: the document goes to a blob, the record names it
            record = FrameworkRecord(kind="framework", at=when, sha256=sha256_hex(document), id=framework.id,
                                     version=framework.version, effective=framework.effective,
                                     approved_by=approvals, emergency=emergency)
            blobs = [document]
        [entry] = self._append([record], blobs)
        self._frameworks = None
        return entry


def framework_data(framework: Framework) -> dict[str, Any]:
    """A validated framework as the JSON data a `framework` record carries; reading it back
    (`framework_of`) gives an equal `Framework`."""
    return framework.model_dump(mode="json", by_alias=True, exclude_none=True)


def framework_of(entry: Entry, store: Store | None = None) -> Framework:
    """The framework version a `framework` entry published (read from its blob when the
    record names the document by hash only; the blob must hash to the record's `sha256`)."""
    record = entry.record
    assert isinstance(record, FrameworkRecord)
    data = record.framework
    if data is None:
        blob = store.blob(record.sha256) if store is not None else None
        if blob is None or sha256_hex(blob) != record.sha256:
            raise IntegrityFailure(f"log entry {entry.index}: the framework document {record.sha256} is missing "
                                   "or does not match its hash")
        data = json.loads(blob)
    return framework_from_data(data, f"log entry {entry.index}")


def _at_field(source: SourceDocument | str | None, name: str, path: tuple[str, ...], message: str) -> Problem:
    """A problem about one field of the framework being published, at its line when known."""
    if isinstance(source, SourceDocument):
        return source.problem(path, message)
    return Problem(name, None, None, message)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name.lower()).strip("-")
