"""No Slack secret reaches a log line, with every logger at DEBUG and without the global log setup.

The tokens here do not look like Slack tokens (no xoxb-/xapp- prefix), so only the adapter's own
knowledge of its secrets can keep them out; the signing secret never looks like anything."""

from __future__ import annotations

import logging
import time

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter, SlackStartError
from bot.domain.models import ChatRef, Message
from bot.runtime.http_server import HttpServer
from bot.services.sending import SendError
from tests.support.standins.slack import SlackFault, app_mention_event, sign_slack_request
from tests.support.standins.slack_socket import SlackSocketStandIn

BOT_TOKEN = "bot-4f1e2d3c4b5a69788796a5b4c3d2e1f0"
APP_TOKEN = "app-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SIGNING_SECRET = "signing-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET)


class Echo:
    async def handle(self, incoming):
        return [Message(kind="reply", text=f"ran {incoming.command}")]


@pytest.fixture
def slack():
    with SlackSocketStandIn(token=BOT_TOKEN, app_token=APP_TOKEN) as stand_in:
        yield stand_in


async def test_secrets_never_reach_the_logs(slack, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("slack_sdk", "slack_bolt", "bot", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)

    # HTTP mode: forged, stale and real requests, and a reply that fails with a 500.
    http = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter(Echo(), bot_token=BOT_TOKEN, mode="http", signing_secret=SIGNING_SECRET,
                           app_token=APP_TOKEN, api_base_url=slack.api_url, http=http)
    await http.start()
    await adapter.start()
    url = f"http://127.0.0.1:{http.port}/slack/events"
    command = slack.slash_command_body("/alerts", f"my secret is {BOT_TOKEN}")
    mention = slack.event_body(app_mention_event("<@U0BRIEFBOT> alerts", channel="C0FAIL"))
    slack.fail_next("C0FAIL", SlackFault.server_error())
    async with aiohttp.ClientSession() as session:
        for body, headers in [
            (command, sign_slack_request(command, "forged-" + SIGNING_SECRET)),
            (command, sign_slack_request(command, SIGNING_SECRET, timestamp=int(time.time()) - 3600)),
            (command, {"Content-Type": "application/x-www-form-urlencoded"}),
            (command, sign_slack_request(command, SIGNING_SECRET)),
            (mention, sign_slack_request(mention, SIGNING_SECRET)),
        ]:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
    await slack.await_calls("response_url")
    await slack.await_calls("chat.postMessage")  # answered with a 500
    slack.fail_next("C0FAIL", SlackFault.server_error())
    with pytest.raises(SendError):
        await adapter.sender.send_part(ChatRef("slack", "C0FAIL"), {"text": "x", "blocks": []})

    # Socket Mode: a real connection, then refused tokens.
    socket = SlackAdapter(Echo(), bot_token=BOT_TOKEN, mode="socket", app_token=APP_TOKEN, api_base_url=slack.api_url)
    await socket.start()
    await socket.stop()
    for bot_token, app_token in [("wrong-" + BOT_TOKEN, APP_TOKEN), (BOT_TOKEN, "wrong-" + APP_TOKEN)]:
        refused = SlackAdapter(Echo(), bot_token=bot_token, mode="socket", app_token=app_token,
                               api_base_url=slack.api_url)
        with pytest.raises(SlackStartError):
            await refused.start()
    await adapter.stop()
    await http.stop()

    # Anything that does write a secret (a library, an exception text, our own code) is redacted.
    logging.getLogger("slack_sdk.web.async_base_client").debug("headers: %s", {"Authorization": f"Bearer {BOT_TOKEN}"})
    logging.getLogger("slack_bolt.AsyncApp").info("signing secret %s", SIGNING_SECRET)
    try:
        raise RuntimeError(f"connect failed with {APP_TOKEN}")
    except RuntimeError:
        logging.getLogger("bot.adapters.slack.app").exception("start failed")

    text = caplog.text
    assert "Sending a request" in text and "Invalid request signature" in text  # DEBUG and INFO were on
    assert text.count("[REDACTED]") >= 3
    for secret in SECRETS:
        assert secret not in text
        for record in caplog.records:
            assert secret not in record.getMessage() and secret not in (record.exc_text or "")
