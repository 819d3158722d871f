"""The stand-ins answer the REAL python-telegram-bot and slack_sdk / slack-bolt like the real APIs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from slack_bolt import App
from slack_bolt.async_app import AsyncApp
from slack_bolt.request import BoltRequest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.support.standins import slack as slack_standin
from tests.support.standins import Rate, SlackFault, SlackLimits, SlackStandIn, TelegramFault, TelegramLimits, TelegramStandIn
from tests.support.standins.ratelimit import RateLimiter
from tests.support.standins.slack import app_mention_event, post_signed, sign_slack_request, url_verification_body
from tests.support.standins.slack_interactions import interaction_body
from tests.support.standins.telegram import (
    GROUP_ANONYMOUS_BOT_ID,
    channel_chat,
    group_chat,
    post_update,
    private_chat,
    supergroup_chat,
    user,
)
from tests.support.standins.telegram_markup import MarkupError, parse_markup

ADA = user(42, "Ada", username="ada")
SIGNING_SECRET = "standin-signing-secret"
TESTS = Path(__file__).parents[1]
TELEGRAM_PAYLOADS = TESTS / "adapters" / "telegram" / "payloads"
SLACK_PAYLOADS = TESTS / "adapters" / "slack" / "payloads"


@pytest.fixture
def slack():
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def bot(tg):
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as real_bot:
        yield real_bot


def shape(value):
    """The keys and value types of a JSON document (lists by their first item): what a recorded payload
    and the stand-in's must share."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def seconds(value: int | timedelta) -> float:
    """RetryAfter.retry_after is an int or a timedelta, depending on PTB's PTB_TIMEDELTA setting."""
    return value.total_seconds() if isinstance(value, timedelta) else value


# ----- Telegram -----------------------------------------------------------------------------------

async def test_bot_calls_are_served_and_recorded(tg, bot):
    me = await bot.get_me()
    sent = await bot.send_message(ADA["id"], "Hello <b>Ada</b>", parse_mode="HTML")

    assert (me.id, me.username, me.is_bot) == (tg.bot_id, "briefbot_test_bot", True)
    assert sent.text == "Hello Ada" and sent.chat.id == 42 and sent.from_user.id == tg.bot_id
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 6, 3)]
    (call,) = tg.calls("sendMessage")
    assert call.params == {"chat_id": 42, "text": "Hello <b>Ada</b>", "parse_mode": "HTML"}
    assert call.status == 200 and call.http_method == "POST" and tg.token not in call.path
    assert tg.sent_per_chat() == {42: 1}
    assert tg.calls_by_method() == {"getMe": 2, "sendMessage": 1}  # Bot.initialize() calls getMe too


async def test_application_polls_pushed_updates_and_replies_in_the_topic(tg):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(f"started by {update.effective_user.first_name}")

    app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    forum = supergroup_chat(-1001000000001, "News desk", is_forum=True)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        tg.push_message(private_chat(ADA), "/start")
        tg.push_message(forum, "/start", sender=user(7, "Bob"), thread_id=12)
        await tg.await_calls("sendMessage", count=2)
        await app.updater.stop()
        await app.stop()

    private, topic = tg.sent_messages()
    assert (private["chat"]["id"], private["text"]) == (42, "started by Ada")
    assert (topic["chat"]["id"], topic["message_thread_id"], topic["text"]) == (forum["id"], 12, "started by Bob")
    polls = tg.calls("getUpdates")
    assert polls[0].params["timeout"] == 5
    assert any(c.params.get("offset") == 3 for c in polls)  # both updates confirmed
    assert tg.pending_updates() == []


async def test_updates_of_every_chat_kind_parse_in_ptb(tg, bot):
    group = group_chat(-4001, "Friends")
    news = channel_chat(-1002000000001, "News", username="newschan")
    tg.push_message(group, "/digest 08:00", anonymous_admin=True)
    tg.push_message(news, "channel post")
    tg.push_document(private_chat(ADA), b"<opml version='2.0'/>", "feeds.opml", text="/import")

    anonymous, post, document = await bot.get_updates(timeout=0)

    assert anonymous.message.from_user.id == GROUP_ANONYMOUS_BOT_ID
    assert anonymous.message.sender_chat.id == group["id"]
    assert anonymous.message.text == "/digest 08:00" and anonymous.message.entities[0].type == "bot_command"
    assert post.channel_post.sender_chat.username == "newschan" and post.channel_post.from_user is None
    assert document.message.caption == "/import" and document.message.document.file_name == "feeds.opml"
    telegram_file = await document.message.document.get_file()
    assert bytes(await telegram_file.download_as_bytearray()) == b"<opml version='2.0'/>"
    assert tg.calls("file")[0].status == 200


async def test_get_updates_honours_offset_and_allowed_updates(tg, bot):
    first = tg.push_message(private_chat(ADA), "one")
    tg.push_message(channel_chat(-1002000000002), "post")
    third = tg.push_message(private_chat(ADA), "three")

    only_messages = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.update_id for u in only_messages] == [first["update_id"], third["update_id"]]
    after_first = await bot.get_updates(offset=first["update_id"] + 1, timeout=0)
    assert [u.message.text for u in after_first] == ["three"]
    assert len(tg.pending_updates()) == 2  # the first is confirmed, the post waits (not allowed)


async def test_long_poll_waits_for_a_pushed_update(tg, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await tg.await_calls("getUpdates", answered=False)  # the poll is waiting at the server
    await asyncio.sleep(0.2)
    assert not poll.done()
    tg.push_message(private_chat(ADA), "late news")
    (update,) = await asyncio.wait_for(poll, 5)
    assert update.message.text == "late news"


async def test_a_second_poller_ends_the_first_with_conflict(tg, bot):
    # As when a second copy of the bot starts polling with the same token.
    async with Bot(tg.token, base_url=tg.base_url) as second_copy:
        first = asyncio.create_task(bot.get_updates(timeout=10))
        await tg.await_calls("getUpdates", answered=False)
        second = asyncio.create_task(second_copy.get_updates(timeout=10))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 5)
        tg.push_message(private_chat(ADA), "for the survivor")
        assert [u.message.text for u in await asyncio.wait_for(second, 5)] == ["for the survivor"]


