"""Pacing outgoing messages within a platform's rate limits.

Every limit is a leaky bucket in its GCRA form: a bucket remembers the theoretical arrival time
(TAT) of the next message at the steady pace; a message may go once `TAT - (burst - 1) * interval`
has passed. That is the same rule as a bucket of size `burst` draining `count / per` messages a
second (aiolimiter, PTB's AIORateLimiter and our stand-ins), kept as one float per key.

A send first waits for its chat's own buckets (per chat, per group) and any pause of that chat,
then queues for a slot of the overall bucket: one dispatcher hands slots out exactly `interval`
apart, however many chats wait, highest priority first. The chat's buckets are charged at the
moment its slot comes, so a chat never goes faster than its own pace even when the overall queue
delayed it.

Several processes share the overall limit through `SharedSlots` (the database): the dispatcher then
takes its slots from there, a few at a time, so together they never exceed it, and a process alone
gets all of it. Per-chat buckets stay local: one process serves a chat at a time (chat leases).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Rate:
    count: float  # messages ...
    per: float  # ... per this many seconds
    burst: int = 1  # how many may go back to back before the pace applies

    def __post_init__(self) -> None:
        if self.count <= 0 or self.per <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs count > 0, per > 0 and burst >= 1, not {self}")

    @property
    def interval(self) -> float:
        return self.per / self.count


@dataclass(frozen=True)
class PlatformLimits:
    """A platform's documented limits, declared by its adapter; PlatformLimits() paces nothing."""

    overall: Rate | None = None  # every message of this bot
    per_chat: Rate | None = None  # each chat / channel
    per_group: Rate | None = None  # each chat that is not a private one, on top of per_chat


class SharedSlots(Protocol):
    """An overall limit kept outside this process, shared with the others that send for the same bot."""

    async def reserve(self, count: int) -> list[float]:
        """`count` consecutive slots of the limit, as times on this process's monotonic clock."""

    async def pause(self, seconds: float) -> None:
        """Nobody sends under the limit for `seconds`."""


class _Bucket:
    __slots__ = ("rate", "tat")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.tat = -math.inf

    def earliest(self) -> float:
        """When the next message may go."""
        return self.tat - (self.rate.burst - 1) * self.rate.interval

    def take(self, at: float) -> None:
        self.tat = max(self.tat, at) + self.rate.interval


class _ChatState:
    __slots__ = ("buckets", "lock", "users")

    def __init__(self, buckets: list[_Bucket]) -> None:
        self.buckets = buckets
        self.lock = asyncio.Lock()  # one send of a chat at a time: its buckets are charged in order
        self.users = 0


