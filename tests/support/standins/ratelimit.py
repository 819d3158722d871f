"""Rate limits as the stand-ins enforce them: leaky buckets, one per (limit, key).

A bucket of `Rate(count, per, burst)` fills by one per accepted message and drains at count/per
per second; a message that would overflow `burst` (default: `count`) is a violation. That is the
semantics of aiolimiter, which PTB's AIORateLimiter uses, so a client limiting itself with the same
numbers stays clean. `jitter` (seconds) forgives arrivals a little earlier than a perfectly paced
client would send them: requests travel through a socket and a thread switch before they are seen.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rate:
    count: float  # messages ...
    per: float  # ... per this many seconds
    burst: float | None = None  # bucket size; defaults to `count`

    @property
    def capacity(self) -> float:
        return self.burst if self.burst is not None else self.count

    @property
    def drain_per_second(self) -> float:
        return self.count / self.per


@dataclass(frozen=True)
class Violation:
    limit: str  # e.g. "per_chat", "per_group", "overall", "per_channel"
    key: str  # the chat / channel the limit applies to ("*" for overall)
    method: str
    at: float  # time.monotonic()
    retry_after: int


class _Bucket:
    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.level = 0.0
        self.updated: float | None = None

    def level_at(self, now: float) -> float:
        if self.updated is None:
            return 0.0
        return max(0.0, self.level - (now - self.updated) * self.rate.drain_per_second)

    def wait_needed(self, now: float, jitter: float) -> float:
        """Seconds until one more message fits (0 when it fits now, allowing `jitter`)."""
        overflow = self.level_at(now) + 1 - self.rate.capacity - jitter * self.rate.drain_per_second
        return max(0.0, overflow / self.rate.drain_per_second)

    def take(self, now: float) -> None:
        self.level = self.level_at(now) + 1
        self.updated = now


class RateLimiter:
    """Buckets keyed by (limit name, key); a message is accepted only if every bucket it touches has room."""

    def __init__(self, jitter: float = 0.05) -> None:
        self.jitter = jitter
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def admit(self, limits: list[tuple[str, str, Rate]], now: float) -> tuple[str, str, int] | None:
        """Take one message from every (name, key, rate) bucket; or return (name, key, retry_after)."""
        with self._lock:
            buckets = [(name, key, self._bucket(name, key, rate)) for name, key, rate in limits]
            worst: tuple[str, str, float] | None = None
            for name, key, bucket in buckets:
                wait = bucket.wait_needed(now, self.jitter)
                if wait > 0 and (worst is None or wait > worst[2]):
                    worst = (name, key, wait)
            if worst is not None:
                # The APIs answer whole seconds, and never 0.
                return worst[0], worst[1], max(1, math.ceil(worst[2]))
            for _, _, bucket in buckets:
                bucket.take(now)
            return None

    def _bucket(self, name: str, key: Any, rate: Rate) -> _Bucket:
        bucket = self._buckets.get((name, key))
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[(name, key)] = _Bucket(rate)
        return bucket

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