async def test_strict_chats_refuse_unknown_ids():
    with TelegramStandIn(strict_chats=True) as strict:
        strict.add_chat(private_chat(ADA))
        async with Bot(strict.token, base_url=strict.base_url) as strict_bot:
            assert (await strict_bot.send_message(42, "known")).chat.first_name == "Ada"
            with pytest.raises(BadRequest, match="[Cc]hat not found"):
                await strict_bot.send_message(43, "unknown")
            with pytest.raises(BadRequest, match="[Cc]hat not found"):
                await strict_bot.send_message("@nobody", "unknown username")


async def test_webhook_and_commands(tg, bot):
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://bot.example.org/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""

    assert await bot.set_my_commands([("subscribe", "Alert me on a keyword"), ("digest", "Daily digest")])
    assert [c.command for c in await bot.get_my_commands()] == ["subscribe", "digest"]
    with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
        await bot.set_my_commands([("Not-Valid", "x")])
    assert await bot.send_chat_action(ADA["id"], "typing")
    assert await bot.close() and await bot.log_out()


async def test_chat_members_and_administrators(tg, bot):
    group = supergroup_chat(-1003000000001, "Club")
    tg.add_chat(group)
    tg.set_member(group["id"], user(1, "Owner"), "creator")
    tg.set_member(group["id"], user(2, "Admin"), "administrator")
    tg.set_member(group["id"], tg.bot_user, "administrator")
    tg.push_message(group, "hi", sender=user(3, "Member"))

    admins = await bot.get_chat_administrators(group["id"])
    assert sorted(m.user.id for m in admins) == [1, 2, tg.bot_id]
    assert (await bot.get_chat_member(group["id"], 3)).status == "member"
    assert (await bot.get_chat_member(group["id"], 2)).status == "administrator"
    with pytest.raises(BadRequest, match="[Uu]ser not found"):
        await bot.get_chat_member(group["id"], 999)
    with pytest.raises(BadRequest, match="no administrators in the private chat"):
        await bot.get_chat_administrators(ADA["id"])
    chat = await bot.get_chat(group["id"])
    assert (chat.title, chat.type) == ("Club", "supergroup")


async def test_edit_message_text(tg, bot):
    sent = await bot.send_message(ADA["id"], "draft")
    edited = await bot.edit_message_text("final", chat_id=ADA["id"], message_id=sent.message_id)
    assert edited.text == "final" and tg.message(42, sent.message_id)["text"] == "final"
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("final", chat_id=ADA["id"], message_id=sent.message_id)
    with pytest.raises(BadRequest, match="not found"):
        await bot.edit_message_text("x", chat_id=ADA["id"], message_id=999)


async def test_injected_faults_surface_as_ptb_errors(tg, bot):
    tg.fail_next(42, TelegramFault.forbidden())
    tg.fail_next(42, TelegramFault.too_many_requests(7))
    tg.fail_next(42, TelegramFault.server_error())
    tg.fail_next(42, TelegramFault.bad_request("Bad Request: chat not found"))

    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(42, "one")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(42, "two")
    assert seconds(flood.value.retry_after) == 7
    with pytest.raises(NetworkError):
        await bot.send_message(42, "three")
    with pytest.raises(BadRequest, match="[Cc]hat not found"):
        await bot.send_message(42, "four")
    assert (await bot.send_message(42, "five")).text == "five"
    assert [c.status for c in tg.calls("sendMessage")] == [403, 429, 500, 400, 200]
    assert tg.calls("sendMessage")[1].response["parameters"] == {"retry_after": 7}
    assert tg.sent_per_chat() == {42: 1}


async def test_faults_are_per_chat_and_counted(tg, bot):
    tg.fail_next(42, TelegramFault.forbidden(), count=2)
    assert (await bot.send_message(43, "other chat")).chat.id == 43
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(42, "blocked")
    assert (await bot.send_message(42, "unblocked")).text == "unblocked"

    tg.forbid_chat(-4002)
    with pytest.raises(Forbidden, match="kicked from the group chat"):
        await bot.send_message(-4002, "gone")


async def test_slow_answer_is_an_unknown_outcome(tg):
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(tg.token, base_url=tg.base_url, request=request) as impatient:
        tg.fail_next(42, TelegramFault.slow(2.0, deliver=True))
        with pytest.raises(TimedOut):
            await impatient.send_message(42, "did it arrive?")
    # The client saw a timeout, yet the message was delivered.
    assert [m["text"] for m in tg.sent_messages(42)] == ["did it arrive?"]


async def test_a_slow_delivered_message_counts_against_the_limits(tg):
    tg.enforce_limits(TelegramLimits(per_chat=Rate(1, 60.0)))
    tg.fail_next(42, TelegramFault.slow(0.2, deliver=True))
    async with Bot(tg.token, base_url=tg.base_url) as patient:
        await patient.send_message(42, "slow but sent")
        with pytest.raises(RetryAfter):
            await patient.send_message(42, "too soon after it")
    assert [v.limit for v in tg.violations()] == ["per_chat"]


async def test_wrong_token_and_unknown_method(tg, bot):
    stranger = Bot("123456789:not-the-token", base_url=tg.base_url)
    with pytest.raises(InvalidToken, match="rejected"):
        await stranger.initialize()
    await stranger.shutdown()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendCarrierPigeon")
    assert [(c.method, c.status) for c in tg.calls()[-2:]] == [("getMe", 401), ("sendCarrierPigeon", 404)]


