"""The store's memory of received platform events, on a real SQLite file and the real PostgreSQL
server: first sighting wins once, however many processes race for it, and old ids are forgotten."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services.seen_events import SeenEvents
from bot.store.store import Store
from bot.store.tables import SeenEvent

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RACERS = 8


def remembered(store: Store) -> set[tuple[str, str]]:
    with store.transaction() as tx:
        return set(tx.session.execute(select(SeenEvent.platform, SeenEvent.event_id)).tuples())


def test_an_event_is_a_first_sighting_once_per_platform(store):
    with store.transaction() as tx:
        first = [tx.events.first_sighting("slack", "Ev1", NOW), tx.events.first_sighting("telegram", "Ev1", NOW)]
    with store.transaction() as tx:  # a later transaction, as a retry minutes later would be
        again = [tx.events.first_sighting("slack", "Ev1", NOW + timedelta(minutes=5)),
                 tx.events.first_sighting("telegram", "Ev1", NOW + timedelta(minutes=5))]
        other = tx.events.first_sighting("slack", "Ev2", NOW)
    assert first == [True, True] and again == [False, False] and other is True


def test_a_sighting_rolled_back_is_not_remembered(store):
    with pytest.raises(RuntimeError), store.transaction() as tx:
        assert tx.events.first_sighting("slack", "Ev1", NOW)
        raise RuntimeError("the transaction failed after the insert")
    with store.transaction() as tx:
        assert tx.events.first_sighting("slack", "Ev1", NOW)


@pytest.mark.parametrize("event_id", ["", "E" * 101])
def test_an_impossible_event_id_is_a_clear_error(store, event_id):
    with pytest.raises(ValueError, match="1 to 100 characters"), store.transaction() as tx:
        tx.events.first_sighting("slack", event_id, NOW)
    assert remembered(store) == set()


def test_processes_racing_for_one_event_id_get_exactly_one_true(database_url):
    """Each racer has its own engine, as separate bot processes would; all insert at once."""
    Store.open(database_url).close()  # migrated once, as the first process to start would
    stores = [Store.open(database_url, run_migrations=False) for _ in range(RACERS)]
    rounds = [f"Ev{n}" for n in range(5)]
    try:
        for event_id in rounds:
            start = threading.Barrier(RACERS)

            def race(store: Store, event_id: str = event_id, start: threading.Barrier = start) -> bool:
                with store.transaction() as tx:
                    start.wait(timeout=30)
                    return tx.events.first_sighting("slack", event_id, NOW)

            with ThreadPoolExecutor(RACERS) as pool:
                answers = list(pool.map(race, stores))
            assert sorted(answers) == [False] * (RACERS - 1) + [True], event_id
        assert remembered(stores[0]) == {("slack", event_id) for event_id in rounds}
    finally:
        for store in stores:
            store.close()


def test_prune_forgets_only_events_older_than_the_cutoff(store):
    with store.transaction() as tx:
        tx.events.first_sighting("slack", "old", NOW - timedelta(days=1, seconds=1))
        tx.events.first_sighting("slack", "recent", NOW - timedelta(hours=23))
    with store.transaction() as tx:
        assert tx.events.prune(NOW - timedelta(days=1)) == 1
    assert remembered(store) == {("slack", "recent")}
    with store.transaction() as tx:
        assert tx.events.first_sighting("slack", "old", NOW)  # forgotten: new again
        assert not tx.events.first_sighting("slack", "recent", NOW)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def test_the_service_shares_the_memory_between_processes_and_survives_a_restart(database_url):
    first_process, second_process = Store.open(database_url), Store.open(database_url)
    try:
        slack_a = SeenEvents(first_process).for_platform("slack")
        slack_b = SeenEvents(second_process).for_platform("slack")
        telegram_b = SeenEvents(second_process).for_platform("telegram")
        answers = [await slack_a("Ev1"), await slack_b("Ev1"), await telegram_b("Ev1")]
    finally:
        first_process.close()
    restarted = Store.open(database_url)
    try:
        after_restart = await SeenEvents(restarted).first_sighting("slack", "Ev1")
    finally:
        restarted.close(), second_process.close()
    assert answers == [True, False, True] and after_restart is False


def test_the_service_prunes_at_start_and_then_now_and_then(store):
    clock = Clock()
    seen = SeenEvents(store, keep=timedelta(days=1), prune_every=timedelta(hours=1), clock=clock)
    with store.transaction() as tx:
        tx.events.first_sighting("slack", "two-days-old", NOW - timedelta(days=2))

    assert seen.record("slack", "Ev1")  # the first sighting after a start prunes
    after_start = remembered(store)
    with store.transaction() as tx:  # e.g. written by a process whose clock is behind
        tx.events.first_sighting("slack", "stale", NOW - timedelta(days=2))
    clock.now += timedelta(minutes=59)
    seen.record("slack", "Ev2")
    within_the_hour = remembered(store)  # pruned less than an hour ago: not again yet
    clock.now += timedelta(minutes=1)
    seen.record("slack", "Ev3")
    assert after_start == {("slack", "Ev1")}
    assert within_the_hour == {("slack", "Ev1"), ("slack", "stale"), ("slack", "Ev2")}
    assert remembered(store) == {("slack", "Ev1"), ("slack", "Ev2"), ("slack", "Ev3")}
