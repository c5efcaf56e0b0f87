"""`python -m mast`, the same as the `mast` console script."""

from mast.cli import main

main()
