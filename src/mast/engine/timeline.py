"""Time as half-open intervals `[start, end)` and piecewise-constant step functions.

The engine computes every rule as the set of moments at which it is broken; a finding is
one maximal interval of that set. `since` and `until` then fall out of the arithmetic, and
`--history` is the intervals that ended before `as_of`.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from typing import Callable, Generic, Iterable, Sequence, TypeVar

from mast.vocabulary import UTC

#: Sentinels for the open ends of time.
START = datetime.min.replace(tzinfo=UTC)
END = datetime.max.replace(tzinfo=UTC)

Interval = tuple[datetime, datetime]
Intervals = list[Interval]

T = TypeVar("T")


def normalize(spans: Iterable[Interval]) -> Intervals:
    """Sorted, non-empty, non-overlapping, with touching intervals merged."""
    out: Intervals = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two normalized interval lists."""
    out: Intervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """`a` minus `b`, both normalized."""
    out: Intervals = []
    j = 0
    for start, end in a:
        cur = start
        while j < len(b) and b[j][1] <= cur:
            j += 1
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cur:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            if cur >= end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def union(*lists: Intervals) -> Intervals:
    return normalize(span for spans in lists for span in spans)


def clip(spans: Intervals, start: datetime, end: datetime) -> Intervals:
    """`spans` restricted to `[start, end)`."""
    if start >= end or not spans:
        return []
    if spans[0][0] >= start and spans[-1][1] <= end:
        return spans
    return intersect(spans, [(start, end)])


class Steps(Generic[T]):
    """A value that changes at given moments: `value(t)` is the last change at or before `t`.

    Before the first change the value is `initial`.
    """

    __slots__ = ("times", "values", "initial")

    def __init__(self, changes: Sequence[tuple[datetime, T]] = (), initial: T | None = None):
        self.times: list[datetime] = []
        self.values: list[T] = []
        self.initial = initial
        for moment, value in changes:
            self.set(moment, value)

    def set(self, moment: datetime, value: T) -> None:
        """Record a change; changes must arrive in time order. Equal values are merged."""
        if self.times and moment < self.times[-1]:
            raise ValueError("changes must be added in time order")
        if self.times and moment == self.times[-1]:
            self.values[-1] = value
            if len(self.values) > 1 and self.values[-2] == value:
                self.times.pop()
                self.values.pop()
            return
        current = self.values[-1] if self.values else self.initial
        if value == current:
            return
        self.times.append(moment)
        self.values.append(value)

    def value(self, moment: datetime) -> T | None:
        i = bisect_right(self.times, moment)
        return self.values[i - 1] if i else self.initial

    def since(self, moment: datetime) -> datetime | None:
        """When the value in force at `moment` started (None if it is the initial value)."""
        i = bisect_right(self.times, moment)
        return self.times[i - 1] if i else None

    def segments(self) -> list[tuple[datetime, datetime, T | None]]:
        """`(start, end, value)` for every stretch of time, from START to END."""
        out = []
        prev, value = START, self.initial
        for moment, new in zip(self.times, self.values):
            if moment > prev:
                out.append((prev, moment, value))
            prev, value = moment, new
        out.append((prev, END, value))
        return out

    def where(self, predicate: Callable[[T | None], bool]) -> Intervals:
        """The moments at which `predicate(value)` holds."""
        out: Intervals = []
        start = START if predicate(self.initial) else None
        for moment, value in zip(self.times, self.values):
            if predicate(value):
                if start is None:
                    start = moment
            elif start is not None:
                if moment > start:
                    out.append((start, moment))
                start = None
        if start is not None:
            out.append((start, END))
        return out

    def __repr__(self) -> str:
        return f"Steps(initial={self.initial!r}, {list(zip(self.times, self.values))!r})"