async def test_markup_errors_and_length_limit_come_back_as_bad_request(tg, bot):
    with pytest.raises(BadRequest, match="reserved and must be escaped"):
        await bot.send_message(42, "Markets fell 3.5%", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match='[Uu]nsupported start tag "div"'):
        await bot.send_message(42, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(42, "😀" * 2049)  # 4098 UTF-16 units
    assert (await bot.send_message(42, "😀" * 2048)).text == "😀" * 2048


def test_html_and_markdown_v2_parsing():
    assert parse_markup('<b>Top</b> &amp; <a href="https://x.org/a?b=1">link</a>', "HTML") == (
        "Top & link", [{"type": "bold", "offset": 0, "length": 3},
                       {"type": "text_link", "offset": 6, "length": 4, "url": "https://x.org/a?b=1"}])
    assert parse_markup("*bold* and \\.escaped [site](https://x.org/\\))", "MarkdownV2") == (
        "bold and .escaped site", [{"type": "bold", "offset": 0, "length": 4},
                                   {"type": "text_link", "offset": 18, "length": 4, "url": "https://x.org/)"}])
    for bad, mode in [("<b>open", "HTML"), ("<b>x</i>", "HTML"), ("a < b", "HTML"), ("*unclosed", "MarkdownV2"),
                      ("1+1", "MarkdownV2"), ("`code", "MarkdownV2")]:
        with pytest.raises(MarkupError):
            parse_markup(bad, mode)


async def test_form_json_and_multipart_bodies_are_parsed_alike(tg):
    url = f"{tg.base_url}{tg.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        as_json = await client.post(url, json={"chat_id": 42, "text": "json", "reply_markup": {"inline_keyboard": []}})
        as_form = await client.post(url, data={"chat_id": "42", "text": "123", "disable_notification": "true"})
        as_multipart = await client.post(url, data={"chat_id": "42", "text": "multi"},
                                         files={"thumbnail": ("t.txt", b"bytes", "text/plain")})
        as_get = await client.get(url, params={"chat_id": "-4003", "text": "get"})
    assert [r.json()["ok"] for r in (as_json, as_form, as_multipart, as_get)] == [True] * 4
    json_call, form_call, multipart_call, get_call = tg.calls("sendMessage")
    assert json_call.params["reply_markup"] == {"inline_keyboard": []}
    assert form_call.params == {"chat_id": 42, "text": "123", "disable_notification": True}
    assert multipart_call.files["thumbnail"].data == b"bytes"
    assert get_call.params["chat_id"] == -4003 and get_call.http_method == "GET"


async def test_enforced_limits_reject_and_count_violations(tg, bot):
    # Slow refills (per minute) keep the outcome independent of how fast this machine is.
    tg.enforce_limits(TelegramLimits(overall=Rate(6, 60.0), per_chat=Rate(3, 60.0), per_group=Rate(2, 60.0)))
    for number in range(3):
        await bot.send_message(42, f"burst {number}")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(42, "one too many for the chat")
    assert seconds(flood.value.retry_after) >= 1
    for number in range(2):
        await bot.send_message(-4004, f"group {number}")
    with pytest.raises(RetryAfter):
        await bot.send_message(-4004, "one too many for the group")
    await bot.send_message(43, "sixth message")
    with pytest.raises(RetryAfter):
        await bot.send_message(44, "one too many for the bot")

    assert [(v.limit, v.key) for v in tg.violations()] == [
        ("per_chat", "42"), ("per_group", "-4004"), ("overall", "*")]
    assert tg.sent_per_chat() == {42: 3, -4004: 2, 43: 1}


def test_leaky_bucket_semantics():
    """The documented semantics, on made-up arrival times: a burst, then the pace, with jitter forgiven."""
    limiter = RateLimiter(jitter=0.05)
    per_chat = [("per_chat", "42", Rate(1, 1.0, burst=3))]
    assert [limiter.admit(per_chat, now) for now in (0.0, 0.0, 0.0)] == [None, None, None]
    assert limiter.admit(per_chat, 0.5) == ("per_chat", "42", 1)
    # Paced at 1/s from here on (due at 1, 2, 3, 4), arriving up to 50 ms early: every message passes.
    assert [limiter.admit(per_chat, now) for now in (0.97, 2.0, 2.96, 4.0)] == [None] * 4
    assert limiter.admit(per_chat, 4.5) is not None
    per_group = [("per_group", "-1", Rate(20, 60.0))]
    assert all(limiter.admit(per_group, 0.0) is None for _ in range(20))
    assert limiter.admit(per_group, 1.0) == ("per_group", "-1", 2)  # one slot drains every 3 s


async def test_limits_are_off_unless_enforced(tg, bot):
    for number in range(5):
        await bot.send_message(42, f"fast {number}")
    assert tg.violations() == [] and tg.sent_per_chat() == {42: 5}


def test_a_subprocess_reaches_the_stand_in(tg):
    script = (f"import json, urllib.request; print(json.load(urllib.request.urlopen("
              f"'{tg.base_url}{tg.token}/getMe'))['result']['username'])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True)
    assert result.stdout.strip() == "briefbot_test_bot"
    assert tg.calls("getMe")[0].http_method == "GET"


def test_stand_in_restarts_on_a_fresh_port():
    stand_in = TelegramStandIn()
    stand_in.start()
    stand_in.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = stand_in.port


# ----- Slack ----------------------------------------------------------------------------------------

@pytest.fixture
async def client(slack):
    return AsyncWebClient(token=slack.token, base_url=slack.api_url)


async def test_async_client_posts_and_is_recorded(slack, client):
    auth = await client.auth_test()
    posted = await client.chat_postMessage(channel="C100", text="Morning brief", blocks=[
        {"type": "header", "text": {"type": "plain_text", "text": "Morning"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*AI*: news"}}])

    assert (auth["user_id"], auth["bot_id"], auth["team_id"]) == (slack.bot_user_id, slack.bot_id, slack.team_id)
    assert posted["channel"] == "C100" and posted["message"]["text"] == "Morning brief"
    (call,) = slack.calls("chat.postMessage")
    assert call.params["blocks"][1]["text"]["text"] == "*AI*: news"
    assert [m["ts"] for m in slack.posted_messages("C100")] == [posted["ts"]]


async def test_ratelimited_surfaces_with_retry_after_header(slack, client):
    slack.fail_next("C100", SlackFault.ratelimited(retry_after=9))
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C100", text="x")
    assert error.value.response.status_code == 429
    assert error.value.response["error"] == "ratelimited"
    assert error.value.response.headers["Retry-After"] == "9"
    assert (await client.chat_postMessage(channel="C100", text="x"))["ok"]


async def test_slow_slack_answer_is_an_unknown_outcome(slack):
    impatient = AsyncWebClient(token=slack.token, base_url=slack.api_url, timeout=0.3)
    slack.fail_next("C100", SlackFault.slow(2.0, deliver=True))
    with pytest.raises(TimeoutError):
        await impatient.chat_postMessage(channel="C100", text="did it arrive?")
    assert [m["text"] for m in slack.posted_messages("C100")] == ["did it arrive?"]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize("kwargs, expected", [
    ({"channel": "C100", "blocks": [{"type": "divider"}] * 51}, "invalid_blocks"),
    ({"channel": "C100", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]},
     "invalid_blocks"),
    ({"channel": "C100", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]}, "invalid_blocks"),
    ({"channel": "C100", "text": "x" * 40001}, "msg_too_long"),
    ({"channel": "C100"}, "no_text"),
    ({"channel": "", "text": "x"}, "channel_not_found"),
    ({"channel": "nope", "text": "x"}, "channel_not_found"),
])
async def test_post_message_validation(client, kwargs, expected):
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(**kwargs)
    assert error.value.response["error"] == expected


async def test_a_section_of_exactly_3000_characters_passes(client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3000}}] * 50
    assert (await client.chat_postMessage(channel="C100", text="fallback", blocks=blocks))["ok"]


async def test_channels_users_and_auth(slack, client):
    slack.add_channel("C200", "private-news", is_member=False, is_private=True)
    slack.set_user("U1", is_admin=True)
    slack.set_user("U2", is_owner=True)
    with pytest.raises(SlackApiError, match="not_in_channel"):
        await client.chat_postMessage(channel="C200", text="x")
    assert (await client.conversations_info(channel="C200"))["channel"]["is_private"] is True
    assert (await client.users_info(user="U1"))["user"]["is_admin"] is True
    assert (await client.users_info(user="U2"))["user"]["is_owner"] is True
    with pytest.raises(SlackApiError, match="user_not_found"):
        await client.users_info(user="U3")
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test()
    with pytest.raises(SlackApiError, match="not_authed"):
        await AsyncWebClient(base_url=slack.api_url).auth_test()


async def test_strict_channels_refuse_unknown_ids():
    with SlackStandIn(strict_channels=True) as strict:
        strict.add_channel("C1", "news")
        client = AsyncWebClient(token=strict.token, base_url=strict.api_url)
        assert (await client.chat_postMessage(channel="C1", text="known"))["ok"]
        with pytest.raises(SlackApiError, match="channel_not_found"):
            await client.chat_postMessage(channel="C2", text="unknown")


async def test_shared_file_needs_the_token_to_download(slack, client):
    shared = slack.add_file(b"<opml/>", "feeds.opml")
    info = (await client.files_info(file=shared["id"]))["file"]
    async with httpx.AsyncClient() as http:
        with_token = await http.get(info["url_private"], headers={"Authorization": f"Bearer {slack.token}"})
        without = await http.get(info["url_private"])
    assert with_token.content == b"<opml/>"
    assert without.status_code == 200 and without.headers["content-type"].startswith("text/html")


async def test_bolt_slash_command_acks_and_responds_locally(slack, client):
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

    @app.command("/brief")
    async def brief(ack, respond, command):
        await ack()
        await respond(f"subscribed to {command['text']}")

    body = slack.slash_command_body("/brief", "north korea", user_id="U1", channel_id="C100")
    ok = await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                   headers=sign_slack_request(body, SIGNING_SECRET)))
    forged = await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                       headers=sign_slack_request(body, "wrong-secret")))

    assert ok.status == 200 and forged.status == 401
    (response,) = slack.responses()
    assert response["text"] == "subscribed to north korea"
    assert slack.calls("response_url")[0].status == 200


