"""The event-loop watchdog on a real loop: a blocking call shows in /metrics' histogram and gauge and is
logged once per interval with a count; time the host kept the thread off a CPU is not counted as held."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime.metrics import Metrics
from bot.runtime.watchdog import LoopWatchdog, waited_for_cpu_s

pytestmark = pytest.mark.hostile


def held_over(metrics: Metrics, bound: str) -> float:
    body, _ = metrics.render()
    samples = {(s.name, s.labels.get("le")): s.value for family in text_string_to_metric_families(body.decode())
               for s in family.samples}
    return samples[("briefbot_event_loop_held_seconds_count", None)] \
        - samples[("briefbot_event_loop_held_seconds_bucket", bound)]


def gauge(metrics: Metrics) -> float:
    body, _ = metrics.render()
    [family] = [f for f in text_string_to_metric_families(body.decode()) if f.name == "briefbot_event_loop_lag_seconds"]
    return family.samples[0].value


async def test_a_blocking_call_on_the_loop_is_measured_and_warned_about_once(caplog):
    metrics = Metrics()
    watchdog = LoopWatchdog(metrics, threshold_s=0.2, interval_s=0.02, warn_every_s=60)
    watchdog.start()
    caplog.set_level(logging.WARNING, logger="bot.runtime.watchdog")
    try:
        await asyncio.sleep(0.1)
        assert held_over(metrics, "0.2") == 0
        for _ in range(2):
            time.sleep(0.35)  # what a regex or a database call on the loop does to every chat
            await asyncio.sleep(0.05)
        assert gauge(metrics) < 0.2  # the latest check: the loop is free again
    finally:
        await watchdog.stop()
    assert held_over(metrics, "0.2") == 2
    [warning] = [r.getMessage() for r in caplog.records]  # the second stall waits for the next interval
    assert warning.startswith("the event loop was held for 0.3")


def test_time_waiting_for_a_cpu_is_not_counted_as_held():
    metrics = Metrics()
    watchdog = LoopWatchdog(metrics, threshold_s=0.2)
    watchdog.observe(0.6, host_s=0.5)  # the host ran other processes: the bot held the loop 0.1 s
    assert held_over(metrics, "0.2") == 0 and gauge(metrics) == 0.6
    watchdog.observe(0.6, host_s=0.0)
    assert held_over(metrics, "0.5") == 1


def test_the_thread_cpu_wait_is_read_from_the_scheduler_statistics():
    first = waited_for_cpu_s()
    assert first >= 0 and waited_for_cpu_s() >= first
