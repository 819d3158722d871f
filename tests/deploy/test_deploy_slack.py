"""deploy/slack-manifest.yaml against the real Slack adapter: every slash command and event the manifest
asks Slack to send reaches the command service (app_home_opened: the Home tab is published), a button
press reaches the action service (interactivity), every command the adapter registers is in the
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
from bot.adapters.slack.render import ACTION_PREFIX
from bot.domain.models import Message
from bot.runtime.http_server import HttpServer
from bot.services.actions import EXPIRED, ActionService
from bot.services.commands import COMMANDS
from bot.services.chat_io import Incoming
from bot.services.home import HomeService
from bot.store.store import Store
from tests.support.databases import sqlite_url
from tests.support.standins.slack import SlackStandIn, app_mention_event, message_event, sign_slack_request
from tests.support.standins.slack_interactions import (block_actions_payload, button_action, interaction_body,
                                                       interaction_user)

MANIFEST_PATH = Path(__file__).resolve().parents[2] / "deploy" / "slack-manifest.yaml"
SIGNING_SECRET = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
# Slack's documented scope for each event type and Web API method the adapter may use.
EVENT_SCOPES = {"app_mention": "app_mentions:read", "message.im": "im:history",
                "message.channels": "channels:history", "message.groups": "groups:history",
                "message.mpim": "mpim:history"}
METHOD_SCOPES = {"auth.test": None, "chat.postMessage": "chat:write", "users.info": "users:read",
                 "chat.update": "chat:write", "chat.postEphemeral": "chat:write",
                 "views.publish": None, "views.open": None,  # the Home tab and its modals need no scope
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
async def slack_bot(tmp_path):
    handler = RecordingHandler()
    store = Store.open(sqlite_url(tmp_path))
    with SlackStandIn() as slack:
        http = HttpServer("127.0.0.1", 0)
        # The Home tab only reads the store here; adding a feed is not asked for, so no feed service.
        adapter = SlackAdapter(handler, bot_token=slack.token, mode="http", signing_secret=SIGNING_SECRET,
                               api_base_url=slack.api_url, http=http, timeout_s=5,
                               actions=ActionService(store=store), home=HomeService(store=store, feeds=None))
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
    store.close()


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
    assert settings["interactivity"]["is_enabled"] is True  # buttons and the Home tab's modals
    assert "request_url" not in settings["interactivity"]  # Socket Mode: interactions come over the socket
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True  # direct messages reach the bot
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    text = MANIFEST_PATH.read_text()
    assert f"request_url: https://YOUR-HOST{EVENTS_PATH}" in text and f"url: https://YOUR-HOST{EVENTS_PATH}" in text
    # HTTP mode: interactions go to the same signed endpoint as commands and events.
    assert (f"#     interactivity:\n#       is_enabled: true\n"
            f"#       request_url: https://YOUR-HOST{EVENTS_PATH}") in text
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
    assert "app_home_opened" in subscribed
    assert await post(slack.app_home_opened_body("U0PLAIN", "D0PLAIN")) == 200
    (publish,) = await slack.await_calls("views.publish")
    assert publish.params["user_id"] == "U0PLAIN" and publish.response["ok"] is True  # the Home tab listener
    subscribed = [name for name in subscribed if name != "app_home_opened"]
    assert set(subscribed) <= set(events), f"no test event for {set(subscribed) - set(events)}"
    for name in subscribed:
        assert await post(slack.event_body(events[name])) == 200
        received += 1
        incoming = await handler.next(received)
        if name.startswith("message.") and name != "message.im":
            assert incoming.attachment is not None and b"example.com/feed.xml" in incoming.attachment.content

    # Interactivity: a press on one of the bot's buttons reaches the action service, which answers it.
    button = {"type": "button", "action_id": f"{ACTION_PREFIX}0.0", "text": {"type": "plain_text", "text": "Pause 1"},
              "value": "a:staleToken0"}
    press = block_actions_payload(
        button_action(button, "b1"), user=interaction_user("U0PLAIN", team_id=slack.team_id),
        team={"id": slack.team_id, "domain": "standin"}, api_app_id="A0STANDIN", trigger_id=slack.new_trigger_id(),
        container={"type": "message", "message_ts": "1.000001", "channel_id": "C0PUBLIC", "is_ephemeral": False},
        channel={"id": "C0PUBLIC", "name": "c0public"}, message={"ts": "1.000001", "text": "x", "blocks": []},
        response_url=slack.new_response_url())
    assert await post(interaction_body(press)) == 200
    await slack.await_calls("response_url", where=lambda c: press["response_url"].endswith(c.params["key"]))
    assert slack.responses(press["response_url"])[0]["text"] == EXPIRED

    needed = {"commands"} | {EVENT_SCOPES[name] for name in subscribed}
    called = set(slack.calls_by_method())
    assert {"chat.postMessage", "users.info", "files.info"} <= called  # answers, admin checks, the file
    needed |= {METHOD_SCOPES[method] for method in called if METHOD_SCOPES[method]}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed | DELIVERY_SCOPES
