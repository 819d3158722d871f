"""The bot as `bot.main` wires it for Slack in HTTP mode (real services on a SQLite file, the real
slack-bolt app behind the bot's aiohttp server, the stand-in as Slack), and what button and Home tab
tests do with it: press, open, submit, and read what came back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.adapters.slack import SlackAdapter
from bot.domain.actions import ButtonRows
from bot.domain.models import ChatRef, Message
from bot.main import Services, build_services
from bot.runtime.http_server import HttpServer
from bot.settings import Settings
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items
from tests.support.standins.slack import SlackStandIn, post_signed
from tests.support.standins.slack_interactions import interaction_body

SIGNING_SECRET = "5d7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d"
ADMIN, MEMBER = "U0ADMIN", "U0MEMBER"
CHANNEL, OTHER_CHANNEL = "C0NEWS", "C0OTHER"
ADMIN_DM, MEMBER_DM = "D0ADMIN", "D0MEMBER"


@dataclass
class Bot:
    services: Services
    adapter: SlackAdapter
    slack: SlackStandIn
    feeds: FeedServer
    url: str

    async def post(self, body: bytes) -> tuple[int, str]:
        return await post_signed(self.url, body, SIGNING_SECRET)

    async def command(self, command: str, text: str = "", *, user: str = ADMIN, channel: str = CHANNEL) -> str:
        response_url = self.slack.new_response_url()
        body = self.slack.slash_command_body(command, text, user_id=user, channel_id=channel,
                                            response_url=response_url)
        assert (await self.post(body))[0] == 200
        await self.slack.await_calls("response_url", where=lambda c: response_url.endswith(c.params["key"]),
                                     timeout=30)
        return "\n".join(shown(body["blocks"]) for body in self.slack.responses(response_url))

    def chat_id(self, channel: str) -> int:
        with self.services.store.transaction() as tx:
            return tx.chats.find("slack", channel).id

    async def post_with_buttons(self, channel: str, text: str, rows: ButtonRows) -> dict:
        """A message with buttons, as the delivery loop posts one (the Slack sender); returns it as stored."""
        sender = self.adapter.sender
        for part in sender.render(Message(kind="reply", text=text, buttons=rows)):
            await sender.send_part(ChatRef("slack", channel), part)
        return self.slack.posted_messages(channel)[-1]

    async def press(self, payload: dict, *, update: bool = False) -> str:
        """Post a block_actions payload; returns the toast (the ephemeral answer on its response_url).
        `update`: also wait for the chat.update the press makes."""
        updates = len(self.slack.calls("chat.update"))
        status, _ = await self.post(interaction_body(payload))
        assert status == 200
        key = payload["response_url"].rsplit("/", 1)[-1]
        await self.slack.await_calls("response_url", where=lambda c: c.params["key"] == key, timeout=15)
        (toast,) = self.slack.responses(payload["response_url"])
        assert toast["response_type"] == "ephemeral" and toast["replace_original"] is False
        if update:
            await self.slack.await_calls("chat.update", count=updates + 1, timeout=15)
        return toast["text"]


def shown(blocks: list[dict]) -> str:
    texts = []
    for block in blocks:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [element["text"] for element in block["elements"]]
    return "\n".join(texts)


def buttons(blocks: list[dict]) -> dict[str, dict]:
    """label -> button element, over every actions block."""
    return {element["text"]["text"]: element for block in blocks if block["type"] == "actions"
            for element in block["elements"]}


def action_id(blocks: list[dict], label: str) -> str:
    return buttons(blocks)[label]["action_id"]


@contextmanager
def stand_in() -> Iterator[SlackStandIn]:
    """The stand-in, with a workspace admin and a member who is none."""
    with SlackStandIn() as slack:
        slack.set_user(ADMIN, is_admin=True)
        slack.set_user(MEMBER)
        yield slack


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        server.serve("/world.xml", rss(story_items(range(1, 3)), title="World News"),
                     content_type="application/rss+xml")
        server.serve("/science.xml", rss(story_items(range(3, 5)), title="Science Daily"),
                     content_type="application/rss+xml")
        server.serve("/page.html", "<html><body><p>No feed here.</p></body></html>", content_type="text/html")
        yield server


@asynccontextmanager
async def running_bot(slack: SlackStandIn, feeds: FeedServer, folder: Path) -> AsyncIterator[Bot]:
    settings = Settings(_env_file=None, data_dir=folder, allow_private_networks=True, summarizer_backend="lead",
                        slack_bot_token=slack.token, slack_mode="http", slack_signing_secret=SIGNING_SECRET,
                        slack_api_base_url=slack.api_url)
    services = build_services(settings)
    http = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter.from_settings(settings, services.commands, http, actions=services.actions,
                                         home=services.home)
    await http.start()
    await adapter.start()
    try:
        yield Bot(services, adapter, slack, feeds, f"http://127.0.0.1:{http.port}/slack/events")
    finally:
        await adapter.stop()
        await http.stop()
        await services.aclose()
