"""The scheduler: digests at the chat's local time across daylight-saving changes, catch-up after an
outage, jobs rebuilt from the database, and feed polling."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.domain.schedule import ScheduleError, next_run, parse_timezone
from bot.services.scheduling import Scheduler
from bot.services.digests import DigestService
from bot.store.tables import Delivery

GRACE = timedelta(hours=3)


@pytest.fixture(scope="module")
def embed():
    from summarizer import get_summarizer

    return get_summarizer().embed


def scheduled_chat(store, key: str, local: str, zone: str, next_run_at: datetime) -> int:
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", key, timezone=zone)
        tx.chats.set_empty_digest(chat.id, "say")  # every day sends something, so every run shows in the outbox
        tx.chats.set_schedule(chat.id, local_time=local, timezone=zone, thread_id=None, next_run_at=next_run_at,
                              covered_until=next_run_at - timedelta(days=1))
        return chat.id


def digest_keys(store) -> list[str]:
    with store.transaction() as tx:
        return list(tx.session.scalars(select(Delivery.dedupe_key).where(Delivery.kind == "digest")
                                       .order_by(Delivery.id)))


@pytest.mark.parametrize("zone, local, start, expected_utc", [
    # Berlin springs forward on 29 March 2026: 07:30 local is 06:30 UTC before, 05:30 UTC after.
    ("Europe/Berlin", "07:30", datetime(2026, 3, 27, tzinfo=UTC),
     ["2026-03-27 06:30", "2026-03-28 06:30", "2026-03-29 05:30", "2026-03-30 05:30"]),
    # 02:30 does not exist that night in Berlin: that day it runs when the clock jumps (03:00 CEST).
    ("Europe/Berlin", "02:30", datetime(2026, 3, 27, tzinfo=UTC),
     ["2026-03-27 01:30", "2026-03-28 01:30", "2026-03-29 01:00", "2026-03-30 00:30"]),
    # New York falls back on 1 November 2026: 07:30 local is 11:30 UTC before, 12:30 UTC after.
    ("America/New_York", "07:30", datetime(2026, 10, 30, tzinfo=UTC),
     ["2026-10-30 11:30", "2026-10-31 11:30", "2026-11-01 12:30", "2026-11-02 12:30"]),
])
def test_digests_run_at_the_local_time_across_a_daylight_saving_change(store, embed, zone, local, start,
                                                                        expected_utc):
    hour, minute = map(int, local.split(":"))
    chat_id = scheduled_chat(store, "1", local, zone, next_run(time(hour, minute), ZoneInfo(zone), start))
    service = DigestService(store=store, embed=embed)
    ran_at = []
    for _ in expected_utc:
        with store.transaction() as tx:
            now = tx.chats.schedule(chat_id).next_run_at  # the clock reaches the stored time
        assert service.run_due(chat_id, now - timedelta(seconds=1), grace=GRACE).outcome == "not_due"
        assert service.run_due(chat_id, now, grace=GRACE).outcome == "sent"
        ran_at.append(now.strftime("%Y-%m-%d %H:%M"))
    assert ran_at == expected_utc
    local_dates = [datetime.strptime(t, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()
                   for t in expected_utc]
    assert digest_keys(store) == [f"digest:{chat_id}:{day}" for day in local_dates]


def test_catch_up_sends_a_digest_missed_by_two_hours_and_skips_one_missed_by_five(store, embed, caplog):
    restart = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    two_hours = scheduled_chat(store, "1", "11:00", "Europe/Berlin", restart - timedelta(hours=2))
    five_hours = scheduled_chat(store, "2", "08:00", "Europe/Berlin", restart - timedelta(hours=5))
    service = DigestService(store=store, embed=embed)
    with caplog.at_level(logging.WARNING, logger="bot.services.digests"):
        for chat_id in (two_hours, five_hours):
            service.run_due(chat_id, restart, grace=GRACE)
    assert digest_keys(store) == [f"digest:{two_hours}:2026-03-03"]
    assert "missed by 5:00:00" in caplog.text and "skipped" in caplog.text
    with store.transaction() as tx:
        assert tx.chats.schedule(two_hours).next_run_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
        assert tx.chats.schedule(five_hours).next_run_at == datetime(2026, 3, 4, 7, 0, tzinfo=UTC)
    # Restarting again the same day sends nothing more.
    for chat_id in (two_hours, five_hours):
        assert service.run_due(chat_id, restart + timedelta(minutes=5), grace=GRACE).outcome == "not_due"
    assert len(digest_keys(store)) == 1


class PollCounter:
    def __init__(self) -> None:
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self) -> None:
        self.calls += 1
        self.called.set()


async def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_on_start_jobs_are_rebuilt_from_the_database_and_overdue_digests_caught_up(store, embed):
    now = datetime.now(UTC)
    missed = scheduled_chat(store, "1", "00:00", "UTC", now - timedelta(hours=2))
    too_old = scheduled_chat(store, "2", "00:00", "UTC", now - timedelta(hours=5))
    later = scheduled_chat(store, "3", "00:00", "UTC", now + timedelta(hours=6))
    poll = PollCounter()
    scheduler = Scheduler(store=store, digests=DigestService(store=store, embed=embed), poll=poll,
                          poll_interval=timedelta(minutes=15), grace=GRACE)
    scheduler.start()
    try:
        await asyncio.wait_for(poll.called.wait(), 10)  # the first poll runs at start
        await wait_until(lambda: all(scheduler.next_digest_at(c) is not None and scheduler.next_digest_at(c) > now
                                     for c in (missed, too_old)))
        with store.transaction() as tx:
            for chat_id in (missed, too_old):
                assert tx.chats.schedule(chat_id).next_run_at > now
                assert scheduler.next_digest_at(chat_id) == tx.chats.schedule(chat_id).next_run_at
        assert [key.split(":")[1] for key in digest_keys(store)] == [str(missed)]
        assert scheduler.next_digest_at(later) == now + timedelta(hours=6)
    finally:
        scheduler.shutdown()


async def test_reschedule_follows_the_database_and_poll_soon_polls_again(store, embed):
    poll = PollCounter()
    scheduler = Scheduler(store=store, digests=DigestService(store=store, embed=embed), poll=poll,
                          poll_interval=timedelta(minutes=15))
    scheduler.start()
    try:
        await wait_until(lambda: poll.calls == 1)
        first = datetime.now(UTC) + timedelta(hours=1)
        chat_id = scheduled_chat(store, "1", "00:00", "UTC", first)
        assert scheduler.next_digest_at(chat_id) is None  # not yet told
        scheduler.reschedule_chat(chat_id)
        assert scheduler.next_digest_at(chat_id) == first
        with store.transaction() as tx:
            tx.chats.clear_schedule(chat_id)
        scheduler.reschedule_chat(chat_id)
        assert scheduler.next_digest_at(chat_id) is None
        scheduler.poll_soon()
        await wait_until(lambda: poll.calls == 2)
    finally:
        scheduler.shutdown()


@pytest.mark.parametrize("name, zone", [("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
                                        ("Berlin", "Europe/Berlin"), ("new_york", "America/New_York"),
                                        ("utc", "UTC")])
def test_time_zones_by_full_name_any_case_or_city_alone(name, zone):
    assert parse_timezone(name).key == zone


@pytest.mark.parametrize("name, answer", [("Mars/Olympus", "not a time zone I know"),
                                          ("Samoa", "Pacific/Samoa or US/Samoa")])
def test_unknown_or_ambiguous_time_zones_get_a_clear_answer(name, answer):
    with pytest.raises(ScheduleError, match=answer):
        parse_timezone(name)
