"""The delivery loop: drains the outbox through the platform adapters, within each platform's limits.

Each part of a message goes: wait for a rate-limit slot -> `mark_sending` (committed) -> send ->
record it (committed). So after a crash a row is either untouched (claimed: sent later, once), or
was in flight (sending: marked unknown and never resent blindly), or fully recorded. Between the
parts of a long message the row is back in `claimed`, so a retry resumes after the last part that
arrived.

Chats are served concurrently (one task per chat with work, each sending its messages in order),
so the overall allowance is used however slow each chat's own pace is.

Several processes: each runs with its own `shard=(index, count)` and takes only the chats whose
id % count == index. A chat is then paced by one process only, so per-chat and per-group limits
hold exactly, and each process paces the bot-wide limit at 1/count of the allowance, so the sum
holds too - without any shared rate state. Rows are still claimed with FOR UPDATE SKIP LOCKED and a
lease, so a process that is down (its lease expired) or misconfigured never causes a double send.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from bot.clock import utcnow
from bot.domain.models import ChatRef, Message
from bot.metrics import Metrics
from bot.services.ratelimit import DEFAULT_LIMITS, NO_LIMITS, PlatformLimits, RateLimiter
from bot.services.sending import SendError, Sender
from bot.store.outbox import ClaimedDelivery
from bot.store.store import Store, Tx

log = logging.getLogger(__name__)
T = TypeVar("T")
PartResult = Literal["sent", "more", "stopped"]


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off for 5xx and connection errors, then give up (recorded as failed)."""

    base_s: float = 2.0
    cap_s: float = 600.0
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.cap_s, self.base_s * 2 ** max(0, attempts - 1)))