async def test_bolt_event_reply_uses_the_web_api(slack, client):
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

    @app.event("app_mention")
    async def mention(event, say):
        await say(f"you said: {event['text']}")

    verification = url_verification_body("abc")
    answer = await app.async_dispatch(AsyncBoltRequest(
        body=verification.decode(), headers=sign_slack_request(verification, SIGNING_SECRET)))
    assert json.loads(answer.body) == {"challenge": "abc"}

    body = slack.event_body(app_mention_event("<@U0BRIEFBOT> hello", channel="C300"))
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                         headers=sign_slack_request(body, SIGNING_SECRET)))
    assert response.status == 200
    (call,) = await slack.await_calls("chat.postMessage")
    assert call.params["channel"] == "C300" and call.params["text"] == "you said: <@U0BRIEFBOT> hello"


def test_sync_web_client_and_bolt_app(slack):
    client = WebClient(token=slack.token, base_url=slack.api_url)
    app = App(client=client, signing_secret=SIGNING_SECRET)  # verifies the token with auth.test

    @app.command("/brief")
    def brief(ack, say):
        ack()
        say("hello from sync bolt")

    body = slack.slash_command_body("/brief", channel_id="C400")
    assert app.dispatch(BoltRequest(body=body.decode(), headers=sign_slack_request(body, SIGNING_SECRET))).status == 200
    slack.wait_for_calls("chat.postMessage")
    assert slack.posted_messages("C400")[0]["text"] == "hello from sync bolt"
    assert slack.calls_by_method()["auth.test"] >= 1


