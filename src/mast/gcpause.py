"""Pausing Python's cyclic garbage collector around bulk work.

Reading a million entries, verifying the log and assessing a large workspace allocate
millions of small acyclic objects; the collector would scan them over and over for nothing
(15–50% of the time). Shared by `records`, `ledger` and `engine`, which import nothing else
of each other for it.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
