"""The `mast` command line: a thin face over the library (DESIGN §7).

Only `main` is re-exported: re-exporting the Typer object as `app` would shadow the
`mast.cli.app` module, which tests and embedders import."""

from mast.cli.app import main

__all__ = ["main"]
