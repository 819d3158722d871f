"""`python -m bot run` with Slack in HTTP mode, as bot.main wires it, against the Slack stand-in:
signed requests to its own HTTP server are answered, forged ones get 401, SIGTERM stops it, and no
secret reaches its DEBUG logs."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.bot_process import BotProcess
from tests.support.standins.slack import SlackStandIn, app_mention_event, sign_slack_request

# Shaped unlike Slack tokens, so only the bot's knowledge of its secrets can keep them out of the logs.
BOT_TOKEN = "bot-token-6a5b4c3d2e1f0a9b8c7d6e5f"
APP_TOKEN = "app-token-0f1e2d3c4b5a69788796a5b4"
SIGNING_SECRET = "signing-secret-a1b2c3d4e5f60718293a"
pytestmark = pytest.mark.slow  # a whole bot process: imports, migrations, start and stop


@pytest.fixture
def slack():
    with SlackStandIn(token=BOT_TOKEN) as stand_in:
        yield stand_in


def test_the_bot_process_serves_slack_over_http(slack, tmp_path):
    bot = BotProcess(tmp_path, LOG_LEVEL="DEBUG", SUMMARIZER_BACKEND="lead", SLACK_BOT_TOKEN=BOT_TOKEN,
                     SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_MODE="http",
                     SLACK_API_BASE_URL=slack.api_url)
    try:
        port = bot.port()
        bot.wait_for("briefbot running")
        url = f"http://127.0.0.1:{port}/slack/events"
        command = slack.slash_command_body("/alerts", channel_id="C0NEWS")
        forged = httpx.post(url, content=command, headers=sign_slack_request(command, "not-" + SIGNING_SECRET))
        signed = httpx.post(url, content=command, headers=sign_slack_request(command, SIGNING_SECRET))
        (answer,) = slack.wait_for_calls("response_url", timeout=30)
        mention = slack.event_body(app_mention_event("<@U0BRIEFBOT> help", channel="C0NEWS"))
        httpx.post(url, content=mention, headers=sign_slack_request(mention, SIGNING_SECRET))
        (posted,) = slack.wait_for_calls("chat.postMessage", timeout=30)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
    finally:
        code = bot.stop()
    assert (forged.status_code, signed.status_code) == (401, 200)
    assert "keyword alerts" in json.dumps(answer.params["body"]).lower()
    assert posted.params["channel"] == "C0NEWS"
    assert ready.status_code == 200 and ready.json()["checks"]["slack"]["ok"]
    assert code == 0
    output = bot.output()
    assert "Sending a request" in output  # slack_sdk's DEBUG lines were written
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET):
        assert secret not in output
