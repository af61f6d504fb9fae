"""A bounded in-process cache of rows nearly every call reads, kept right by the bus.

Entries are tagged with the being ids whose rows they were read from. A write
calls :func:`invalidate` inside its transaction: this process drops the tagged
entries when the transaction commits, and (through ``Storage.publish``, the bus)
every other instance drops them when the commit's notification reaches it. A read
that raced with a drop does not store what it read (the generation moved on).
Entries live at most ``ttl`` seconds, so a missed notification is bounded, and the
cache is cleared whenever the bus says messages may have been missed (RESYNC).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any

__all__ = ["MISS", "RowCache"]

MISS: Any = object()  # what ``get`` answers for a key it does not hold (None is a value)


class RowCache:
    """Key -> value, least recently stored first out past ``size``, each for ``ttl`` s."""

    __slots__ = ("_entries", "_tags", "generation", "size", "ttl")

    def __init__(self, *, ttl: float, size: int) -> None:
        self.ttl = ttl
        self.size = size
        self.generation = 0  # moves on with every drop: reads begun before must not store
        self._entries: OrderedDict[Hashable, tuple[float, Any, tuple[str, ...]]] = OrderedDict()
        self._tags: dict[str, set[Hashable]] = {}

    def get(self, key: Hashable) -> Any:
        """The value stored under ``key`` and still fresh, else ``MISS``."""
        entry = self._entries.get(key)
        if entry is None:
            return MISS
        if entry[0] < time.monotonic():
            self._remove(key)
            return MISS
        return entry[1]

    def put(self, key: Hashable, value: Any, tags: Iterable[str | None], generation: int) -> None:
        """Store ``value`` read when ``generation`` was current; nothing if a drop came since."""
        if generation != self.generation or self.ttl <= 0:
            return
        if key in self._entries:
            self._remove(key)
        kept = tuple(tag for tag in tags if tag is not None)
        self._entries[key] = (time.monotonic() + self.ttl, value, kept)
        for tag in kept:
            self._tags.setdefault(tag, set()).add(key)
        while len(self._entries) > self.size:
            self._remove(next(iter(self._entries)))

    def drop(self, tags: Iterable[str]) -> None:
        """Forget every entry read from a row of one of these beings."""
        self.generation += 1
        for tag in tags:
            for key in tuple(self._tags.get(tag, ())):
                self._remove(key)

    def clear(self) -> None:
        """Forget everything (the bus may have missed messages)."""
        self.generation += 1
        self._entries.clear()
        self._tags.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[2]:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
