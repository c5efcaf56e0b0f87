"""The framework file format (DESIGN §3): schema, loading with positions, checks."""

from mast.framework.model import (
    Amendment,
    ChangelogEntry,
    Commitment,
    EscapeClause,
    Framework,
    FrameworkInfo,
    Indicators,
    Requirement,
    Safeguard,
    Standard,
    Threshold,
)

__all__ = [
    "Amendment",
    "ChangelogEntry",
    "Commitment",
    "EscapeClause",
    "Framework",
    "FrameworkInfo",
    "Indicators",
    "Requirement",
    "Safeguard",
    "Standard",
    "Threshold",
]
