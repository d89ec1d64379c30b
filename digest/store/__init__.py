"""Named queries over a passed-in Session, one module per kind of row."""

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
IN_LIMIT = 900  # values per IN (...): well under SQLite's bound-parameter limit


def chunks(values: Sequence[T], size: int = IN_LIMIT) -> Iterator[Sequence[T]]:
    """Split `values` for queries that take them as bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
