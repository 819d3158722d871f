"""deploy/slack-manifest.yaml against the real Slack adapter: every slash command and event the manifest
asks Slack to send reaches the command service, every command the adapter registers is in the
manifest, and the scopes are exactly those that the Web API calls and events it used need.

The adapter runs in HTTP mode behind the bot's aiohttp server, with signed requests, against the
Slack stand-in, which records each Web API call the adapter makes.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest
import yaml

from bot.adapters.slack import EVENTS_PATH, SlackAdapter
from bot.adapters.slack.handlers import SLASH_COMMANDS, UMBRELLA_COMMAND
from bot.domain.models import Message
from bot.runtime.http_server import HttpServer
from bot.services.commands import COMMANDS
from bot.services.chat_io import Incoming
from tests.support.standins.slack import SlackStandIn, app_mention_event, message_event, sign_slack_request

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "deploy" / "slack-manifest.yaml"
SIGNING_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
# Slack's documented scope for each event type and Web API method the adapter may use.
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history",
                "message.channels": "channels:history", "message.groups": "groups:history",
                "message.mpim": "mpim:history"}
METHOD_SCOPES = {"auth.test": None, "chat.postMessage": "chat:write", "users.info": "users:read",
                 "files.info": "files:read", "conversations.info": "channels:read",
                 "file": "files:read",  # downloading url_private with the bot token
                 "response_url": None}  # answers to slash commands need no scope
# Needed by what no request here exercises: alerts and digests to public channels the bot is not in.
DELIVERY_SCOPES = {"chat:write.public"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST_PATH.read_text())


class RecordingHandler:
    """The command service's place: records each command and asks, as it would, whether the sender is an admin."""

    def __init__(self) -> None:
        self.seen: list[Incoming] = []

    async def handle(self, incoming: Incoming) -> list[Message]:
        await incoming.is_admin()
        self.seen.append(incoming)
        return [Message(kind="reply", text=f"ran {incoming.command}")]

    async def next(self, count: int) -> Incoming:
        """Wait (bounded) until the `count`-th command arrived."""
        for _ in range(500):
            if len(self.seen) >= count:
                return self.seen[count - 1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"command {count} never reached the handler; got {self.seen}")


@pytest.fixture
async def slack_bot():
    handler = RecordingHandler()
    with SlackStandIn() as slack:
        http = HttpServer("127.0.0.1", 0)
        adapter = SlackAdapter(handler, bot_token=slack.token, mode="http", signing_secret=SIGNING_SECRET,
                               api_base_url=slack.api_url, http=http, timeout_s=5)
        await http.start()
        await adapter.start()
        url = f"http://127.0.0.1:{http.port}{EVENTS_PATH}"
        async with aiohttp.ClientSession() as session:

            async def post(body: bytes) -> int:
                async with session.post(url, data=body, headers=sign_slack_request(body, SIGNING_SECRET)) as response:
                    return response.status

            yield slack, handler, post
        await adapter.stop()
        await http.stop()


def test_the_manifest_lists_exactly_the_commands_the_adapter_registers(manifest):
    listed = [command["command"] for command in manifest["features"]["slash_commands"]]
    assert len(listed) == len(set(listed))
    assert set(listed) == {*SLASH_COMMANDS, UMBRELLA_COMMAND}
    for command in manifest["features"]["slash_commands"]:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", command["command"])  # Slack's rule for command names
        assert command["description"] and "url" not in command  # Socket Mode: no request URL


def test_the_manifest_has_a_slash_command_for_every_registered_command(manifest):
    listed = {command["command"]: command for command in manifest["features"]["slash_commands"]}
    assert sorted(SLASH_COMMANDS.values()) == sorted(COMMANDS.names())  # the adapter: one per command
    for name in COMMANDS.names():
        assert ("/briefbot-help" if name == COMMANDS.help_name else f"/{name}") in listed
    # The umbrella command's hint names every command, in the registry's order.
    assert listed[UMBRELLA_COMMAND]["usage_hint"] == " | ".join(COMMANDS.names())


def test_the_manifest_is_for_socket_mode_and_shows_the_http_alternative(manifest):
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is False  # the adapter registers no buttons or modals
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # direct messages reach the bot
    text = MANIFEST_PATH.read_text()
    assert f"request_url: https://YOUR-HOST{EVENTS_PATH}" in text and f"url: https://YOUR-HOST{EVENTS_PATH}" in text
    assert "connections:write" in text  # the app-level token Socket Mode needs


async def test_every_command_and_event_in_the_manifest_reaches_the_bot_with_the_scopes_it_needs(manifest, slack_bot):
    slack, handler, post = slack_bot
    slack.set_user("U0PLAIN")  # not an admin: admin commands ask users.info
    received = 0
    for entry in manifest["features"]["slash_commands"]:
        command = entry["command"]
        text = "digest" if command == UMBRELLA_COMMAND else ""
        assert await post(slack.slash_command_body(command, text, user_id="U0PLAIN")) == 200
        received += 1
        incoming = await handler.next(received)
        assert incoming.command == ("digest" if command == UMBRELLA_COMMAND else SLASH_COMMANDS[command])

    opml = slack.add_file(b'<?xml version="1.0"?><opml version="2.0"><body>'
                          b'<outline type="rss" xmlUrl="https://example.com/feed.xml"/></body></opml>')
    events = {
        "app_mention": app_mention_event(f"<@{slack.bot_user_id}> digest", user="U0PLAIN"),
        "message.im": message_event("alerts", channel="D0DIRECT", channel_type="im", user="U0PLAIN"),
        "message.channels": {**message_event("/sources", channel="C0PUBLIC", user="U0PLAIN"),
                             "subtype": "file_share", "files": [{"id": opml["id"]}]},
        "message.groups": {**message_event("/sources", channel="G0PRIVATE", channel_type="group", user="U0PLAIN"),
                           "subtype": "file_share", "files": [{"id": opml["id"]}]},
    }
    subscribed = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(subscribed) <= set(events), f"no test event for {set(subscribed) - set(events)}"
    for name in subscribed:
        assert await post(slack.event_body(events[name])) == 200
        received += 1
        incoming = await handler.next(received)
        if name.startswith("message.") and name != "message.im":
            assert incoming.attachment is not None and b"example.com/feed.xml" in incoming.attachment.content

    needed = {"commands"} | {EVENT_SCOPES[name] for name in subscribed}
    called = set(slack.calls_by_method())
    assert {"chat.postMessage", "users.info", "files.info"} <= called  # answers, admin checks, the file
    needed |= {METHOD_SCOPES[method] for method in called if METHOD_SCOPES[method]}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed | DELIVERY_SCOPES
