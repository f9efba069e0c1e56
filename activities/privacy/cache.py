"""Unwrapped data keys in memory: bounded (least recently used goes first) and expiring.

Unwrapping a data key costs a database read (and a KMS call with KMS); a worker touches
the same leads again and again, so it keeps the keys it used, for `ttl` seconds at most:
a key erased by another process stops working here within that time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class KeyCache(Generic[V]):
    def __init__(self, *, size: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        # The codec runs on the event loop; the web app may share one from threads.
        self._lock = threading.Lock()

    def get(self, key: str) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            expires, value = found
            if self._clock() >= expires:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: str, value: V) -> None:
        if self._ttl <= 0:
            return
        with self._lock:
            self._items[key] = (self._clock() + self._ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def drop(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)
