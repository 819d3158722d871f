"""The bot's one scheduler (APScheduler's AsyncIOScheduler), shared by every platform.

Jobs: polling the feeds every `poll_interval`, and one job per chat for its next daily digest. What
runs next lives in the database (`digest_schedules.next_run_at`), never only in the scheduler, so a
restart rebuilds the jobs from it. A digest that came due while the bot was down runs at start:
`DigestService.run_due` sends it when it was missed by at most `grace`, and skips it (logged)
otherwise. Each digest job, once run, schedules the chat's next one from the time stored with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime.clock import Clock, utcnow
from bot.services.digests import DigestService
from bot.store.store import Store

log = logging.getLogger(__name__)
POLL_JOB = "poll"
RETRY_AFTER_ERROR = timedelta(minutes=1)


def digest_job_id(chat_pk: int) -> str:
    return f"digest:{chat_pk}"


class Scheduler:
    def __init__(self, *, store: Store, digests: DigestService, poll: Callable[[], Awaitable[Any]],
                 poll_interval: timedelta, grace: timedelta = timedelta(hours=3),
                 clock: Clock = utcnow) -> None:
        """`poll`: one polling cycle of the feeds. `clock`: "now" for the digests (tests move it);
        the scheduler itself fires jobs by the system clock."""
        self.store = store
        self.digests = digests
        self.poll = poll
        self.poll_interval = poll_interval
        self.grace = grace
        self.clock = clock
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"misfire_grace_time": None,
                                                                      "coalesce": True})
        self._polling = False
        self._poll_again = False

    def start(self) -> None:
        """Start firing jobs (call it on the running event loop): the poll now, then every interval,
        and each chat's digest at the time stored for it (at once when it is overdue)."""
        self.scheduler.start()
        self.scheduler.add_job(self._poll_job, IntervalTrigger(seconds=self.poll_interval.total_seconds()),
                               id=POLL_JOB, next_run_time=datetime.now(UTC), max_instances=2,
                               replace_existing=True)
        with self.store.transaction() as tx:
            schedules = [(s.chat_pk, s.next_run_at) for s in tx.chats.schedules()]
        for chat_pk, next_run_at in schedules:
            self._plan_digest(chat_pk, next_run_at)
        log.info("scheduler started: polling every %s, %d daily digests", self.poll_interval, len(schedules))

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def reschedule_chat(self, chat_pk: int) -> None:
        """The chat's schedule changed (or went): plan its digest job from the database again."""
        with self.store.transaction() as tx:
            schedule = tx.chats.schedule(chat_pk)
            chat = tx.chats.chat(chat_pk)
            next_run_at = schedule.next_run_at if schedule and chat and chat.active else None
        if next_run_at is None:
            self._drop(digest_job_id(chat_pk))
        else:
            self._plan_digest(chat_pk, next_run_at)

    def poll_soon(self) -> None:
        """Poll the feeds now (a feed was just added) rather than at the next interval."""
        if self._polling:
            self._poll_again = True
        elif self.scheduler.get_job(POLL_JOB) is not None:
            self.scheduler.modify_job(POLL_JOB, next_run_time=datetime.now(UTC))

    def next_digest_at(self, chat_pk: int) -> datetime | None:
        job = self.scheduler.get_job(digest_job_id(chat_pk))
        return job.next_run_time if job else None

    def _plan_digest(self, chat_pk: int, run_at: datetime) -> None:
        # An overdue run goes now; run_due then decides between sending and skipping.
        fire_at = max(run_at, datetime.now(UTC))
        self.scheduler.add_job(self._digest_job, DateTrigger(run_date=fire_at), args=[chat_pk],
                               id=digest_job_id(chat_pk), replace_existing=True)

    def _drop(self, job_id: str) -> None:
        if self.scheduler.get_job(job_id) is not None:
            self.scheduler.remove_job(job_id)

    async def _digest_job(self, chat_pk: int) -> None:
        try:
            run = await asyncio.to_thread(self.digests.run_due, chat_pk, self.clock(), grace=self.grace)
        except Exception:
            log.exception("digest of chat %s failed; trying again in %s", chat_pk, RETRY_AFTER_ERROR)
            self._plan_digest(chat_pk, datetime.now(UTC) + RETRY_AFTER_ERROR)
            return
        if run.next_run_at is not None and self.scheduler.running:
            self._plan_digest(chat_pk, run.next_run_at)

    async def _poll_job(self) -> None:
        if self._polling:  # a poll is running: it goes round once more instead
            self._poll_again = True
            return
        self._polling = True
        try:
            while True:
                self._poll_again = False
                try:
                    await self.poll()
                except Exception:
                    log.exception("polling the feeds failed")
                if not self._poll_again:
                    return
        finally:
            self._polling = False
