"""The Slack adapter in Socket Mode: the real aiohttp Socket Mode client of slack_sdk, connected to the
stand-in's WebSocket, acknowledging envelopes and answering through response_url and the Web API."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.slack import SlackAdapter, SlackStartError
from bot.adapters.slack.handlers import WORKING
from bot.domain.models import Message
from bot.services.chat_io import Incoming
from tests.support.standins.slack import app_mention_event
from tests.support.standins.slack_socket import SlackSocketStandIn

APP_TOKEN = "xapp-1-A0STANDIN-1111-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


class GatedHandler:
    def __init__(self) -> None:
        self.seen: list[Incoming] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def handle(self, incoming: Incoming) -> list[Message]:
        self.seen.append(incoming)
        await self.gate.wait()
        return [Message(kind="reply", text=f"ran {incoming.command}")]


@pytest.fixture
def slack():
    with SlackSocketStandIn(app_token=APP_TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
async def running(slack):
    handler = GatedHandler()
    adapter = SlackAdapter(handler, bot_token=slack.token, mode="socket", app_token=APP_TOKEN,
                           api_base_url=slack.api_url)
    await adapter.start()
    await slack.await_connected()
    yield adapter, handler
    await adapter.stop()


async def test_connected_between_start_and_stop(slack):
    adapter = SlackAdapter(GatedHandler(), bot_token=slack.token, mode="socket", app_token=APP_TOKEN,
                           api_base_url=slack.api_url)
    before = await adapter.is_connected()
    await adapter.start()
    during = await adapter.is_connected()
    await adapter.stop()
    assert (before, during, await adapter.is_connected()) == (False, True, False)


async def test_a_slash_command_is_acknowledged_over_the_socket_before_the_work_ends(slack, running):
    adapter, handler = running
    handler.gate.clear()
    envelope = slack.push("slash_commands", slack.slash_command_payload("/summary", "https://example.com/x",
                                                                        channel_id="C0NEWS"))
    (ack,) = await slack.await_calls("socket_ack", where=lambda c: c.params["envelope_id"] == envelope)
    answered_before = list(slack.calls("response_url"))
    handler.gate.set()
    (response,) = [c.params["body"] for c in await slack.await_calls("response_url")]
    assert ack.params.get("payload") == {"text": WORKING}
    assert answered_before == [] and [i.command for i in handler.seen] == ["summary"]
    assert response["blocks"][0]["text"]["text"] == "ran summary"


async def test_a_mention_over_the_socket_is_answered_with_the_web_api(slack, running):
    _, handler = running
    envelope = slack.push("events_api", slack.event_payload(
        app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS", thread_ts="1700.0002")))
    await slack.await_calls("socket_ack", where=lambda c: c.params["envelope_id"] == envelope)
    (call,) = await slack.await_calls("chat.postMessage")
    assert (call.params["channel"], call.params["thread_ts"]) == ("C0NEWS", "1700.0002")
    assert [(i.command, i.chat.thread_id) for i in handler.seen] == [("digest", "1700.0002")]


async def test_a_redelivered_event_is_acknowledged_over_the_socket_and_answered_once(slack, running):
    _, handler = running
    payload = slack.event_payload(app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS"))
    first = slack.push("events_api", payload)
    await slack.await_calls("chat.postMessage")
    retry = slack.push("events_api", payload, retry_attempt=1, retry_reason="timeout")
    for envelope in (first, retry):
        await slack.await_calls("socket_ack", where=lambda c, envelope=envelope: c.params["envelope_id"] == envelope)
    # One more event, in another channel: by its answer, a wrongly run redelivery has started too.
    slack.push("events_api", slack.event_payload(app_mention_event("<@U0BRIEFBOT> alerts", channel="C0OTHER")))
    await slack.await_calls("chat.postMessage", count=2)
    assert [(i.command, i.chat.chat_id) for i in handler.seen] == [("digest", "C0NEWS"), ("alerts", "C0OTHER")]
    assert len(slack.posted_messages("C0NEWS")) == 1


async def test_a_refused_app_token_stops_the_start_with_a_clear_error(slack):
    adapter = SlackAdapter(GatedHandler(), bot_token=slack.token, mode="socket", app_token="xapp-1-wrong-token-000",
                           api_base_url=slack.api_url)
    with pytest.raises(SlackStartError, match="app token: invalid_auth"):
        await adapter.start()
    assert slack.connected() == 0


async def test_a_refused_bot_token_stops_the_start(slack):
    adapter = SlackAdapter(GatedHandler(), bot_token="xoxb-not-the-token", mode="socket", app_token=APP_TOKEN,
                           api_base_url=slack.api_url)
    with pytest.raises(SlackStartError, match="bot token: invalid_auth"):
        await adapter.start()
    assert slack.calls("apps.connections.open") == []


@pytest.mark.parametrize(("mode", "missing"), [("socket", "SLACK_APP_TOKEN"), ("http", "SLACK_SIGNING_SECRET")])
def test_each_mode_names_the_setting_it_lacks(mode, missing):
    with pytest.raises(ValueError, match=missing):
        SlackAdapter(GatedHandler(), bot_token="xoxb-x", mode=mode)
