"""The delivery loop: drains the outbox through the platform adapters, within each platform's limits.

Each part of a message goes: wait for a rate-limit slot -> `mark_sending` (committed) -> send ->
record it (committed). So after a crash a row is either untouched (claimed: sent later, once), or
was in flight (sending: marked unknown and never resent blindly), or fully recorded. Between the
parts of a long message the row is back in `claimed`, so a retry resumes after the last part that
arrived.

Chats are served concurrently (one task per chat with work, each sending its messages in order),
so the overall allowance is used however slow each chat's own pace is.

Several processes, on any machines, share one outbox with no setting of their own: each start gets
a fresh identity (`process_identity()`), claims rows only of chats it holds the lease of, and renews
its row and chat leases while it works (every lease/3). A process that dies stops renewing: once its
leases lapse (`lease`, 10 s by default) the others take its chats and rows over; a row it was sending
becomes unknown (never resent blindly). A chat served by one process at a time keeps the per-chat and
per-group limits; the overall limit is shared through the database (`rate_slots`) on PostgreSQL, and
kept in the process on SQLite (one process).

A send that timed out without an answer may or may not have arrived. It is sent once more
(`timeout_resends`), after the limiter's next slot for that chat: a possible duplicate rather than a
silent loss. A second timeout gives it up as unknown (logged, counted in the metrics).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from bot.runtime.clock import Clock, utcnow
from bot.domain.models import ChatRef, Message
from bot.runtime.metrics import Metrics
from bot.services.ratelimit import PlatformLimits, Rate, RateLimiter
from bot.services.sending import SendError, Sender
from bot.store.outbox import ClaimedDelivery
from bot.store.store import Store, Tx

log = logging.getLogger(__name__)
T = TypeVar("T")
PartResult = Literal["sent", "more", "stopped", "again"]
GroupTest = Callable[[str], bool]  # a chat key -> is it a group chat


def process_identity() -> str:
    """This process start's own name as a lease owner: never the same twice, whatever the machine."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off for 5xx and connection errors, then give up (recorded as failed)."""

    base_s: float = 2.0
    cap_s: float = 600.0
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1)))


class StoreSlots:
    """An overall limit shared by every process on the database (`SharedSlots`, see bot/store/rate_slots.py)."""

    def __init__(self, db: Callable[[Callable[[Tx], Any]], Awaitable[Any]], key: str, rate: Rate,
                 monotonic: Callable[[], float]) -> None:
        self.db, self.key, self.interval, self.burst, self.monotonic = db, key, rate.interval, rate.burst, monotonic

    async def reserve(self, count: int) -> list[float]:
        first, db_now = await self.db(lambda tx: tx.rate_slots.reserve(self.key, count, self.interval, self.burst))
        start = self.monotonic() + (first - db_now)
        return [start + n * self.interval for n in range(count)]

    async def pause(self, seconds: float) -> None:
        await self.db(lambda tx: tx.rate_slots.pause(self.key, seconds))


