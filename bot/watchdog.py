"""The event-loop watchdog: how late the loop wakes a small periodic task, continuously.

Everything the bot does for every chat (commands, /healthz, sending) shares one event loop, so any
blocking call on it stalls them all. A task that asks to wake every `interval_s` and measures how late
it actually woke sees every such stall; the lag goes to /metrics, and a warning (at most one per
`warn_every_s`, with how many stalls it stands for) goes to the log when it passes `threshold_s`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from bot.metrics import Metrics

log = logging.getLogger(__name__)


class LoopWatchdog:
    def __init__(self, metrics: Metrics, *, threshold_s: float = 0.5, interval_s: float = 0.05,
                 warn_every_s: float = 60.0) -> None:
        self.metrics = metrics
        self.threshold_s = threshold_s
        self.interval_s = interval_s
        self.warn_every_s = warn_every_s
        self._task: asyncio.Task | None = None
        self._stalls = 0  # above the threshold since the last warning
        self._worst = 0.0
        self._last_warning = float("-inf")

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loop-watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            expected = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.observe(max(0.0, time.monotonic() - expected))

    def observe(self, lag_s: float) -> None:
        self.metrics.loop_lag(lag_s)
        if lag_s <= self.threshold_s:
            return
        self._stalls += 1
        self._worst = max(self._worst, lag_s)
        now = time.monotonic()
        if now - self._last_warning >= self.warn_every_s:
            log.warning("the event loop was blocked for %.2f s (%d stall(s) over %.2f s since the last warning); "
                        "every chat waited meanwhile", self._worst, self._stalls, self.threshold_s)
            self._last_warning, self._stalls, self._worst = now, 0, 0.0
