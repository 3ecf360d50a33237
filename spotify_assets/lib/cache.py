"""Facts derived from the database, kept per process and reused while the data they were
derived from is unchanged.

A value is stored with the version of the data it was read at (the transactional counts of
`catalog_changes` and `vector_changes`, migrations 0011 and 0022); the caller reads the version
*before* it reads the data, so a write between the two costs a recompute, never a stale value.
One caller computes a missing value while others asking for the same key wait for it (a web
app's concurrent requests do not all scan the table at once). Least recently used values are
dropped beyond `size`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class VersionedCache(Generic[V]):
    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[Hashable, tuple[Hashable, V]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}
        self.computed = 0  # values computed (not found current): what tests and benchmarks read

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], V]) -> V:
        """The value of `key` at `version`: the kept one when it was computed at that version,
        else `compute()` (kept for the next caller)."""
        with self._lock:
            kept = self._values.get(key)
            if kept is not None and kept[0] == version:
                self._values.move_to_end(key)
                return kept[1]
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:  # one computes; the others then find its value
            with self._lock:
                kept = self._values.get(key)
                if kept is not None and kept[0] == version:
                    return kept[1]
            try:
                value = compute()
                with self._lock:
                    self.computed += 1
                    self._values[key] = (version, value)
                    self._values.move_to_end(key)
                    while len(self._values) > self.size:
                        self._values.popitem(last=False)
            finally:
                with self._lock:
                    self._computing.pop(key, None)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