async def test_slack_limits_reject_and_count_violations(slack, client):
    slack.enforce_limits(SlackLimits(per_channel=Rate(2, 60.0)))
    await client.chat_postMessage(channel="C100", text="1")
    await client.chat_postMessage(channel="C100", text="2")
    with pytest.raises(SlackApiError) as error:
        await client.chat_postMessage(channel="C100", text="3")
    await client.chat_postMessage(channel="C101", text="other channel")

    assert error.value.response.status_code == 429 and int(error.value.response.headers["Retry-After"]) >= 1
    assert [(v.limit, v.key) for v in slack.violations()] == [("per_channel", "C100")]
    assert slack.sent_per_channel() == {"C100": 2, "C101": 1}


# ----- Telegram buttons ---------------------------------------------------------------------------

def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(text, callback_data=data) for text, data in row]
                                 for row in rows])


async def test_a_press_arrives_through_get_updates_and_is_answered_once(tg, bot):
    pressed: list[CallbackQuery] = []

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        pressed.append(query)
        await query.answer("Paused", show_alert=False)
        await query.edit_message_reply_markup(keyboard([("Resume", "r:1")]))

    app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).build()
    app.add_handler(CallbackQueryHandler(on_press))
    german = tg.add_user(user(42, "Ada", username="ada", language_code="de"))
    async with app:
        sent = await app.bot.send_message(42, "Feeds", reply_markup=keyboard([("Pause", "p:1"), ("Remove", "x:1")]))
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        update = tg.press_button(42, sent.message_id, "p:1")
        await tg.await_calls("editMessageReplyMarkup")
        await app.updater.stop()
        await app.stop()

    (query,) = pressed
    assert query.id == update["callback_query"]["id"] and query.data == "p:1"
    assert query.from_user.id == 42 and query.from_user.language_code == german["language_code"] == "de"
    assert query.message.message_id == sent.message_id and query.message.reply_markup.inline_keyboard[0][0].text == "Pause"
    assert query.chat_instance == update["callback_query"]["chat_instance"]
    assert tg.callback_answers() == [{"callback_query_id": query.id, "text": "Paused", "show_alert": False,
                                      "url": None, "cache_time": 0}]
    assert tg.message(42, sent.message_id)["reply_markup"] == {"inline_keyboard": [[{"text": "Resume",
                                                                                     "callback_data": "r:1"}]]}
    assert [m["message_id"] for m in tg.edited_messages(42)] == [sent.message_id]
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id, "again")
    assert tg.calls("answerCallbackQuery")[-1].response["description"] == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid")


async def test_a_group_press_carries_the_real_user_even_for_an_anonymous_admin(tg, bot):
    group = supergroup_chat(-1003000000002, "Desk")
    tg.add_chat(group)
    boss = user(5, "Boss", language_code="es")
    tg.set_member(group["id"], boss, "administrator", is_anonymous=True)
    sent = await bot.send_message(group["id"], "Alerts", reply_markup=keyboard([("Stop", "s:9")]))
    with pytest.raises(ValueError, match="(?i)needs a sender"):
        tg.press_button(group["id"], sent.message_id, "s:9")
    tg.press_button(group["id"], sent.message_id, "s:9", sender=boss)

    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert (query.from_user.id, query.from_user.language_code) == (5, "es")
    assert query.message.chat.id == group["id"]
    member = await bot.get_chat_member(group["id"], query.from_user.id)
    assert member.status == "administrator" and member.is_anonymous is True


async def test_only_existing_buttons_can_be_pressed_unless_forged(tg, bot):
    sent = await bot.send_message(42, "Feeds", reply_markup=keyboard([("Pause", "p:1")]))
    plain = await bot.send_message(42, "no buttons")
    with pytest.raises(ValueError, match="(?i)no button"):
        tg.press_button(42, sent.message_id, "p:2")
    with pytest.raises(ValueError, match="(?i)no message"):
        tg.press_button(42, 999, "p:1")
    forged = tg.press_button(42, plain.message_id, "p:2", require_button=False)
    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "p:2" and update.update_id == forged["update_id"]


