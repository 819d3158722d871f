"""Several bot processes on one database, in Slack HTTP mode: the real bolt apps behind their own
aiohttp servers, each with its own store engine, and Slack's retries landing on any of them. An
event is answered once, whichever process gets the first delivery or a retry."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter
from bot.runtime.http_server import HttpServer
from bot.services.seen_events import SeenEvents
from bot.store.store import Store
from tests.support.standins.slack import SlackStandIn, app_mention_event, message_event
from tests.adapters.slack.test_slack_http import SIGNING_SECRET, Bot, ScriptedHandler


@pytest.fixture
def slack():
    with SlackStandIn() as stand_in:
        yield stand_in


@asynccontextmanager
async def bot_process(slack: SlackStandIn, session: aiohttp.ClientSession, first_sighting) -> AsyncIterator[Bot]:
    handler = ScriptedHandler()
    http = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter(handler, bot_token=slack.token, mode="http", signing_secret=SIGNING_SECRET,
                           api_base_url=slack.api_url, http=http, timeout_s=5, first_sighting=first_sighting)
    await http.start()
    await adapter.start()
    try:
        yield Bot(adapter, handler, slack, f"http://127.0.0.1:{http.port}/slack/events", session)
    finally:
        await adapter.stop()
        await http.stop()


@pytest.fixture
async def processes(slack, database_url) -> AsyncIterator[list[Bot]]:
    """Two bot processes sharing one database, each with its own store (engine, connections)."""
    async with AsyncExitStack() as stack, aiohttp.ClientSession() as session:
        bots = []
        for _ in range(2):
            store = Store.open(database_url)
            stack.callback(store.close)
            memory = SeenEvents(store).for_platform("slack")
            bots.append(await stack.enter_async_context(bot_process(slack, session, memory)))
        yield bots


async def answered_after(bots: list[Bot], slack: SlackStandIn) -> None:
    """One more event to each process, and its answer. Requests run in the order they came, so a
    redelivery that wrongly reached a listener of that process has started by then."""
    for n, bot in enumerate(bots):
        channel = f"D0MARKER{n}"
        await bot.event(message_event("alerts", channel=channel, channel_type="im"))
        await slack.await_calls("chat.postMessage", where=lambda c, channel=channel: c.params["channel"] == channel)


def commands_run(bots: list[Bot]) -> list[tuple[str, str]]:
    # A message without a command (a bare link) is the service's to read: it counts as /summary here.
    return sorted((i.chat.chat_id, i.command or "summary") for bot in bots for i in bot.handler.seen)


async def test_retries_that_land_on_another_process_are_acknowledged_and_not_answered_again(processes, slack):
    first_process, second_process = processes
    body = slack.event_body(message_event("<https://example.com/pasted>", channel="D0ADA", channel_type="im"))
    first = await first_process.post(body)
    await slack.await_calls("chat.postMessage", where=lambda c: c.params["channel"] == "D0ADA")
    retries = [await (second_process, first_process, second_process)[n - 1].redeliver(body, retry=n)
               for n in (1, 2, 3)]
    await answered_after(processes, slack)
    assert [first, *retries] == [(200, "")] * 4
    assert len(slack.posted_messages("D0ADA")) == 1
    assert commands_run(processes) == [("D0ADA", "summary"), ("D0MARKER0", "alerts"), ("D0MARKER1", "alerts")]


async def test_one_event_delivered_to_both_processes_at_once_is_answered_once(processes, slack):
    bodies = [slack.event_body(app_mention_event(f"<@U0BRIEFBOT> digest {n}", channel=f"C0NEWS{n}"))
              for n in range(5)]
    for body in bodies:  # the first delivery and its retry arrive together, on different processes
        first, retry = processes
        statuses = await asyncio.gather(first.post(body), retry.redeliver(body, retry=1))
        assert statuses == [(200, "")] * 2
    await answered_after(processes, slack)
    assert [len(slack.posted_messages(f"C0NEWS{n}")) for n in range(5)] == [1] * 5
    assert commands_run(processes) == sorted([(f"C0NEWS{n}", "digest") for n in range(5)]
                                             + [("D0MARKER0", "alerts"), ("D0MARKER1", "alerts")])


async def test_different_events_are_each_answered_by_whichever_process_gets_them(processes, slack):
    mention = app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS", ts="1700000000.000100")
    once, again = slack.event_body(mention), slack.event_body(mention)  # same words, two event_ids
    statuses = [await processes[0].post(once), await processes[1].post(again)]
    await slack.await_calls("chat.postMessage", count=2)
    assert json.loads(once)["event_id"] != json.loads(again)["event_id"]
    assert statuses == [(200, "")] * 2 and len(slack.posted_messages("C0NEWS")) == 2


async def test_when_the_memory_cannot_answer_the_event_is_handled_and_the_failure_logged(slack, caplog):
    def database_down(event_id: str) -> bool:
        raise ConnectionError("the database is unreachable")

    body = slack.event_body(app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS"))
    async with aiohttp.ClientSession() as session, bot_process(slack, session, database_down) as bot:
        status = await bot.post(body)
        await slack.await_calls("chat.postMessage")
    event_id = json.loads(body)["event_id"]
    assert status == (200, "") and [i.command for i in bot.handler.seen] == ["digest"]
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.getMessage() == f"could not tell whether Slack event {event_id} was received before; handling it"
    assert "the database is unreachable" in str(record.exc_info[1])
