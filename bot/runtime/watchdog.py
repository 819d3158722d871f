"""The event-loop watchdog: how late the loop wakes a small periodic task, continuously.

Everything the bot does for every chat (commands, /healthz, sending) shares one event loop, so any
blocking call on it stalls them all. A task that asks to wake every `interval_s` and measures how late
it actually woke sees every such stall. Part of a lag can be the host's doing rather than the bot's: on
Linux, the time the loop's thread sat ready but waiting for a CPU (its scheduler statistics) is taken
out, and what is left is how long the bot's own work held the loop. Both go to /metrics; a warning (at
most one per `warn_every_s`, counting the stalls it stands for) goes to the log when the loop was held
longer than `threshold_s`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from bot.runtime.metrics import Metrics

log = logging.getLogger(__name__)
_SCHEDSTAT = Path("/proc/thread-self/schedstat")  # "ns on a CPU, ns waiting for one, time slices"


def waited_for_cpu_s() -> float:
    """Seconds this thread has spent ready to run but waiting for a CPU (0 where the system does not say)."""
    try:
        return int(_SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class LoopWatchdog:
    def __init__(self, metrics: Metrics, *, threshold_s: float = 0.5, interval_s: float = 0.05,
                 warn_every_s: float = 60.0) -> None:
        self.metrics = metrics
        self.threshold_s = threshold_s
        self.interval_s = interval_s
        self.warn_every_s = warn_every_s
        self._task: asyncio.Task | None = None
        self._stalls = 0  # held over the threshold since the last warning
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
            expected, waited = time.monotonic() + self.interval_s, waited_for_cpu_s()
            await asyncio.sleep(self.interval_s)
            lag = max(0.0, time.monotonic() - expected)
            self.observe(lag, host_s=waited_for_cpu_s() - waited)

    def observe(self, lag_s: float, *, host_s: float = 0.0) -> None:
        """One check: `lag_s` late, of which the loop's thread waited `host_s` for a CPU."""
        held = max(0.0, lag_s - max(0.0, host_s))
        self.metrics.loop_lag(lag_s, held_s=held)
        if held <= self.threshold_s:
            return
        self._stalls += 1
        self._worst = max(self._worst, held)
        now = time.monotonic()
        if now - self._last_warning >= self.warn_every_s:
            log.warning("the event loop was held for %.2f s (%d stall(s) over %.2f s since the last warning); "
                        "every chat waited meanwhile", self._worst, self._stalls, self.threshold_s)
            self._last_warning, self._stalls, self._worst = now, 0, 0.0
