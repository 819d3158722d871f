"""The one source of "now". Tests swap it with `use_clock` to freeze or move time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime


def _system_now() -> datetime:
    return datetime.now(UTC)


_now: Callable[[], datetime] = _system_now


def utcnow() -> datetime:
    return _now()


@contextmanager
def use_clock(now: Callable[[], datetime]) -> Iterator[None]:
    global _now
    previous, _now = _now, now
    try:
        yield
    finally:
        _now = previous
