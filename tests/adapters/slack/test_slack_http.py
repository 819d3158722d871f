"""The Slack adapter in HTTP mode, for real: signed requests to the bot's aiohttp server, the real
bolt app behind it, and the real slack_sdk talking to the Slack stand-in."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter, render_message
from bot.adapters.slack.handlers import SLASH_COMMANDS, WORKING
from bot.domain.models import BriefItem, Link, Message
from bot.runtime.http_server import HttpServer
from bot.services.chat_io import Incoming
from tests.support.standins.slack import (SlackStandIn, app_mention_event, message_event, sign_slack_request,
                                  url_verification_body)

SIGNING_SECRET = "5d1f7c0e9a2b4c6d8e0f1a3b5c7d9e1f"
LISTED_ADMIN = "U0LISTED"
INSTALLER = "U0INSTALL"


class ScriptedHandler:
    """A command handler that records what arrives and answers with `answer(incoming)`."""

    def __init__(self) -> None:
        self.seen: list[Incoming] = []
        self.gate: asyncio.Event | None = None  # when set, handle() waits for it (slow work)
        self.answer: Callable[[Incoming], Any] = lambda incoming: [
            Message(kind="reply", text=f"ran {incoming.command} with {incoming.args!r}")]

    async def handle(self, incoming: Incoming) -> list[Message]:
        self.seen.append(incoming)
        if self.gate is not None:
            await self.gate.wait()
        result = self.answer(incoming)
        return await result if inspect.isawaitable(result) else result


@dataclass
class Bot:
    adapter: SlackAdapter
    handler: ScriptedHandler
    slack: SlackStandIn
    url: str
    session: aiohttp.ClientSession

    async def post(self, body: bytes, *, secret: str | None = SIGNING_SECRET, timestamp: int | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, str]:
        if headers is None:
            headers = (sign_slack_request(body, secret, timestamp) if secret else
                       {"Content-Type": "application/json" if body.startswith(b"{")
                        else "application/x-www-form-urlencoded"})
        async with self.session.post(self.url, data=body, headers=headers) as response:
            return response.status, await response.text()

    async def command(self, command: str, text: str = "", **kwargs: Any) -> tuple[int, str]:
        return await self.post(self.slack.slash_command_body(command, text, **kwargs))

    async def event(self, event: dict) -> tuple[int, str]:
        return await self.post(self.slack.event_body(event))

    async def redeliver(self, body: bytes, retry: int = 1, reason: str = "http_timeout") -> tuple[int, str]:
        """`body` again as Slack retries it: signed anew, with the retry headers."""
        headers = {**sign_slack_request(body, SIGNING_SECRET), "X-Slack-Retry-Num": str(retry),
                   "X-Slack-Retry-Reason": reason}
        return await self.post(body, headers=headers)


@pytest.fixture
def slack():
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def bot(slack):
    handler = ScriptedHandler()
    http = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter(handler, bot_token=slack.token, mode="http", signing_secret=SIGNING_SECRET,
                           api_base_url=slack.api_url, admin_user_ids=[LISTED_ADMIN], installer_user_id=INSTALLER,
                           http=http, timeout_s=5)
    await http.start()
    await adapter.start()
    async with aiohttp.ClientSession() as session:
        yield Bot(adapter, handler, slack, f"http://127.0.0.1:{http.port}/slack/events", session)
    await adapter.stop()
    await http.stop()


def section_texts(blocks: list[dict]) -> list[str]:
    texts = []
    for block in blocks:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [element["text"] for element in block["elements"]]
    return texts


def shown_text(body: dict) -> str:
    return "\n".join(section_texts(body["blocks"]))


# ----- signatures ---------------------------------------------------------------------------------

async def test_url_verification_gets_its_challenge(bot):
    status, text = await bot.post(url_verification_body("challenge-123"))
    assert status == 200 and json.loads(text) == {"challenge": "challenge-123"}


@pytest.mark.parametrize("how", ["unsigned", "forged", "stale", "tampered"])
async def test_requests_not_signed_by_slack_get_401_and_reach_no_handler(bot, slack, how):
    body = slack.slash_command_body("/subscribe", "climate")
    if how == "unsigned":
        status, _ = await bot.post(body, secret=None)
    elif how == "forged":
        status, _ = await bot.post(body, secret="not-the-signing-secret")
    elif how == "stale":  # correctly signed, six minutes ago
        status, _ = await bot.post(body, timestamp=int(time.time()) - 6 * 60)
    else:  # signed, then the text changed on the way
        headers = sign_slack_request(body, SIGNING_SECRET)
        status, _ = await bot.post(body.replace(b"climate", b"everything"), headers=headers)
    mention_status, _ = await bot.post(slack.event_body(app_mention_event("<@U0BRIEFBOT> digest")),
                                       secret="not-the-signing-secret")
    await asyncio.sleep(0.2)  # a wrongly accepted request would have run by now
    assert (status, mention_status) == (401, 401)
    assert bot.handler.seen == []
    assert slack.calls("response_url") == [] and slack.calls("chat.postMessage") == []


# ----- slash commands -----------------------------------------------------------------------------

@pytest.mark.parametrize("slash", sorted(SLASH_COMMANDS))
async def test_every_slash_command_reaches_the_service_and_is_answered_in_the_channel(bot, slack, slash):
    body = slack.slash_command_body(slash, "some &lt;args&gt; &amp; <https://example.com/a|example.com/a>",
                                    channel_id="C0NEWS", channel_name="news", user_id="U0ADA")
    status, _ = await bot.post(body)
    (response,) = [c.params["body"] for c in await slack.await_calls("response_url")]

    assert status == 200
    (incoming,) = bot.handler.seen
    assert incoming.command == SLASH_COMMANDS[slash]
    assert incoming.args == "some <args> & https://example.com/a"  # Slack's escaping and link markup undone
    assert (incoming.chat.platform, incoming.chat.chat_id, incoming.chat.thread_id) == ("slack", "C0NEWS", None)
    assert (incoming.chat_kind, incoming.chat_title, incoming.user_id) == ("group", "news", "U0ADA")
    assert shown_text(response) == f"ran {incoming.command} with {incoming.args!r}".replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;")
    assert response["response_type"] == ("ephemeral" if slash == "/briefbot-help" else "in_channel")


@pytest.mark.parametrize(("text", "command", "args"), [
    ("", "help", ""),
    ("subscribe \"North Korea\" missile", "subscribe", "\"North Korea\" missile"),
    ("/sources add https://example.com/feed.xml", "sources", "add https://example.com/feed.xml"),
    ("https://example.com/story", None, "https://example.com/story"),  # no command: the service decides
])
async def test_the_briefbot_umbrella_command(bot, slack, text, command, args):
    await bot.command("/briefbot", text)
    await slack.await_calls("response_url")
    (incoming,) = bot.handler.seen
    assert (incoming.command, incoming.args) == (command, args)


async def test_a_direct_message_slash_command_is_a_private_chat(bot, slack):
    bot.handler.answer = lambda incoming: [Message(kind="reply", text="ok")]
    await bot.command("/schedule", "07:30", channel_id="D0ADA", channel_name="directmessage")
    await slack.await_calls("response_url")
    (incoming,) = bot.handler.seen
    assert (incoming.chat.chat_id, incoming.chat_kind, incoming.chat_title) == ("D0ADA", "private", None)


async def test_the_ack_comes_back_before_the_slow_work_is_done(bot, slack):
    bot.handler.gate = asyncio.Event()
    status, ack_text = await bot.command("/summary", "https://example.com/long-story")
    # The HTTP answer is already here while the handler is still blocked on its gate.
    working = [c.command for c in bot.handler.seen]
    answered_before = list(slack.calls("response_url"))
    bot.handler.gate.set()
    await slack.await_calls("response_url")
    assert status == 200 and ack_text == WORKING
    assert working == ["summary"] and answered_before == []


async def test_other_commands_ack_with_an_empty_body(bot, slack):
    status, text = await bot.command("/alerts")
    await slack.await_calls("response_url")
    assert (status, text) == (200, "")


async def test_a_long_answer_is_split_and_more_than_five_parts_go_through_the_web_api(bot, slack):
    digest = Message(kind="digest", heading="Digest", items=[BriefItem(headline=f"Story {n}", points=["x" * 2500])
                                                             for n in range(30)])
    expected = render_message(digest)
    bot.handler.answer = lambda incoming: [digest]
    await bot.command("/digest", channel_id="C0NEWS")
    responses = [c.params["body"] for c in await slack.await_calls("response_url", count=5)]
    await slack.await_calls("chat.postMessage", count=len(expected) - 5)
    parts = responses + slack.posted_messages("C0NEWS")
    assert len(expected) > 5
    assert [p["blocks"] for p in parts] == [p["blocks"] for p in expected]
    headlines = [t.split("*")[1] for p in parts for t in section_texts(p["blocks"]) if t.startswith("*Story")]
    assert headlines == [f"Story {n}" for n in range(30)]  # every item, once, in order


# ----- mentions and messages -----------------------------------------------------------------------

async def test_a_mention_runs_the_command_and_answers_in_the_channel(bot, slack):
    await bot.event(app_mention_event("<@U0BRIEFBOT> summary <https://example.com/news|example.com/news>",
                                      channel="C0NEWS", user="U0ADA"))
    (call,) = await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert (incoming.command, incoming.args) == ("summary", "https://example.com/news")
    assert (incoming.chat.chat_id, incoming.chat.thread_id, incoming.chat_kind) == ("C0NEWS", None, "group")
    assert call.params["channel"] == "C0NEWS" and "thread_ts" not in call.params
    assert "ran summary" in shown_text(call.params)


async def test_a_mention_in_a_thread_is_answered_in_that_thread(bot, slack):
    await bot.event(app_mention_event("<@U0BRIEFBOT> subscribe climate", channel="C0NEWS",
                                      thread_ts="1700000000.000100"))
    (call,) = await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert incoming.chat.thread_id == "1700000000.000100"
    assert call.params["thread_ts"] == "1700000000.000100"


@pytest.mark.parametrize(("text", "command", "args"), [
    ("<@U0BRIEFBOT>", "help", ""),
    ("<@U0BRIEFBOT> <https://example.com/a>", None, "https://example.com/a"),  # a bare link: the service decides
    ("<@U0BRIEFBOT> what is this", "what", "is this"),
    ("<@U0BRIEFBOT>: Digest", "digest", ""),
])
async def test_what_a_mention_means(bot, slack, text, command, args):
    await bot.event(app_mention_event(text))
    await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert (incoming.command, incoming.args) == (command, args)


async def test_a_direct_message_is_a_command_in_a_private_chat(bot, slack):
    await bot.event(message_event("alerts", channel="D0ADA", channel_type="im"))
    (call,) = await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert (incoming.command, incoming.chat.chat_id, incoming.chat_kind) == ("alerts", "D0ADA", "private")
    assert call.params["channel"] == "D0ADA"


async def test_channel_chatter_and_bot_messages_are_ignored(bot, slack):
    await bot.event(message_event("summary of the meeting?", channel="C0NEWS"))
    await bot.event(message_event("<@U0BRIEFBOT> digest", channel="C0NEWS"))  # the app_mention answers it
    await bot.event(message_event("digest", channel="D0ADA", channel_type="im", bot_id="B0OTHER"))
    await bot.event(message_event("/sources", channel="C0NEWS"))  # no file
    await asyncio.sleep(0.3)
    assert bot.handler.seen == [] and slack.calls("chat.postMessage") == []


# ----- retried deliveries --------------------------------------------------------------------------

async def answered_after(bot: Bot, slack: SlackStandIn) -> None:
    """Send one more event, in its own channel, and wait for its answer. Requests run in the order
    they came, so a redelivery that wrongly reached a listener before it has started by then."""
    await bot.event(message_event("alerts", channel="D0MARKER", channel_type="im"))
    await slack.await_calls("chat.postMessage", where=lambda c: c.params["channel"] == "D0MARKER")


@pytest.mark.parametrize("event", [
    app_mention_event("<@U0BRIEFBOT> summary <https://example.com/a|example.com/a>", channel="C0NEWS"),
    message_event("<https://example.com/pasted>", channel="D0ADA", channel_type="im"),
], ids=["mention", "pasted-link"])
async def test_a_retried_event_is_acknowledged_and_answered_once(bot, slack, event):
    body = slack.event_body(event)
    first = await bot.post(body)
    await slack.await_calls("chat.postMessage", where=lambda c: c.params["channel"] == event["channel"])
    retries = [await bot.redeliver(body, retry=n) for n in (1, 2, 3)]
    await answered_after(bot, slack)
    assert [first, *retries] == [(200, "")] * 4
    assert len(slack.posted_messages(event["channel"])) == 1
    # The mention names its command; a pasted link has none (the service reads it as a summary).
    expected = "summary" if event["type"] == "app_mention" else None
    assert [(i.chat.chat_id, i.command) for i in bot.handler.seen] == [(event["channel"], expected),
                                                                        ("D0MARKER", "alerts")]
    assert {(i.help_command, i.attachment_hint) for i in bot.handler.seen} \
        == {("/briefbot-help", "share the file in the channel with the message /sources")}  # Slack's own words


async def test_a_retry_while_the_first_delivery_is_still_being_answered_is_ignored(bot, slack):
    bot.handler.gate = asyncio.Event()  # the first delivery's command is slow
    body = slack.event_body(app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS"))
    first = await bot.post(body)
    retry = await bot.redeliver(body, retry=1, reason="http_timeout")
    bot.handler.gate.set()
    await answered_after(bot, slack)
    assert (first, retry) == ((200, ""), (200, ""))
    assert len(slack.posted_messages("C0NEWS")) == 1
    assert [i.chat.chat_id for i in bot.handler.seen] == ["C0NEWS", "D0MARKER"]


async def test_different_events_are_each_answered_even_when_they_say_the_same(bot, slack):
    # Two people (or one, twice) send the same words: two events, two event_ids, two answers. A
    # first delivery that never arrived leaves the retry as the only one: answered too.
    mention = app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS", ts="1700000000.000100")
    once, again = slack.event_body(mention), slack.event_body(mention)
    lost_first = slack.event_body(app_mention_event("<@U0BRIEFBOT> alerts", channel="C0NEWS"))
    statuses = [await bot.post(once), await bot.post(again), await bot.redeliver(lost_first, retry=2)]
    await slack.await_calls("chat.postMessage", count=3)
    assert json.loads(once)["event_id"] != json.loads(again)["event_id"]
    assert statuses == [(200, "")] * 3
    assert sorted(i.command for i in bot.handler.seen) == ["alerts", "digest", "digest"]
    assert len(slack.posted_messages("C0NEWS")) == 3


async def test_a_forged_delivery_does_not_use_up_a_real_events_id(bot, slack):
    body = slack.event_body(app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS"))
    forged, _ = await bot.post(body, secret="not-the-signing-secret")
    real = await bot.redeliver(body, retry=1)
    await slack.await_calls("chat.postMessage")
    assert (forged, real) == (401, (200, ""))
    assert [i.command for i in bot.handler.seen] == ["digest"]


# ----- what the bot does not know ------------------------------------------------------------------

async def test_an_unknown_slash_command_reaches_the_service_instead_of_failing(bot, slack):
    # A command in the app's settings that this code lacks: the service answers it (with the help).
    status, _ = await bot.command("/frobnicate", "now", channel_id="C0NEWS")
    (response,) = [c.params["body"] for c in await slack.await_calls("response_url")]
    (incoming,) = bot.handler.seen
    assert status == 200
    assert (incoming.command, incoming.args, incoming.chat.chat_id) == ("frobnicate", "now", "C0NEWS")
    assert shown_text(response) == "ran frobnicate with 'now'"


async def test_an_event_type_the_bot_does_not_handle_is_acknowledged_and_logged_at_debug(bot, slack, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.adapters.slack")
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    reaction = {"type": "reaction_added", "user": "U0ADA", "reaction": "thumbsup", "item_user": "U0BRIEFBOT",
                "item": {"type": "message", "channel": "C0NEWS", "ts": "1700000000.000100"},
                "event_ts": "1700000000.000200"}
    status = await bot.event(reaction)
    joined = await bot.event({"type": "member_joined_channel", "user": "U0ADA", "channel": "C0NEWS",
                              "channel_type": "C", "event_ts": "1700000000.000300"})
    await answered_after(bot, slack)
    assert (status, joined) == ((200, ""), (200, ""))
    assert [i.chat.chat_id for i in bot.handler.seen] == ["D0MARKER"]
    ignored = [r.getMessage() for r in caplog.records
               if r.name == "bot.adapters.slack.handlers" and r.levelno == logging.DEBUG and "ignored" in r.getMessage()]
    assert ignored == ["ignored a reaction_added event: nothing to do for it",
                       "ignored a member_joined_channel event: nothing to do for it"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


# ----- files ---------------------------------------------------------------------------------------

OPML = b"""<?xml version="1.0"?><opml version="2.0"><body>
<outline type="rss" text="Example" xmlUrl="https://example.com/feed.xml"/></body></opml>"""


def with_files(event: dict, *files: dict) -> dict:
    return {**event, "subtype": "file_share", "files": list(files)}


async def test_an_opml_file_shared_with_sources_is_downloaded_with_the_token(bot, slack):
    shared = slack.add_file(OPML, "feeds.opml")
    await bot.event(with_files(message_event("/sources", channel="C0NEWS"), shared))
    await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert incoming.command == "sources" and incoming.attachment is not None
    assert (incoming.attachment.filename, incoming.attachment.content) == ("feeds.opml", OPML)
    (download,) = slack.calls("file")
    assert download.response == {"bytes": len(OPML)}  # not the sign-in page: the token went along


async def test_a_file_known_only_by_id_is_looked_up_with_files_info(bot, slack):
    shared = slack.add_file(OPML, "list.opml")
    partial = {"id": shared["id"], "file_access": "check_file_info"}
    await bot.event(with_files(app_mention_event("<@U0BRIEFBOT> sources", channel="C0NEWS"), partial))
    await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert incoming.attachment.content == OPML
    assert [c.params["file"] for c in slack.calls("files.info")] == [shared["id"]]


async def test_too_big_or_foreign_files_are_refused_without_reaching_the_service(bot, slack):
    big = slack.add_file(b"<opml>" + b" " * 1_000_001 + b"</opml>", "huge.opml")
    foreign = {**slack.add_file(OPML), "url_private": "https://files.evil.example/steal-the-token"}
    foreign.pop("url_private_download")
    await bot.event(with_files(message_event("/sources", channel="C0A"), big))
    await bot.event(with_files(message_event("/sources", channel="C0B"), foreign))
    calls = await slack.await_calls("chat.postMessage", count=2)
    answers = {c.params["channel"]: shown_text(c.params) for c in calls}
    assert "1,000,000 bytes" in answers["C0A"]
    assert "only read files stored in this Slack workspace" in answers["C0B"]
    assert bot.handler.seen == [] and slack.calls("file") == []


# ----- who may change a chat's settings ----------------------------------------------------------------

@pytest.mark.parametrize(("user", "channel", "expected", "asks_slack"), [
    ("U0MEMBER", "C0NEWS", False, True),
    ("U0ADMIN", "C0NEWS", True, True),
    ("U0OWNER", "C0NEWS", True, True),
    ("U0NOBODY", "C0NEWS", False, True),  # users.info: user_not_found
    (INSTALLER, "C0NEWS", True, False),
    (LISTED_ADMIN, "C0NEWS", True, False),
    ("U0MEMBER", "D0MEMBER", True, False),  # a direct message is the person's own chat
])
async def test_admin_check(bot, slack, user, channel, expected, asks_slack):
    slack.set_user("U0MEMBER")
    slack.set_user("U0ADMIN", is_admin=True)
    slack.set_user("U0OWNER", is_owner=True)

    async def answer(incoming: Incoming) -> list[Message]:
        return [Message(kind="reply", text=f"admin={await incoming.is_admin()}")]

    bot.handler.answer = answer
    await bot.command("/subscribe", "climate", user_id=user, channel_id=channel)
    (response,) = [c.params["body"] for c in await slack.await_calls("response_url")]
    assert shown_text(response) == f"admin={expected}"
    admin_calls = [c for c in slack.calls("users.info") if not c.params.get("include_locale")]  # not the DM's locale
    assert [c.params["user"] for c in admin_calls] == ([user] if asks_slack else [])


async def test_admin_answers_are_cached_briefly(bot, slack):
    slack.set_user("U0ADMIN", is_admin=True)
    for _ in range(3):
        assert await bot.adapter.admin.is_admin("U0ADMIN")
    assert len(slack.calls("users.info")) == 1


# ----- escaping ----------------------------------------------------------------------------------------

HOSTILE = ["<b>bold</b>", "Tom & Jerry", "<!everyone> read this", "<!channel>", "<!here>", "<@U0123ABC>",
           "<https://evil.example|click>", "<#C0SECRET|secret>"]


async def test_hostile_titles_cannot_ping_or_forge_links(bot, slack):
    items = [BriefItem(headline=title, points=[f"point {title}"], links=[Link(title, "https://example.com/a?b=1&c=2"),
                                                                        Link("script", "javascript:alert(1)")])
             for title in HOSTILE]
    bot.handler.answer = lambda incoming: [Message(kind="reply", heading=HOSTILE[2], text=" ".join(HOSTILE),
                                                   items=items, footer=HOSTILE[3])]
    await bot.event(app_mention_event("<@U0BRIEFBOT> summary"))
    (call,) = await slack.await_calls("chat.postMessage")
    every_text = [call.params["text"], *section_texts(call.params["blocks"])]
    for text in every_text:
        for dangerous in ("<!everyone>", "<!channel>", "<!here>", "<@U0123ABC>", "<https://evil", "<#C0SECRET",
                          "javascript:", "<b>"):
            assert dangerous not in text
        # The only "<" left open a link of ours: to the article, escaped, with an escaped label.
        for opening in text.split("<")[1:]:
            assert opening.startswith("https://example.com/a?b=1&amp;c=2|")
    assert "Tom &amp; Jerry" in every_text[0]
    assert all(b["text"].get("verbatim") for b in call.params["blocks"] if b["type"] == "section")


async def test_hostile_words_typed_by_people_come_back_escaped(bot, slack):
    bot.handler.answer = lambda incoming: [Message(kind="reply", text=f"No alert for {incoming.args} here.")]
    await bot.command("/unsubscribe", "&lt;!channel&gt; &amp; &lt;@U0123ABC&gt;")
    (response,) = [c.params["body"] for c in await slack.await_calls("response_url")]
    assert shown_text(response) == "No alert for &lt;!channel&gt; &amp; &lt;@U0123ABC&gt; here."


# ----- failures on the way back ------------------------------------------------------------------

async def test_a_failing_handler_still_gets_an_answer(bot, slack):
    def explode(incoming):
        raise RuntimeError("boom")

    bot.handler.answer = explode
    await bot.command("/digest")
    (response,) = [c.params["body"] for c in await slack.await_calls("response_url")]
    assert "something went wrong" in shown_text(response)


async def test_an_expired_response_url_falls_back_to_posting_in_the_channel(bot, slack):
    await bot.command("/alerts", channel_id="C0NEWS", response_url=f"{slack.url}/expired/R0OLD")
    (call,) = await slack.await_calls("chat.postMessage")
    assert call.params["channel"] == "C0NEWS" and shown_text(call.params) == "ran alerts with ''"


async def test_files_shared_with_other_commands_are_not_downloaded(bot, slack):
    shared = slack.add_file(OPML, "feeds.opml")
    await bot.event(with_files(app_mention_event("<@U0BRIEFBOT> digest", channel="C0NEWS"), shared))
    await slack.await_calls("chat.postMessage")
    (incoming,) = bot.handler.seen
    assert (incoming.command, incoming.attachment) == ("digest", None) and slack.calls("file") == []
