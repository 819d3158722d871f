"""The client-side pacer on a virtual clock, checked against the stand-ins' own leaky buckets."""

from __future__ import annotations

import asyncio
import heapq
import itertools

import pytest

from bot.services.delivery import StoreSlots
from bot.services.ratelimit import PlatformLimits, Rate, RateLimiter
from bot.store.store import Store
from tests.support.databases import postgres_schema_url
from tests.support.standins.ratelimit import Rate as StandInRate
from tests.support.standins.ratelimit import RateLimiter as StandInLimiter


class VirtualTime:
    """A clock that jumps straight to the next sleeper's wake-up time once every task is blocked."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), future))
        await future

    async def run(self, *coroutines):
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while not all(t.done() for t in tasks):
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers and not all(t.done() for t in tasks):
                when, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                future.set_result(None)
        return [t.result() for t in tasks]


async def send_times(limiter: RateLimiter, time: VirtualTime, chats: list[str], *, group: bool = False):
    """Acquire once per entry of `chats` (in order, all at once) and return (chat, time) per send."""
    sent: list[tuple[str, float]] = []

    async def one(chat: str) -> None:
        await limiter.acquire(chat, group=group)
        sent.append((chat, time.now))

    await time.run(*(one(chat) for chat in chats))
    return sent


def standin_violations(sent, limits: list[tuple[str, StandInRate]]) -> int:
    """Replay sends into the stand-in's limiter with no jitter allowance: how many it would refuse."""
    checker = StandInLimiter(jitter=0.0)
    refused = 0
    for chat, at in sent:
        buckets = [(name, "*" if name == "overall" else chat, rate) for name, rate in limits]
        refused += checker.admit(buckets, at) is not None
    return refused


async def test_overall_pace_is_the_full_allowance_after_a_small_burst():
    time = VirtualTime()
    limiter = RateLimiter(PlatformLimits(overall=Rate(30, 1.0, burst=5)), clock=time.clock, sleep=time.sleep)
    sent = await send_times(limiter, time, [f"chat{i}" for i in range(95)])
    times = sorted(at for _, at in sent)
    assert times[:5] == [0.0] * 5
    gaps = [b - a for a, b in zip(times[4:], times[5:])]
    assert min(gaps) == pytest.approx(1 / 30) and max(gaps) == pytest.approx(1 / 30)
    assert times[-1] == pytest.approx(90 / 30)  # 95 messages: 5 at once, then 90 at 30/s
    assert standin_violations(sent, [("overall", StandInRate(30, 1.0))]) == 0


async def test_one_slow_chat_does_not_hold_back_the_others():
    time = VirtualTime()
    limiter = RateLimiter(PlatformLimits(overall=Rate(30, 1.0, burst=5), per_chat=Rate(1, 1.0)),
                          clock=time.clock, sleep=time.sleep)
    sent = await send_times(limiter, time, ["busy"] * 5 + ["quiet1", "quiet2"])
    busy = [at for chat, at in sent if chat == "busy"]
    assert busy == pytest.approx([0, 1, 2, 3, 4])
    assert max(at for chat, at in sent if chat != "busy") < 0.1
    assert standin_violations(sent, [("overall", StandInRate(30, 1.0)),
                                     ("per_chat", StandInRate(1, 1.0, burst=1))]) == 0


async def test_group_chats_also_keep_the_per_group_pace():
    time = VirtualTime()
    limits = PlatformLimits(per_chat=Rate(10, 1.0), per_group=Rate(20, 60.0, burst=18))
    limiter = RateLimiter(limits, clock=time.clock, sleep=time.sleep)
    sent = await send_times(limiter, time, ["-100"] * 25, group=True)
    times = [at for _, at in sent]
    assert times[:18] == pytest.approx([i / 10 for i in range(18)])  # the burst, at the per-chat pace
    assert times[18:] == pytest.approx([3.0 * i for i in range(1, 8)])  # then one every three seconds
    assert standin_violations(sent, [("per_chat", StandInRate(10, 1.0)), ("per_group", StandInRate(20, 60.0))]) == 0
    private = RateLimiter(limits, clock=time.clock, sleep=time.sleep)
    start = time.now
    sent = await send_times(private, time, ["42"] * 25)
    assert sent[-1][1] - start == pytest.approx(2.4)  # private chats: per-chat pace only