class RateLimiter:
    """Async pacing for one platform: `await acquire(chat)` returns when one message to `chat` may go.

    `clock` and `sleep` are injectable (monotonic seconds) so tests can run on a fake clock.
    A 429 is reported with `rate_limited(chat, retry_after)`: it pauses that chat, or every chat when
    several chats were refused within `flood_window` seconds (the bot as a whole is over its limit).
    """

    def __init__(self, limits: PlatformLimits, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep,
                 flood_chats: int = 3, flood_window: float = 1.0, shared: SharedSlots | None = None,
                 batch_s: float = 0.2) -> None:
        """`shared`: take the overall limit's slots from there (several processes), `batch_s` worth of
        slots at a time at most."""
        self.limits = limits
        self.shared = shared if limits.overall is not None else None
        self._batch = max(1, int(limits.overall.count / limits.overall.per * batch_s)) if limits.overall else 1
        self._reserved: deque[float] = deque()
        self.clock = clock
        self.sleep = sleep
        self.flood_chats = flood_chats
        self.flood_window = flood_window
        self._overall = _Bucket(limits.overall) if limits.overall else None
        self._paused_until = -math.inf
        self._chat_paused_until: dict[str, float] = {}
        self._chats: dict[str, _ChatState] = {}
        self._sweep_at = 1024
        self._waiting: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()
        self._dispatcher: asyncio.Task | None = None
        self._refusals: deque[tuple[float, str]] = deque()

    async def acquire(self, chat: str, *, group: bool = False, priority: float = 0) -> None:
        """Wait until one message to `chat` may go. Among chats waiting for the overall limit, higher
        `priority` goes first (delivery passes how many messages the chat still has queued: a chat
        with a long queue is paced by its own limit, so starting it early shortens the whole run)."""
        state = self._state(chat, group)
        state.users += 1
        try:
            async with state.lock:
                await self._acquire(chat, state, priority)
        finally:
            state.users -= 1
        if len(self._chats) > self._sweep_at:
            self._sweep()

    def _state(self, chat: str, group: bool) -> _ChatState:
        state = self._chats.get(chat)
        if state is None:
            rates = [self.limits.per_chat, self.limits.per_group if group else None]
            state = self._chats[chat] = _ChatState([_Bucket(rate) for rate in rates if rate is not None])
        return state

    async def _acquire(self, chat: str, state: _ChatState, priority: float) -> None:
        while True:
            now = self.clock()
            ready = max([self._chat_paused_until.get(chat, -math.inf), *(b.earliest() for b in state.buckets)])
            if ready > now:
                await self.sleep(ready - now)
                continue
            await self._overall_slot(priority)
            now = self.clock()
            if self._chat_paused_until.get(chat, -math.inf) > now:
                continue  # a 429 paused this chat while it waited for the slot
            for bucket in state.buckets:
                bucket.take(now)
            return

    async def _overall_slot(self, priority: float) -> None:
        """Queue for the next slot of the overall limit (and any bot-wide pause); one dispatcher hands
        slots out, `interval` apart, highest priority first, first come first served among equals."""
        if self._overall is None and self._paused_until <= self.clock():
            return
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._order), waiter))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch())
        await waiter

    async def _dispatch(self) -> None:
        if self.shared is not None:
            await self._dispatch_shared()
            return
        while self._waiting:
            now = self.clock()
            slot = max(now, self._paused_until)
            if self._overall is not None:
                slot = max(slot, self._overall.earliest())
            if slot > now:
                await self.sleep(slot - now)
                continue  # a pause may have begun meanwhile: look again
            while self._waiting:
                _, _, waiter = heapq.heappop(self._waiting)
                if not waiter.done():  # a cancelled waiter gives its turn away
                    if self._overall is not None:
                        self._overall.take(now)
                    waiter.set_result(None)
                    break

    async def _dispatch_shared(self) -> None:
        """Slots come from the shared limit, as many as there are waiters (up to a batch); a slot whose
        waiter went away is given to the next one, or lapses."""
        refill: asyncio.Future | None = None
        while self._waiting:
            if not self._reserved:
                refill = refill or asyncio.ensure_future(self.shared.reserve(min(len(self._waiting), self._batch)))
                self._reserved.extend(await refill)
                refill = None
            elif len(self._reserved) == 1 and refill is None and len(self._waiting) > 1:
                # Ask for the next ones while the last is still ahead: the round trip costs no slot.
                refill = asyncio.ensure_future(self.shared.reserve(min(len(self._waiting) - 1, self._batch)))
            now = self.clock()
            slot = max(self._reserved[0], self._paused_until)
            if slot > now:
                await self.sleep(slot - now)
                continue
            self._reserved.popleft()
            if slot < now - self.limits.overall.interval * self._batch:
                continue  # far in the past (this process was stalled): bunching them up could flood
            while self._waiting:
                _, _, waiter = heapq.heappop(self._waiting)
                if not waiter.done():
                    waiter.set_result(None)
                    break

    def seed(self, chat: str, sent_at: Iterable[float], *, group: bool = False) -> None:
        """The chat was served by another process until now: charge its buckets with the messages that
        process sent (monotonic times, oldest first), so that the chat's pace carries over."""
        state = self._state(chat, group)
        for at in sent_at:
            for bucket in state.buckets:
                bucket.take(at)

    def close(self) -> None:
        """Stop handing out slots (the waiters were cancelled by their owners)."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()

    def pause_chat(self, chat: str, seconds: float) -> None:
        until = self.clock() + seconds
        self._chat_paused_until[chat] = max(self._chat_paused_until.get(chat, -math.inf), until)

    def pause_all(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        if self.shared is not None:  # the others are over the limit too: pause them as well
            task = asyncio.ensure_future(self.shared.pause(seconds))
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    def rate_limited(self, chat: str, retry_after: float) -> bool:
        """A platform refused a message to `chat` with 429; True when it looks like a bot-wide flood."""
        now = self.clock()
        self._refusals.append((now, chat))
        while self._refusals and self._refusals[0][0] < now - self.flood_window:
            self._refusals.popleft()
        self.pause_chat(chat, retry_after)
        if len({key for _, key in self._refusals}) >= self.flood_chats:
            self.pause_all(retry_after)
            return True
        return False

    def _sweep(self) -> None:
        """Forget chats nobody waits for whose buckets have drained: memory stays bounded."""
        now = self.clock()
        for chat, state in list(self._chats.items()):
            if state.users == 0 and all(b.tat <= now for b in state.buckets):
                del self._chats[chat]
        for chat, until in list(self._chat_paused_until.items()):
            if until <= now:
                del self._chat_paused_until[chat]
        self._sweep_at = max(1024, 2 * len(self._chats))
