"""The delivery loop with the real Slack sender (slack_sdk) against the Slack Web API stand-in."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.platform import LIMITS as SLACK_LIMITS
from bot.adapters.slack.sender import SlackSender
from bot.runtime.clock import utcnow
from bot.domain.models import Message
from bot.services.delivery import DeliveryLoop
from bot.store.store import Store
from tests.support.databases import sqlite_url
from tests.support.standins.slack import SlackFault, SlackLimits, SlackStandIn


@pytest.fixture
def slack():
    with SlackStandIn(limits=SlackLimits()) as stand_in:
        yield stand_in


@pytest.fixture
def store(tmp_path):
    opened = Store.open(sqlite_url(tmp_path))
    yield opened
    opened.close()


def enqueue(store: Store, channel: str, count: int) -> None:
    with store.transaction() as tx:
        chat = tx.chats.ensure("slack", channel, kind="channel")
        for number in range(count):
            message = Message(kind="alert", heading="Alert: storm", text=f"{channel} story {number}")
            tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key=f"alert:{channel}:{number}",
                              payload=message.to_dict(), now=utcnow())


async def test_channels_get_each_message_once_at_one_a_second_and_a_429_waits_retry_after(slack, store):
    for channel in ("C1", "C2", "C3"):
        enqueue(store, channel, 4)
    slack.fail_next("C2", SlackFault.ratelimited(2))
    slack.add_channel("C3", is_archived=True)
    sender = SlackSender(AsyncWebClient(token=slack.token, base_url=slack.api_url, retry_handlers=[]))
    loop = DeliveryLoop(store=store, senders={"slack": sender}, limits={"slack": SLACK_LIMITS}, idle_poll_s=0.05)
    await loop.drain()
    await loop.stop()
    assert slack.violations() == []
    posted = {channel: [m["text"].rsplit("\n", 1)[-1] for m in slack.posted_messages(channel)]
              for channel in ("C1", "C2", "C3")}
    assert posted["C1"] == [f"C1 story {n}" for n in range(4)]
    assert sorted(posted["C2"]) == [f"C2 story {n}" for n in range(4)]
    assert posted["C3"] == []  # archived: the chat is deactivated, its queue fails on record
    calls = [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == "C2"]
    assert calls[0].status == 429 and calls[1].at - calls[0].at >= 2.0
    with store.transaction() as tx:
        assert tx.outbox.counts() == {"sent": 8, "failed": 4}
        assert not tx.chats.find("slack", "C3").active
