"""Which platform events a bot process has already received: kept in the store, so every process on
the database shares the memory and a restart keeps it.

Platforms redeliver an event (a webhook call) that was not answered in time; behind a load balancer
the redelivery may reach another process. Adapters ask `first_sighting` before acting on an event
and drop it when the answer is False.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.runtime.clock import Clock, utcnow
from bot.store.store import Store

log = logging.getLogger(__name__)

# Platforms retry for minutes after the first delivery, and some keep an event they could not deliver
# for up to a day.
KEEP = timedelta(days=1)
PRUNE_EVERY = timedelta(hours=1)  # per process: a few processes pruning now and then cost nothing


class SeenEvents:
    def __init__(self, store: Store, *, keep: timedelta = KEEP, prune_every: timedelta = PRUNE_EVERY,
                 clock: Clock = utcnow) -> None:
        if keep <= timedelta(0) or prune_every <= timedelta(0):
            raise ValueError("keep and prune_every must be positive")
        self.store = store
        self.keep = keep
        self.prune_every = prune_every
        self.clock = clock
        self._next_prune: datetime | None = None  # None: the first sighting after a start prunes
        self._prune_lock = threading.Lock()

    def record(self, platform: str, event_id: str) -> bool:
        """True if no process has received this event within `keep`; blocking (the store is sync)."""
        now = self.clock()
        with self.store.transaction() as tx:
            first = tx.events.first_sighting(platform, event_id, now)
        self._prune_if_due(now)
        return first

    async def first_sighting(self, platform: str, event_id: str) -> bool:
        """`record` off the event loop."""
        return await asyncio.to_thread(self.record, platform, event_id)

    def for_platform(self, platform: str) -> Callable[[str], Awaitable[bool]]:
        """What an adapter is given: `await first_sighting(event_id)`."""
        return functools.partial(self.first_sighting, platform)

    def _prune_if_due(self, now: datetime) -> None:
        with self._prune_lock:
            if self._next_prune is not None and now < self._next_prune:
                return
            self._next_prune = now + self.prune_every
        try:
            with self.store.transaction() as tx:
                forgotten = tx.events.prune(now - self.keep)
        except Exception:  # housekeeping only: the event itself was recorded, so it goes on
            log.warning("could not forget old event ids; trying again in %s", self.prune_every, exc_info=True)
            return
        log.debug("forgot %d event ids older than %s", forgotten, self.keep)
