"""A bounded memo table for results that are pure functions of their key.

The verification caches (``vendorproof.verify.context.VerificationCache``) are made of
these. A table holds at most ``limit`` entries; when it is full it is emptied and
starts again, so memory stays bounded without bookkeeping per lookup (the callers
replay the same few chains, CRLs and tokens again and again, and a refill is cheap).
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["Memo"]

_K = TypeVar("_K")
_V = TypeVar("_V")

#: Entries per table unless the owner says otherwise.
DEFAULT_LIMIT = 4096


class Memo(Generic[_K, _V]):
    """A dict of at most ``limit`` entries, emptied when full."""

    __slots__ = ("_table", "limit")

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            msg = f"a memo table needs room for one entry, not {limit}"
            raise ValueError(msg)
        self.limit = limit
        self._table: dict[_K, _V] = {}

    def get(self, key: _K) -> _V | None:
        """The remembered value, or ``None``."""
        return self._table.get(key)

    def put(self, key: _K, value: _V) -> None:
        """Remember ``value`` for ``key`` (emptying the table first when it is full)."""
        if key not in self._table and len(self._table) >= self.limit:
            self._table.clear()
        self._table[key] = value

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key: object) -> bool:
        return key in self._table