async def test_a_webhook_press_is_an_update_ptb_parses_and_can_answer(tg, bot):
    from aiohttp import web

    received: list[tuple[str | None, Update]] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         Update.de_json(await request.json(), bot)))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    sent = await bot.send_message(42, "Feeds", reply_markup=keyboard([("Pause", "p:1")]))
    body = tg.callback_query_update(42, sent.message_id, "p:1")
    assert tg.pending_updates() == []  # for a webhook POST, not queued
    status = await post_update(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", body, "s3cret")
    await runner.cleanup()
    ((secret, update),) = received
    assert status == 200 and secret == "s3cret" and update.update_id == body["update_id"]
    query = update.callback_query
    assert await query.answer("ok")
    late = tg.callback_query_update(42, sent.message_id, "p:1")["callback_query"]["id"]
    tg.expire_callback_query(late)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(late)
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("123")
    fresh = tg.callback_query_update(42, sent.message_id, "p:1")["callback_query"]["id"]
    with pytest.raises(BadRequest, match="(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(fresh, "x" * 201)
    assert await bot.answer_callback_query(fresh, "x" * 200, show_alert=True)
    assert [a["show_alert"] for a in tg.callback_answers()] == [False, True]


@pytest.mark.parametrize("markup, description", [
    (keyboard([("Pause", "x" * 65)]), "BUTTON_DATA_INVALID"),
    (keyboard([("Pause", "é" * 33)]), "BUTTON_DATA_INVALID"),  # 66 bytes
    (keyboard([("Pause", "")]), "BUTTON_DATA_INVALID"),
    (keyboard([("  ", "p:1")]), "BUTTON_TEXT_INVALID"),
    (InlineKeyboardMarkup([[InlineKeyboardButton("bare")]]), "Text buttons are unallowed"),
    (keyboard(*[[(f"b{i}", f"d{i}") for i in range(r * 8, r * 8 + 8)] for r in range(13)]), "reply markup is too long"),
])
async def test_inline_keyboards_are_checked_like_telegram(tg, bot, markup, description):
    with pytest.raises(BadRequest, match=f"(?i){description}"):
        await bot.send_message(42, "x", reply_markup=markup)
    sent = await bot.send_message(42, "x")
    with pytest.raises(BadRequest, match=f"(?i){description}"):
        await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=markup)
    with pytest.raises(BadRequest, match=f"(?i){description}"):
        await bot.edit_message_text("y", 42, sent.message_id, reply_markup=markup)
    assert tg.sent_per_chat() == {42: 1} and tg.edited_messages() == []
    assert description in tg.calls("sendMessage")[0].response["description"]  # Telegram's own wording


async def test_the_limits_themselves_pass(tg, bot):
    rows = [[(f"b{i}", "é" * 32) for i in range(r * 10, r * 10 + 10)] for r in range(10)]  # 100 buttons, 64 bytes
    sent = await bot.send_message(42, "x", reply_markup=keyboard(*rows))
    assert len(sent.reply_markup.inline_keyboard) == 10
    assert tg.sent_messages(42)[0]["reply_markup"]["inline_keyboard"][9][9]["callback_data"] == "é" * 32


async def test_edit_reply_markup_changes_the_stored_message(tg, bot):
    sent = await bot.send_message(42, "Feeds", reply_markup=keyboard([("Pause", "p:1")]))
    edited = await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard([("Resume", "r:1")]))
    assert edited.reply_markup.inline_keyboard[0][0].callback_data == "r:1" and edited.text == "Feeds"
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=keyboard([("Resume", "r:1")]))
    removed = await bot.edit_message_reply_markup(42, sent.message_id)
    assert removed.reply_markup is None and "reply_markup" not in tg.message(42, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_reply_markup(42, sent.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_reply_markup(42, 999, reply_markup=keyboard([("A", "a")]))
    # editMessageText keeps a keyboard only when it is sent again, as Telegram does.
    with_keyboard = await bot.edit_message_text("Feeds (1)", 42, sent.message_id, reply_markup=keyboard([("A", "a")]))
    assert with_keyboard.reply_markup.inline_keyboard[0][0].text == "A"
    assert [c.status for c in tg.calls("editMessageReplyMarkup")] == [200, 400, 200, 400, 400]


async def test_the_users_language_reaches_ptb_on_messages(tg, bot):
    tg.push_message(private_chat(ADA), "/start", sender=user(42, "Ada", language_code="pt-br"))
    tg.push_message(private_chat(ADA), "/help")  # the known user keeps their language
    first, second = await bot.get_updates(timeout=0)
    assert first.effective_user.language_code == second.effective_user.language_code == "pt-br"


@pytest.mark.parametrize("name", ["callback_query_private", "callback_query_group"])
def test_recorded_callback_query_payloads_parse_in_ptb(name):
    recorded = json.loads((TELEGRAM_PAYLOADS / f"{name}.json").read_text())
    update = Update.de_json(recorded, None)
    query = update.callback_query
    assert query.data and query.from_user.language_code and query.message.reply_markup.inline_keyboard
    assert query.message.from_user.is_bot and update.effective_chat.id == query.message.chat.id


async def test_recorded_callback_queries_have_the_stand_ins_shape(tg, bot):
    tg.add_chat(private_chat(ADA))
    sent = await bot.send_message(42, "Feeds", reply_markup=keyboard([("Pause", "p:1")]))
    made = tg.callback_query_update(42, sent.message_id, "p:1")
    recorded = json.loads((TELEGRAM_PAYLOADS / "callback_query_private.json").read_text())
    assert shape(made) == shape(recorded)


# ----- Slack interactivity ------------------------------------------------------------------------

FEED_BLOCKS = [
    {"type": "section", "block_id": "feed-1", "text": {"type": "mrkdwn", "text": "*Reuters World*"},
     "accessory": {"type": "button", "action_id": "remove_feed", "text": {"type": "plain_text", "text": "Remove"},
                   "value": "f:1", "style": "danger"}},
    {"type": "actions", "block_id": "feed-1-actions", "elements": [
        {"type": "button", "action_id": "pause_feed", "text": {"type": "plain_text", "text": "Pause"}, "value": "f:1"}]},
]
ADD_FEED_MODAL = {
    "type": "modal", "callback_id": "add_feed", "private_metadata": "C100",
    "title": {"type": "plain_text", "text": "Add a feed"}, "submit": {"type": "plain_text", "text": "Add"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [{"type": "input", "block_id": "url", "label": {"type": "plain_text", "text": "Feed URL"},
                "element": {"type": "plain_text_input", "action_id": "url_input"}}],
}


@pytest.fixture
async def bolt_server(slack, client):
    """The real AsyncApp behind a real aiohttp server, as the bot serves Slack's requests."""
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

    async def endpoint(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield app, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


async def test_a_button_press_is_a_signed_block_actions_form_that_bolt_acks(slack, client, bolt_server):
    app, url = bolt_server
    seen: list[dict] = []

    @app.action("pause_feed")
    async def pause(ack, body, respond, client):
        await ack()
        seen.append(body)
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="Paused",
                                 blocks=FEED_BLOCKS[:1])
        await respond(text="Paused Reuters World", replace_original=False, response_type="ephemeral")

    posted = await client.chat_postMessage(channel="C100", text="Your feeds", blocks=FEED_BLOCKS)
    payload = slack.block_actions_payload("pause_feed", user_id="U1", channel_id="C100")
    body = interaction_body(payload)
    assert body.startswith(b"payload=")
    assert (await post_signed(url, body, "wrong-secret"))[0] == 401
    status, _ = await post_signed(url, body, SIGNING_SECRET)
    await slack.await_calls("response_url")

    assert status == 200
    (pressed,) = seen
    assert pressed["type"] == "block_actions" and pressed["trigger_id"] == payload["trigger_id"]
    assert pressed["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": "C100",
                                    "is_ephemeral": False}
    assert pressed["user"] == {"id": "U1", "username": "ada", "name": "ada", "team_id": slack.team_id}
    (action,) = pressed["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "pause_feed", "feed-1-actions", "f:1", "button")
    assert pressed["message"]["blocks"] == FEED_BLOCKS and pressed["response_url"].startswith(slack.url)
    (updated,) = slack.updated_messages("C100")
    assert updated["text"] == "Paused" and updated["ts"] == posted["ts"] and len(updated["blocks"]) == 1
    assert slack.posted_messages("C100")[0]["text"] == "Paused"  # changed in place
    assert slack.responses() == [{"text": "Paused Reuters World", "replace_original": False,
                                  "response_type": "ephemeral"}]


async def test_only_posted_buttons_can_be_pressed_unless_forged(slack, client):
    await client.chat_postMessage(channel="C100", text="Your feeds", blocks=FEED_BLOCKS)
    accessory = slack.block_actions_payload("remove_feed", user_id="U1", channel_id="C100")
    assert accessory["actions"][0]["block_id"] == "feed-1" and accessory["actions"][0]["style"] == "danger"
    with pytest.raises(ValueError, match="no button"):
        slack.block_actions_payload("stop_alert", user_id="U1", channel_id="C100")
    with pytest.raises(ValueError, match="posted no message"):
        slack.block_actions_payload("pause_feed", user_id="U1", channel_id="C999")
    forged = slack.block_actions_payload("pause_feed", user_id="U1", value="f:999", require_button=False)
    assert forged["actions"][0]["value"] == "f:999"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_chat_update_errors_like_slack(slack, client):
    posted = await client.chat_postMessage(channel="C100", text="Your feeds")
    with pytest.raises(SlackApiError, match="message_not_found"):
        await client.chat_update(channel="C100", ts="1.000001", text="x")
    with pytest.raises(SlackApiError, match="message_not_found"):
        await client.chat_update(channel="C101", ts=posted["ts"], text="x")
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_update(channel="C100", ts=posted["ts"], text="x", blocks=[{"type": "divider"}] * 51)
    with pytest.raises(SlackApiError, match="no_text"):
        await client.chat_update(channel="C100", ts=posted["ts"])
    bad_button = [{"type": "actions", "elements": [{"type": "button", "action_id": "a",
                                                    "text": {"type": "plain_text", "text": "x" * 76}}]}]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_update(channel="C100", ts=posted["ts"], text="x", blocks=bad_button)
    assert slack.updated_messages() == []


async def test_views_publish_keeps_the_home_tab_and_checks_it(slack, client):
    slack.set_user("U1")
    home = {"type": "home", "blocks": FEED_BLOCKS}
    published = (await client.views_publish(user_id="U1", view=home))["view"]
    assert published["type"] == "home" and published["id"].startswith("V") and published["hash"]
    assert slack.home_view("U1") == published
    again = (await client.views_publish(user_id="U1", view=home, hash=published["hash"]))["view"]
    assert again["id"] == published["id"]
    with pytest.raises(SlackApiError, match="hash_conflict"):
        await client.views_publish(user_id="U1", view=home, hash=published["hash"])
    assert (await client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}] * 100}))
    with pytest.raises(SlackApiError) as too_many:
        await client.views_publish(user_id="U1", view={"type": "home", "blocks": [{"type": "divider"}] * 101})
    assert too_many.value.response["error"] == "invalid_arguments"
    assert "no more than 100 items allowed [json-pointer:/view/blocks]" in \
        too_many.value.response["response_metadata"]["messages"][0]
    with pytest.raises(SlackApiError, match="invalid_arguments"):
        await client.views_publish(user_id="U1", view={**ADD_FEED_MODAL})
    with pytest.raises(SlackApiError, match="user_not_found"):
        await client.views_publish(user_id="nobody", view=home)


