"""The `mast` command line: a thin face over the library (DESIGN §7)."""

from mast.cli.app import app, main

__all__ = ["app", "main"]
