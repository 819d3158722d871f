""""Now", in UTC. Services take a `Clock` from the composition root (bot/main.py); tests pass their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The system clock: the default `Clock`."""
    return datetime.now(UTC)
