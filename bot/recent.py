"""A small bounded map whose entries expire: what one process remembers about recent citizens."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentCache(Generic[K, V]):
    """Least recently used entries go first; an entry older than `ttl_seconds` counts as unknown."""

    def __init__(self, size: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._size = size
        self._ttl = ttl_seconds
        self._clock = clock

    def get(self, key: K) -> V | None:
        """The remembered value, or None when the caller must look it up."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at > self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def store(self, values: Mapping[K, V]) -> None:
        """Remember values (the oldest entries are dropped beyond the size)."""
        now = self._clock()
        for key, value in values.items():
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        """Drop one entry, so the next `get` looks it up again."""
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)