async def test_home_tab_events_and_presses_reach_bolt(slack, client):
    slack.set_user("U1")
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)
    opened: list[dict] = []
    pressed: list[dict] = []

    @app.event("app_home_opened")
    async def home_opened(event, client):
        opened.append(event)
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": FEED_BLOCKS})

    @app.action("pause_feed")
    async def pause(ack, body):
        await ack()
        pressed.append(body)

    async def dispatch(body: bytes) -> int:
        return (await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                          headers=sign_slack_request(body, SIGNING_SECRET)))).status

    assert await dispatch(slack.app_home_opened_body("U1")) == 200
    await slack.await_calls("views.publish")
    assert await dispatch(slack.app_home_opened_body("U1", "D0ADA")) == 200
    await slack.await_calls("views.publish", 2)
    assert await dispatch(interaction_body(slack.home_block_actions_payload("pause_feed", user_id="U1"))) == 200

    first, second = opened
    assert (first["type"], first["user"], first["tab"], first["channel"]) == ("app_home_opened", "U1", "home", "D1")
    assert "view" not in first and second["view"]["id"] == slack.home_view("U1")["id"]
    (press,) = pressed
    assert press["container"] == {"type": "view", "view_id": slack.home_view("U1")["id"]}
    assert "response_url" not in press and press["view"]["type"] == "home"