class DeliveryLoop:
    def __init__(self, *, store: Store, senders: Mapping[str, Sender],
                 limits: Mapping[str, PlatformLimits] | None = None, shard: tuple[int, int] = (0, 1),
                 worker: str | None = None, lease: timedelta = timedelta(minutes=2), prefetch: int = 1000,
                 max_in_flight: int = 64, backoff: Backoff = Backoff(), idle_poll_s: float = 1.0,
                 clock: Callable[[], datetime] = utcnow, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, metrics: Metrics | None = None) -> None:
        """`senders`: one per platform. `limits`: per platform (default: Telegram's and Slack's
        documented limits). `shard`: this process's (index, count) when several deliver at once; its
        `worker` name must stay the same across restarts (default: from the shard) so that a restart
        knows what its previous life held."""
        index, count = shard
        if not 0 <= index < count:
            raise ValueError(f"shard index {index} is not in 0..{count - 1}")
        self.store = store
        self.senders = dict(senders)
        self.shard = shard
        self.worker = worker or f"delivery-{index}-of-{count}"
        self.lease = lease
        self.prefetch = prefetch
        self.backoff = backoff
        self.idle_poll_s = idle_poll_s
        self.clock = clock
        self.metrics = metrics
        chosen = DEFAULT_LIMITS if limits is None else limits
        self.limiters = {platform: RateLimiter(chosen.get(platform, NO_LIMITS).share(count),
                                               clock=monotonic, sleep=sleep)
                         for platform in self.senders}
        self.stats: Counter[str] = Counter()  # sent, failed, unknown, retried, rate_limited, forbidden
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
        released, unknown, interrupted = await self._db(self._recover)
        if released or unknown or interrupted:
            log.warning("delivery %s recovered: %d released, %d unknown (were in flight at a crash)",
                        self.worker, released, unknown + interrupted)
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
        if held:
            await self._db(lambda tx: tx.outbox.release(held))

    def wake(self) -> None:
        """New messages were queued: look now rather than at the next idle poll."""
        self._wake.set()

    async def drain(self, *, poll_s: float = 0.1) -> None:
        """Deliver until every message of this shard (to the platforms we have senders for) reached a
        final state, retries included."""
        await self.start()
        while True:
            if not self._held:
                outstanding = await self._db(lambda tx: tx.outbox.outstanding(
                    shard=self.shard, platforms=tuple(self.senders)))
                if outstanding == 0 and not self._held:
                    return
            await asyncio.sleep(poll_s)

    def _recover(self, tx: Tx) -> tuple[int, int, int]:
        released, unknown = tx.outbox.recover_worker(self.worker)
        return released, unknown, tx.outbox.recover_interrupted(now=self.clock())

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
                        platforms=tuple(self.senders), shard=self.shard))
                except Exception:
                    log.exception("claiming deliveries failed; trying again")
                    claimed = []
                got = len(claimed)
                for delivery in claimed:
                    self._enqueue(delivery)
            if time.monotonic() - last_renewal >= renew_every and self._held:
                await self._renew_leases()
                last_renewal = time.monotonic()
            if got < room or len(self._held) >= self.prefetch // 2:
                try:
                    await asyncio.wait_for(self._wake.wait(), self.idle_poll_s)
                except asyncio.TimeoutError:
                    pass

    async def _renew_leases(self) -> None:
        held, until = list(self._held), self.clock() + self.lease
        try:
            await self._db(lambda tx: tx.outbox.extend_lease(held, worker=self.worker, lease_until=until))
        except Exception:
            log.exception("renewing delivery leases failed")

    def _enqueue(self, delivery: ClaimedDelivery) -> None:
        self._held[delivery.id] = delivery
        key = (delivery.platform, delivery.chat_key)
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
            parts = sender.render(Message.from_dict(delivery.payload), chat_kind=delivery.chat_kind)
        except Exception as exc:
            log.exception("delivery %s cannot be rendered", delivery.id)
            await self._finish(delivery, "failed", lambda tx: tx.outbox.mark_failed(
                delivery.id, f"cannot render: {exc!r}"))
            return
        chat = ChatRef(delivery.platform, delivery.chat_key, delivery.thread_id)
        limiter = self.limiters[delivery.platform]
        group = delivery.chat_kind != "private" or delivery.chat_key.startswith(("-", "@"))
        queue = self._queues.get((delivery.platform, delivery.chat_key), ())
        for index in range(delivery.parts_sent, len(parts)):
            # A chat with more to send starts earlier: its own pace, not the overall one, bounds it.
            backlog = len(queue) + len(parts) - index - 1
            await limiter.acquire(delivery.chat_key, group=group, priority=backlog)
            # Once the part is marked as sending, a stop must not cut it off halfway: shield it.
            attempt = asyncio.ensure_future(self._send_part(
                delivery, chat, parts[index], first=index == delivery.parts_sent, last=index == len(parts) - 1))
            self._in_flight.add(attempt)
            attempt.add_done_callback(self._in_flight.discard)
            if await asyncio.shield(attempt) != "more":
                return
        if delivery.parts_sent >= len(parts):  # every part arrived before; only the record was missing
            await self._finish(delivery, "sent", lambda tx: tx.outbox.mark_sent(
                delivery.id, now=self.clock(), message_id=None))

    async def _send_part(self, delivery: ClaimedDelivery, chat: ChatRef, part: Any, *, first: bool,
                         last: bool) -> PartResult:
        if not await self._db(lambda tx: tx.outbox.mark_sending(delivery.id, worker=self.worker,
                                                                new_attempt=first)):
            log.info("delivery %s is no longer ours (lease lost or chat deactivated)", delivery.id)
            return "stopped"
        try:
            async with self._slots:
                message_id = await self.senders[delivery.platform].send_part(chat, part)
        except SendError as error:
            await self._failed(delivery, error)
            return "stopped"
        except Exception as exc:  # a bug in an adapter: the request may have left, so never resend
            log.exception("sender for %s raised unexpectedly", delivery.platform)
            await self._finish(delivery, "unknown", lambda tx: tx.outbox.mark_unknown(
                delivery.id, f"unexpected: {exc!r}"))
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
                tx.chats.deactivate(delivery.chat_id, error.detail)

            await self._finish(delivery, "forbidden", forbidden)
        elif error.outcome == "unknown":
            log.warning("delivery %s: outcome unknown (%s); not resending", delivery.id, error.detail)
            await self._finish(delivery, "unknown", lambda tx: tx.outbox.mark_unknown(delivery.id, outbox_error))
        else:
            log.warning("delivery %s failed: %s", delivery.id, error)
            await self._finish(delivery, "failed", lambda tx: tx.outbox.mark_failed(delivery.id, outbox_error))

    async def _finish(self, delivery: ClaimedDelivery, outcome: str, record: Callable[[Tx], Any]) -> None:
        await self._db(record)
        self.stats[outcome] += 1
        if self.metrics:
            self.metrics.delivery(outcome, platform=delivery.platform)

    async def _db(self, work: Callable[[Tx], T]) -> T:
        """One transaction, off the event loop: pacing keeps its precision while the database works."""
        def run() -> T:
            with self.store.transaction() as tx:
                return work(tx)

        return await asyncio.to_thread(run)