async def test_a_refused_chat_waits_for_retry_after_and_a_flood_pauses_everyone():
    time = VirtualTime()
    limiter = RateLimiter(PlatformLimits(overall=Rate(30, 1.0), per_chat=Rate(1, 1.0)),
                          clock=time.clock, sleep=time.sleep, flood_chats=3, flood_window=1.0)
    await send_times(limiter, time, ["a", "b"])
    assert limiter.rate_limited("a", 3) is False
    start = time.now
    sent = await send_times(limiter, time, ["a", "b"])
    by_chat = dict(sent)
    assert by_chat["a"] - start == pytest.approx(3.0)
    assert by_chat["b"] - start < 1.01  # only its own pace
    limiter.rate_limited("a", 5)
    limiter.rate_limited("b", 5)
    assert limiter.rate_limited("c", 5) is True  # three chats refused within a second: a bot-wide flood
    start = time.now
    sent = await send_times(limiter, time, ["d"])
    assert sent[0][1] - start == pytest.approx(5.0)


async def test_chats_with_more_queued_get_the_overall_slots_first():
    time = VirtualTime()
    limiter = RateLimiter(PlatformLimits(overall=Rate(1, 1.0)), clock=time.clock, sleep=time.sleep)
    order: list[str] = []

    async def send(chat: str, priority: int) -> None:
        await limiter.acquire(chat, priority=priority)
        order.append(chat)

    await time.run(send("first", 0), send("short", 1), send("long", 9), send("medium", 4), send("short2", 1))
    assert order == ["long", "medium", "short", "short2", "first"]  # equal priorities: first come first
    limiter.close()


@pytest.mark.postgres
async def test_processes_sharing_the_overall_limit_in_postgresql_stay_within_it_together():
    """Three limiters, as three processes would have, each on its own connection to the database: together
    they send at the allowance, not three times it, and each gets its part of it."""
    import time as real_time

    with postgres_schema_url() as url:
        stores = [Store.open(url) for _ in range(3)]
        try:
            limits = PlatformLimits(overall=Rate(40, 1.0))
            limiters = []
            for store in stores:
                async def db(work, store=store):
                    def run():
                        with store.transaction() as tx:
                            return work(tx)
                    return await asyncio.to_thread(run)
                limiters.append(RateLimiter(limits, shared=StoreSlots(db, "telegram", limits.overall,
                                                                        real_time.monotonic)))
            sent: list[tuple[str, float]] = []

            async def one(limiter: RateLimiter, chat: str) -> None:
                await limiter.acquire(chat)
                sent.append((chat, real_time.monotonic()))

            started = real_time.monotonic()
            await asyncio.gather(*(one(limiter, f"p{n}-c{i}") for n, limiter in enumerate(limiters)
                                   for i in range(40)))
            took = real_time.monotonic() - started
            for limiter in limiters:
                limiter.close()
        finally:
            for store in stores:
                store.close()
    assert len(sent) == 120
    assert took >= 119 / 40 - 0.1  # 120 slots of one 40/s allowance, not three
    assert standin_violations(sorted(sent, key=lambda s: s[1]), [("overall", StandInRate(40, 1.0))]) == 0


@pytest.mark.postgres
def test_a_bot_wide_pause_in_postgresql_holds_every_process_back():
    with postgres_schema_url() as url:
        first, second = Store.open(url), Store.open(url)
        try:
            with first.transaction() as tx:
                slot, now = tx.rate_slots.reserve("telegram", 1, 0.1)
                assert slot == pytest.approx(now, abs=0.5)  # free: at once
                tx.rate_slots.pause("telegram", 5.0)  # one process saw the platform's flood answer
            with second.transaction() as tx:
                slot, now = tx.rate_slots.reserve("telegram", 3, 0.1)
            assert slot - now == pytest.approx(5.0, abs=0.5)  # the other waits as well
        finally:
            first.close()
            second.close()


async def test_a_chat_taken_over_from_another_process_keeps_its_pace():
    history = [("-5", 80.0 + n) for n in range(20)]  # the old holder sent 20 in the last 20 s

    async def takeover(seeded: bool) -> list[tuple[str, float]]:
        time = VirtualTime()
        limiter = RateLimiter(PlatformLimits(per_chat=Rate(1, 1.0), per_group=Rate(20, 60.0, burst=18)),
                              clock=time.clock, sleep=time.sleep)
        time.now = 100.0
        if seeded:
            limiter.seed("-5", [at for _, at in history], group=True)
        return await send_times(limiter, time, ["-5"] * 12, group=True)

    group_limit = [("per_group", StandInRate(20, 60.0))]
    assert standin_violations(history + await takeover(seeded=False), group_limit) > 0  # what seeding prevents
    assert standin_violations(history + await takeover(seeded=True), group_limit) == 0


async def test_rates_must_be_positive():
    with pytest.raises(ValueError):
        Rate(0, 1.0)