async def test_views_open_takes_a_fresh_trigger_once(slack, client, monkeypatch):
    trigger = slack.new_trigger_id()
    opened = (await client.views_open(trigger_id=trigger, view=ADD_FEED_MODAL))["view"]
    assert (opened["type"], opened["callback_id"], opened["private_metadata"]) == ("modal", "add_feed", "C100")
    assert slack.opened_views() == [opened]
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        await client.views_open(trigger_id=trigger, view=ADD_FEED_MODAL)
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        await client.views_open(trigger_id="not-a-trigger", view=ADD_FEED_MODAL)
    stale = slack.new_trigger_id()
    real_monotonic = time.monotonic
    monkeypatch.setattr(slack_standin.time, "monotonic", lambda: real_monotonic() + 3.5)
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        await client.views_open(trigger_id=stale, view=ADD_FEED_MODAL)


@pytest.mark.parametrize("change, pointer", [
    ({"title": {"type": "plain_text", "text": "x" * 25}}, "/view/title/text"),
    ({"submit": {"type": "plain_text", "text": "x" * 25}}, "/view/submit/text"),
    ({"close": {"type": "mrkdwn", "text": "Cancel"}}, "/view/close/type"),
    ({"submit": None}, "/view/submit"),
    ({"type": "home"}, "/view/type"),
    ({"blocks": [{"type": "divider"}] * 101}, "/view/blocks"),
])
async def test_views_open_checks_the_modal(slack, client, change, pointer):
    view = {**ADD_FEED_MODAL, **change}
    view = {k: v for k, v in view.items() if v is not None}
    with pytest.raises(SlackApiError) as error:
        await client.views_open(trigger_id=slack.new_trigger_id(), view=view)
    assert error.value.response["error"] == "invalid_arguments"
    assert f"[json-pointer:{pointer}]" in error.value.response["response_metadata"]["messages"][0]
    assert (await client.views_open(trigger_id=slack.new_trigger_id(), view={
        **ADD_FEED_MODAL, "title": {"type": "plain_text", "text": "x" * 24}}))["ok"]


async def test_a_slash_command_trigger_opens_a_modal_and_its_submission_reaches_bolt(slack, client):
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)
    submitted: list[dict] = []

    @app.command("/feeds")
    async def feeds(ack, body, client):
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=ADD_FEED_MODAL)

    @app.view("add_feed")
    async def add_feed(ack, view):
        await ack()
        submitted.append(view)

    async def dispatch(body: bytes) -> int:
        return (await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                          headers=sign_slack_request(body, SIGNING_SECRET)))).status

    assert await dispatch(slack.slash_command_body("/feeds", user_id="U1")) == 200
    await slack.await_calls("views.open")
    assert slack.calls("views.open")[0].response["ok"] is True
    with pytest.raises(ValueError, match="no input"):
        slack.view_submission_payload({"url": {"wrong": "x"}}, user_id="U1")
    payload = slack.view_submission_payload({"url": {"url_input": "https://example.org/feed.xml"}}, user_id="U1")
    assert await dispatch(interaction_body(payload)) == 200

    (view,) = submitted
    assert (view["callback_id"], view["private_metadata"]) == ("add_feed", "C100")
    assert view["state"]["values"] == {"url": {"url_input": {"type": "plain_text_input",
                                                             "value": "https://example.org/feed.xml"}}}
    assert payload["type"] == "view_submission" and payload["user"]["id"] == "U1"


async def test_users_info_tells_the_locale_only_when_asked(slack, client):
    slack.set_user("U1", locale="de-DE")
    assert "locale" not in (await client.users_info(user="U1"))["user"]
    assert (await client.users_info(user="U1", include_locale=True))["user"]["locale"] == "de-DE"
    slack.set_locale("U1", "es-ES")
    assert (await client.users_info(user="U1", include_locale=True))["user"]["locale"] == "es-ES"
    form = WebClient(token=slack.token, base_url=slack.api_url).api_call(
        "users.info", http_verb="GET", params={"user": "U1", "include_locale": "true"})
    assert form["user"]["locale"] == "es-ES"


@pytest.mark.parametrize("name", ["block_actions", "view_submission", "app_home_opened"])
async def test_recorded_slack_payloads_reach_bolt_listeners(slack, client, name):
    app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)
    heard: list[str] = []

    @app.action("pause_feed")
    async def pause(ack):
        await ack()
        heard.append("block_actions")

    @app.view("add_feed")
    async def add_feed(ack):
        await ack()
        heard.append("view_submission")

    @app.event("app_home_opened")
    async def home_opened(event):
        heard.append(event["type"])

    recorded = json.loads((SLACK_PAYLOADS / f"{name}.json").read_text())
    body = json.dumps(recorded).encode() if recorded.get("type") == "event_callback" else interaction_body(recorded)
    response = await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                         headers=sign_slack_request(body, SIGNING_SECRET)))
    assert response.status == 200
    for _ in range(50):
        if heard:
            break
        await asyncio.sleep(0.02)
    assert heard == [name]


async def test_recorded_slack_payloads_have_the_stand_ins_shape(slack, client):
    slack.set_user("U0ADA")
    await client.chat_postMessage(channel="C0NEWS", text="Your feeds", blocks=FEED_BLOCKS)
    await client.views_publish(user_id="U0ADA", view={"type": "home", "blocks": FEED_BLOCKS})
    await client.views_open(trigger_id=slack.new_trigger_id(), view=ADD_FEED_MODAL)
    made = {
        "block_actions": slack.block_actions_payload("pause_feed", user_id="U0ADA", channel_id="C0NEWS"),
        "view_submission": slack.view_submission_payload({"url": {"url_input": "https://x.org/f"}}, user_id="U0ADA"),
        "app_home_opened": json.loads(slack.app_home_opened_body("U0ADA", "D0ADA")),
    }
    for name, payload in made.items():
        assert shape(payload) == shape(json.loads((SLACK_PAYLOADS / f"{name}.json").read_text())), name
