"""A bounded memory of answers Slack gave about people, each kept for a while (users.info is rate-limited
and asked at most once per person in that time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
LIMIT = 4096  # people remembered at once; expired ones are dropped when it is reached


class Expiring(Generic[T]):
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._entries: dict[str, tuple[T, float]] = {}

    def get(self, key: str) -> tuple[bool, T | None]:
        """(True, value) while `key` is remembered, else (False, None)."""
        entry = self._entries.get(key)
        return (True, entry[0]) if entry is not None and entry[1] > self.clock() else (False, None)

    def put(self, key: str, value: T, seconds: float) -> None:
        now = self.clock()
        if len(self._entries) >= LIMIT:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
        self._entries[key] = (value, now + seconds)