class DeliveryLoop:
    def __init__(self, *, store: Store, senders: Mapping[str, Sender], limits: Mapping[str, PlatformLimits],
                 group_chats: Mapping[str, GroupTest] | None = None, worker: str | None = None,
                 lease: timedelta = timedelta(seconds=10), prefetch: int | None = None, max_in_flight: int = 64,
                 backoff: Backoff = Backoff(), idle_poll_s: float = 1.0, timeout_resends: int = 1,
                 shared_limits: bool | None = None,
                 clock: Clock = utcnow, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, metrics: Metrics | None = None) -> None:
        """`senders`: one per platform. `limits`: per platform, as the platform declares them; a
        platform without any is refused (PlatformLimits() paces nothing, on purpose). `group_chats`:
        per platform, whether a chat key alone marks a group chat (paced by the per-group limit);
        without one, the kind recorded with the chat decides. `worker`: the lease owner's name (default: a new `process_identity()`).
        `shared_limits`: take the overall limits from the database (default: on PostgreSQL, where
        other processes may deliver too). `prefetch`: rows held at a time (default: 1000 alone; shared,
        about 4 s of sending at the overall limits: what a process that dies holds up until its lease lapses)."""
        self.store = store
        self.senders = dict(senders)
        self.worker = worker or process_identity()
        self.lease = lease
        self.backoff = backoff
        self.idle_poll_s = idle_poll_s
        self.timeout_resends = timeout_resends
        self.clock = clock
        self.monotonic = monotonic
        self.metrics = metrics
        if missing := sorted(set(self.senders) - set(limits)):
            raise ValueError(f"no rate limits for {', '.join(missing)}: each platform declares its own")
        self.group_chats = dict(group_chats or {})
        shared = store.dialect == "postgresql" if shared_limits is None else shared_limits
        # Alone (SQLite), a long look ahead lets chats with long queues start early; shared, what a process
        # holds waits for its lease if it dies, so it holds a few seconds' worth.
        self.prefetch = prefetch or (_prefetch_for([limits[platform] for platform in self.senders])
                                     if shared else 1000)
        self.limiters = {}
        for platform in self.senders:
            platform_limits = limits[platform]
            slots = (StoreSlots(self._db, platform, platform_limits.overall, monotonic)
                     if shared and platform_limits.overall else None)
            self.limiters[platform] = RateLimiter(platform_limits, clock=monotonic, sleep=sleep, shared=slots)
        # sent, failed, unknown, retried, rate_limited, forbidden, timeout_resent
        self.stats: Counter[str] = Counter()
        self._slots = asyncio.Semaphore(max_in_flight)
        self._held: dict[int, ClaimedDelivery] = {}
        self._queues: dict[tuple[str, str], deque[ClaimedDelivery]] = {}
        self._chat_tasks: dict[tuple[str, str], asyncio.Task] = {}
        self._in_flight: set[asyncio.Task] = set()
        self._wake = asyncio.Event()
        self._pump_task: asyncio.Task | None = None
        self._stopping = False

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover what a crash left behind, then deliver in the background until `stop()`."""
        if self._pump_task is not None:
            return
        self._stopping = False
        log.info("delivery runs as %s", self.worker)
        await self._recover()
        self._pump_task = asyncio.create_task(self._pump(), name=f"{self.worker}-pump")

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Finish the requests in flight, give back what was claimed but not sent."""
        if self._pump_task is None:
            return
        self._stopping = True
        self._wake.set()
        tasks = [self._pump_task, *self._chat_tasks.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._in_flight:
            await asyncio.wait(list(self._in_flight), timeout=timeout_s)
        for limiter in self.limiters.values():
            limiter.close()
        held = list(self._held)
        self._held.clear()
        self._queues.clear()
        self._chat_tasks.clear()
        self._pump_task = None

        def hand_back(tx: Tx) -> None:
            tx.outbox.release(held)
            tx.outbox.release_chats(self.worker, now=self.clock())

        await self._db(hand_back)

    async def drain(self, *, poll_s: float = 0.1) -> None:
        """Deliver until every message (to the platforms we have senders for) reached a final state,
        retries included, whichever process sent it."""
        await self.start()
        while True:
            if not self._held:
                outstanding = await self._db(lambda tx: tx.outbox.outstanding(platforms=tuple(self.senders)))
                if outstanding == 0 and not self._held:
                    return
            await asyncio.sleep(poll_s)

    async def _recover(self) -> None:
        """Rows a dead process was sending when its lease lapsed: unknown, logged and counted."""
        try:
            interrupted = await self._db(lambda tx: tx.outbox.recover_interrupted(now=self.clock()))
        except Exception:
            log.exception("recovering interrupted deliveries failed; trying again later")
            return
        for platform, count in interrupted.items():
            log.warning("%d %s deliveries were in flight when their process died: recorded as unknown, "
                        "not resent (they may have arrived)", count, platform)
            self.stats["unknown"] += count
            if self.metrics:
                self.metrics.delivery("unknown", platform=platform, count=count)

    # ----- claiming --------------------------------------------------------------------------

    async def _pump(self) -> None:
        renew_every = self.lease.total_seconds() / 3
        last_renewal = time.monotonic()
        while not self._stopping:
            self._wake.clear()
            room = self.prefetch - len(self._held)
            got = 0
            if room >= self.prefetch // 2:
                try:
                    claimed = await self._db(lambda tx: tx.outbox.claim(
                        worker=self.worker, now=self.clock(), lease=self.lease, limit=room,
                        platforms=tuple(self.senders)))
                except Exception:
                    log.exception("claiming deliveries failed; trying again")
                    claimed = []
                got = len(claimed)
                for delivery in claimed:
                    self._enqueue(delivery)
            if time.monotonic() - last_renewal >= renew_every:
                if self._held:
                    await self._renew_leases()
                await self._recover()
                last_renewal = time.monotonic()
            if got < room or len(self._held) >= self.prefetch // 2:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.idle_poll_s)
                except asyncio.TimeoutError:
                    pass

    async def _renew_leases(self) -> None:
        held, until = list(self._held), self.clock() + self.lease
        chats = sorted({delivery.chat_pk for delivery in self._held.values()})

        def renew(tx: Tx) -> None:
            tx.outbox.extend_lease(held, worker=self.worker, lease_until=until)
            tx.outbox.extend_chat_leases(chats, worker=self.worker, lease_until=until)

        try:
            await self._db(renew)
        except Exception:
            log.exception("renewing delivery leases failed")

    def _enqueue(self, delivery: ClaimedDelivery) -> None:
        self._held[delivery.id] = delivery
        key = (delivery.platform, delivery.chat_key)
        if delivery.recent_sends:  # taken over from another process: keep the chat's pace
            wall, mono = self.clock(), self.monotonic()
            self.limiters[delivery.platform].seed(
                delivery.chat_key, [mono - (wall - at).total_seconds() for at in delivery.recent_sends],
                group=self._is_group(delivery))
        self._queues.setdefault(key, deque()).append(delivery)
        if key not in self._chat_tasks:
            self._chat_tasks[key] = asyncio.create_task(self._serve_chat(key))

    def _done(self, delivery: ClaimedDelivery) -> None:
        self._held.pop(delivery.id, None)
        if len(self._held) < self.prefetch // 2:
            self._wake.set()

    # ----- sending ---------------------------------------------------------------------------

    async def _serve_chat(self, key: tuple[str, str]) -> None:
        """One chat's queue, in order; ends when the queue is empty."""
        queue = self._queues[key]
        try:
            while queue and not self._stopping:
                delivery = queue[0]
                try:
                    await self._deliver(delivery)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivery %s failed unexpectedly; it stays claimed until its lease ends",
                                  delivery.id)
                queue.popleft()
                self._done(delivery)
        finally:
            if self._chat_tasks.get(key) is asyncio.current_task():
                del self._chat_tasks[key]
                if not queue:
                    self._queues.pop(key, None)
                elif not self._stopping:  # claimed while we were finishing: serve them
                    self._chat_tasks[key] = asyncio.create_task(self._serve_chat(key))

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        sender = self.senders[delivery.platform]
        try:
            parts = sender.render(Message.from_dict(delivery.payload))
        except Exception as exc:
            log.exception("delivery %s cannot be rendered", delivery.id)
            reason = f"cannot render: {exc!r}"
            await self._finish(delivery, "failed", lambda tx: tx.outbox.mark_failed(delivery.id, reason))
            return
        chat = ChatRef(delivery.platform, delivery.chat_key, delivery.thread_id)
        limiter = self.limiters[delivery.platform]
        group = self._is_group(delivery)
        queue = self._queues.get((delivery.platform, delivery.chat_key), ())
        timeouts = delivery.timeouts
        index = delivery.parts_sent
        while index < len(parts):
            # A chat with more to send starts earlier: its own pace, not the overall one, bounds it.
            backlog = len(queue) + len(parts) - index - 1
            await limiter.acquire(delivery.chat_key, group=group, priority=backlog)
            # Once the part is marked as sending, a stop must not cut it off halfway: shield it.
            attempt = asyncio.ensure_future(self._send_part(
                delivery, chat, parts[index], first=index == delivery.parts_sent, last=index == len(parts) - 1,
                may_resend=timeouts < self.timeout_resends))
            self._in_flight.add(attempt)
            attempt.add_done_callback(self._in_flight.discard)
            result = await asyncio.shield(attempt)
            if result == "again":
                timeouts += 1
                continue
            if result != "more":
                return
            index += 1
        if delivery.parts_sent >= len(parts):  # every part arrived before; only the record was missing
            await self._finish(delivery, "sent", lambda tx: tx.outbox.mark_sent(
                delivery.id, now=self.clock(), message_id=None))

    async def _send_part(self, delivery: ClaimedDelivery, chat: ChatRef, part: Any, *, first: bool,
                         last: bool, may_resend: bool) -> PartResult:
        if not await self._db(lambda tx: tx.outbox.mark_sending(delivery.id, worker=self.worker,
                                                                new_attempt=first)):
            log.info("delivery %s is no longer ours (lease lost or chat deactivated)", delivery.id)
            return "stopped"
        try:
            async with self._slots:
                message_id = await self.senders[delivery.platform].send_part(chat, part)
        except SendError as error:
            if error.outcome == "unknown" and may_resend:
                log.warning("delivery %s timed out without an answer (%s); sending it once more (it may "
                            "arrive twice)", delivery.id, error.detail)
                await self._finish(delivery, "timeout_resent", lambda tx: tx.outbox.record_timeout(delivery.id))
                return "again"
            await self._failed(delivery, error)
            return "stopped"
        except Exception as exc:  # a bug in an adapter: the request may have left, so never resend
            log.exception("sender for %s raised unexpectedly", delivery.platform)
            reason = f"unexpected: {exc!r}"
            await self._finish(delivery, "unknown", lambda tx: tx.outbox.mark_unknown(delivery.id, reason))
            return "stopped"
        if last:
            await self._finish(delivery, "sent", lambda tx: tx.outbox.mark_sent(
                delivery.id, now=self.clock(), message_id=message_id))
            scheduled = delivery.payload.get("scheduled_at") if delivery.kind == "digest" else None
            if scheduled and self.metrics:
                lag = self.clock() - datetime.fromisoformat(scheduled)
                self.metrics.digest_lag(lag.total_seconds(), stage="sent")
            return "sent"
        await self._db(lambda tx: tx.outbox.record_part_sent(delivery.id))
        return "more"

    async def _failed(self, delivery: ClaimedDelivery, error: SendError) -> None:
        outbox_error = str(error)
        attempts = delivery.attempts + 1
        if error.outcome == "rate_limited":
            wait = max(error.retry_after or 1.0, 0.0)
            flood = self.limiters[delivery.platform].rate_limited(delivery.chat_key, wait)
            log.warning("%s: 429 for chat %s, pausing %s for %.0f s", delivery.platform, delivery.chat_key,
                        "every chat" if flood else "the chat", wait)
            not_before = self.clock() + timedelta(seconds=wait)
            await self._finish(delivery, "rate_limited", lambda tx: tx.outbox.retry_later(
                delivery.id, not_before=not_before, error=outbox_error))
        elif error.outcome == "retry" and attempts < self.backoff.max_attempts:
            not_before = self.clock() + self.backoff.delay(attempts)
            log.info("delivery %s: %s; retrying after %s", delivery.id, error, not_before)
            await self._finish(delivery, "retried", lambda tx: tx.outbox.retry_later(
                delivery.id, not_before=not_before, error=outbox_error))
        elif error.outcome == "retry":
            await self._finish(delivery, "failed", lambda tx: tx.outbox.mark_failed(
                delivery.id, f"gave up after {attempts} attempts: {outbox_error}"))
        elif error.outcome == "forbidden":
            log.warning("chat %s:%s is gone (%s); deactivating it", delivery.platform, delivery.chat_key,
                        error.detail)

            def forbidden(tx: Tx) -> None:
                tx.outbox.mark_failed(delivery.id, outbox_error)
                tx.chats.deactivate(delivery.chat_pk, error.detail)

            await self._finish(delivery, "forbidden", forbidden)
        elif error.outcome == "unknown":
            log.warning("delivery %s dropped: timed out again (%s); it may or may not have arrived, and is "
                        "not sent again", delivery.id, error.detail)
            await self._finish(delivery, "unknown", lambda tx: tx.outbox.mark_unknown(delivery.id, outbox_error))
        else:
            log.warning("delivery %s failed: %s", delivery.id, error)
            await self._finish(delivery, "failed", lambda tx: tx.outbox.mark_failed(delivery.id, outbox_error))

    async def _finish(self, delivery: ClaimedDelivery, outcome: str, record: Callable[[Tx], Any]) -> None:
        await self._db(record)
        self.stats[outcome] += 1
        if self.metrics:
            self.metrics.delivery(outcome, platform=delivery.platform)

    def _is_group(self, delivery: ClaimedDelivery) -> bool:
        if delivery.chat_kind != "private":
            return True
        key_marks_group = self.group_chats.get(delivery.platform)
        return key_marks_group is not None and key_marks_group(delivery.chat_key)

    async def _db(self, work: Callable[[Tx], T]) -> T:
        """One transaction, off the event loop: pacing keeps its precision while the database works."""
        def run() -> T:
            with self.store.transaction() as tx:
                return work(tx)

        return await asyncio.to_thread(run)




def _prefetch_for(limits: list[PlatformLimits]) -> int:
    """About 4 s of sending at the overall limits: enough to keep the allowance busy between claims,
    little enough that what a dead process held waits only for its lease."""
    rates = [limit.overall.count / limit.overall.per for limit in limits if limit.overall is not None]
    if not rates or len(rates) < len(limits):
        return 1000  # a platform with no overall limit: as fast as its chats allow
    return min(5000, max(100, int(4 * sum(rates))))
