"""The memory of recently received Slack event ids: how long it lasts and how much it holds.
(The dedupe itself, through the real bolt app, is tested in test_slack_http and test_slack_socket.)"""

from __future__ import annotations

import pytest

from bot.adapters.slack.retries import RecentIds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_id_is_new_once_within_the_window():
    clock = Clock()
    seen = RecentIds(ttl_s=60, clock=clock)
    first = [seen.first_time("Ev1"), seen.first_time("Ev2")]
    clock.now += 59
    again = [seen.first_time("Ev1"), seen.first_time("Ev2")]
    assert first == [True, True] and again == [False, False]


def test_an_id_is_forgotten_after_the_window_and_so_is_the_memory_it_took():
    clock = Clock()
    seen = RecentIds(ttl_s=60, clock=clock)
    for n in range(100):
        seen.first_time(f"Ev{n}")
    clock.now += 60
    assert seen.first_time("Ev0") is True
    assert len(seen) == 1  # the other 99 expired and were dropped on the way


def test_the_window_outlasts_slacks_last_retry():
    # Slack retries at once, after about one minute and after about five.
    clock = Clock()
    seen = RecentIds(clock=clock)
    seen.first_time("Ev1")
    clock.now += 6 * 60
    assert seen.first_time("Ev1") is False


def test_at_most_limit_ids_are_kept_and_the_oldest_go_first():
    seen = RecentIds(ttl_s=60, limit=3, clock=Clock())
    for name in ("Ev1", "Ev2", "Ev3", "Ev4"):
        seen.first_time(name)
    assert len(seen) == 3
    assert [seen.first_time(name) for name in ("Ev4", "Ev3", "Ev2")] == [False, False, False]
    assert seen.first_time("Ev1") is True


@pytest.mark.parametrize(("ttl_s", "limit"), [(0, 10), (60, 0)])
def test_nonsense_sizes_are_refused(ttl_s, limit):
    with pytest.raises(ValueError):
        RecentIds(ttl_s=ttl_s, limit=limit)
