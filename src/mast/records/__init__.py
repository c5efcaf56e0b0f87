"""Records (DESIGN §4): their kinds, canonical form, loading, reference checks and the store.

Only the record kinds are imported here; the store and workspace are imported from their
modules, so that a reader of canonical JSON (`mast.ledger`) does not pull in SQLAlchemy.
"""

from mast.records.kinds import Record, parse_record, record_adapter

__all__ = ["Record", "parse_record", "record_adapter"]
