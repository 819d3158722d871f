"""The Telegram adapter end to end: the real python-telegram-bot polling the Telegram stand-in.

Updates are pushed to the stand-in's getUpdates queue; what the bot sends back is read from the
stand-in's call log. A small recording command handler stands behind the adapter here (the real
command service is exercised in test_telegram_service.py); it asks `is_admin` the way the service does.
"""

from __future__ import annotations

import asyncio

import pytest
from telegram.warnings import PTBUserWarning

from bot.adapters.telegram import DEFAULT_COMMANDS, TelegramAdapter
from bot.adapters.telegram.app import file_base_url
from bot.adapters.telegram.render import render_message
from bot.domain.models import BriefItem, Link, Message
from bot.services.chat_io import Incoming
from bot.services.commands import COMMANDS
from tests.support.standins.telegram import (
    GROUP_ANONYMOUS_BOT_ID,
    TelegramFault,
    channel_chat,
    group_chat,
    private_chat,
    supergroup_chat,
    user,
)
from tests.services.test_command_registry import ECHO

ADA = user(42, "Ada", username="ada")
BOB = user(7, "Bob")
CARO = user(8, "Caro")
DAN = user(9, "Dan")
FORUM = supergroup_chat(-1001000000001, "News desk", is_forum=True)
GROUP = supergroup_chat(-1001000000002, "Friends")
SETTINGS_COMMANDS = {"subscribe", "unsubscribe", "sources", "schedule"}


class RecordingHandler:
    """Records every `Incoming`; answers with `answer(incoming)` or a short echo."""

    def __init__(self) -> None:
        self.incoming: list[Incoming] = []
        self.answer = None

    async def handle(self, incoming: Incoming) -> list[Message]:
        self.incoming.append(incoming)
        if self.answer is not None:
            return await self.answer(incoming)
        allowed = "n/a"
        if incoming.command in SETTINGS_COMMANDS and incoming.chat_kind != "private":
            allowed = await incoming.is_admin()
        return [Message(kind="reply", text=f"/{incoming.command} [{incoming.args}] admin={allowed}")]


@pytest.fixture
def handler():
    return RecordingHandler()


@pytest.fixture
async def adapter(tg, handler):
    telegram = TelegramAdapter(token=tg.token, handler=handler, api_base_url=tg.base_url,
                               poll_timeout_s=1, request_timeout_s=1)
    await telegram.start()
    yield telegram
    await telegram.stop()


async def replies(tg, chat_id: int, count: int = 1) -> list:
    return await tg.await_calls("sendMessage", count, where=lambda c: c.params["chat_id"] == chat_id)


# ----- commands -----------------------------------------------------------------------------------

EVERY_COMMAND = [
    ("/summary The central bank raised rates. Markets fell sharply.", "summary",
     "The central bank raised rates. Markets fell sharply."),
    ("/summary https://example.com/story", "summary", "https://example.com/story"),
    ("/digest", "digest", ""),
    ('/subscribe "North Korea" missile', "subscribe", '"North Korea" missile'),
    ("/unsubscribe all", "unsubscribe", "all"),
    ("/alerts", "alerts", ""),
    ("/sources", "sources", ""),
    ("/sources add https://example.com/feed.xml", "sources", "add https://example.com/feed.xml"),
    ("/sources remove 2", "sources", "remove 2"),
    ("/schedule 07:30 Europe/Berlin", "schedule", "07:30 Europe/Berlin"),
    ("/start", "start", ""),
    ("/help", "help", ""),
    ("/frobnicate now", "frobnicate", "now"),
    ("/SUMMARY@BriefBot_Test_Bot  two words ", "summary", "two words"),
]


async def test_every_command_reaches_the_handler_and_is_answered_in_order(tg, handler, adapter):
    chat = private_chat(ADA)
    for text, _, _ in EVERY_COMMAND:
        tg.push_message(chat, text)
    calls = await replies(tg, ADA["id"], len(EVERY_COMMAND))

    assert [(i.command, i.args) for i in handler.incoming] == [(c, a) for _, c, a in EVERY_COMMAND]
    assert {(i.chat.platform, i.chat.chat_id, i.chat.thread_id, i.chat_kind, i.user_id) for i in handler.incoming} \
        == {("telegram", "42", None, "private", "42")}
    assert handler.incoming[0].chat_title == "Ada"
    assert {(i.help_command, i.attachment_hint) for i in handler.incoming} \
        == {("/help", "send the file with the caption /sources")}  # the platform's own words
    for call, (_, command, args) in zip(calls, EVERY_COMMAND, strict=True):
        assert call.status == 200
        assert call.params["parse_mode"] == "HTML" and "message_thread_id" not in call.params
        assert call.params["text"] == f"/{command} [{args}] admin=n/a".replace('"', "&quot;")
    # Each answer quotes its own command message.
    assert [c.params["reply_parameters"]["message_id"] for c in calls] == list(range(1, len(EVERY_COMMAND) + 1))


async def test_group_commands_for_other_bots_and_chatter_are_ignored(tg, handler, adapter):
    tg.push_message(GROUP, "/summary@some_other_bot hello", sender=BOB)
    tg.push_message(GROUP, "just chatting about /summary", sender=BOB)
    tg.push_message(GROUP, "/alerts@briefbot_test_bot", sender=BOB)
    await replies(tg, GROUP["id"])
    tg.push_message(private_chat(ADA), "https://example.com/a-story")  # private: plain text is for the bot
    await replies(tg, ADA["id"])

    # Without a command the service decides what the text asks for (a summary).
    assert [(i.chat.chat_id, i.command, i.args, i.chat_kind) for i in handler.incoming] == [
        (str(GROUP["id"]), "alerts", "", "group"), ("42", None, "https://example.com/a-story", "private")]
    assert len(tg.calls("sendMessage")) == 2


async def test_command_menu_is_registered_at_start(tg, adapter):
    tg.push_message(private_chat(ADA), "/help")
    await replies(tg, ADA["id"])
    assert [(c["command"], c["description"]) for c in tg.commands()] == list(DEFAULT_COMMANDS)
    # The menu is the registry: every command, in its order, with its short description.
    assert [(c["command"], c["description"]) for c in tg.commands()] == [(c.name, c.menu) for c in COMMANDS]
    assert {c["command"] for c in tg.commands()} >= {"summary", "digest", "subscribe", "unsubscribe", "alerts",
                                                     "sources", "schedule", "help"}
    # And in each language the bot speaks, for the people whose app is set to it.
    assert [(c["command"], c["description"]) for c in tg.commands(language_code="de")] == list(COMMANDS.menu("de"))
    assert ("language", "Язык, на котором я пишу здесь, напр. /language ru") in \
        [(c["command"], c["description"]) for c in tg.commands(language_code="ru")]
    assert tg.calls("getUpdates")[0].params["allowed_updates"] == ["message", "channel_post", "callback_query"]


async def test_a_command_added_to_the_registry_appears_in_the_menu(tg, handler):
    registry = COMMANDS.with_command(ECHO)
    telegram = TelegramAdapter(token=tg.token, handler=handler, api_base_url=tg.base_url, poll_timeout_s=1,
                               request_timeout_s=1, commands=registry.menu())
    await telegram.start()
    try:
        [call] = tg.calls("setMyCommands")
        assert [c["command"] for c in call.params["commands"]] == [*COMMANDS.names()[:-1], "echo", "help"]
        assert ("echo", "Say the words back") in [(c["command"], c["description"]) for c in tg.commands()]
    finally:
        await telegram.stop()


async def test_forum_topic_commands_carry_the_topic_and_are_answered_there(tg, handler, adapter):
    tg.push_message(FORUM, "/subscribe climate", sender=BOB, thread_id=77)
    tg.push_message(FORUM, "/alerts", sender=BOB)  # the General topic: no thread
    topic, general = await replies(tg, FORUM["id"], 2)
    tg.push_message(GROUP, "/alerts", sender=BOB, reply_to={"message_id": 1, "date": 0, "chat": GROUP})
    [plain_reply] = await replies(tg, GROUP["id"])

    assert [i.chat.thread_id for i in handler.incoming] == ["77", None, None]
    assert topic.params["message_thread_id"] == 77
    assert "message_thread_id" not in general.params and "message_thread_id" not in plain_reply.params
    assert tg.sent_messages(FORUM["id"])[0]["message_thread_id"] == 77


# ----- who may change a chat's settings -------------------------------------------------------------

async def test_admin_checks_members_admins_creator_anonymous_admins_channels_and_private(tg, handler, adapter):
    tg.set_member(GROUP["id"], BOB, "member")
    tg.set_member(GROUP["id"], CARO, "administrator")
    tg.set_member(GROUP["id"], DAN, "creator")
    news = channel_chat(-1002000000001, "News")
    other_channel = channel_chat(-1002000000002, "Someone's channel")

    tg.push_message(GROUP, "/subscribe a", sender=BOB)
    tg.push_message(GROUP, "/subscribe b", sender=CARO)
    tg.push_message(GROUP, "/subscribe c", sender=DAN)
    tg.push_message(GROUP, "/subscribe d", anonymous_admin=True)
    # A member posting on behalf of their own channel is not the group: no admin rights.
    tg.push_update({"message": {"message_id": 99, "date": 0, "chat": GROUP, "from": {
        "id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"},
        "sender_chat": other_channel, "text": "/subscribe e",
        "entities": [{"type": "bot_command", "offset": 0, "length": 10}]}})
    tg.push_message(GROUP, "/subscribe f", sender=BOB)  # asked again: answered from the cache
    calls = await replies(tg, GROUP["id"], 6)
    tg.push_message(news, "/schedule 08:00")
    tg.push_message(group_chat(-4001), "/sources add https://example.com/feed", anonymous_admin=True)
    await replies(tg, news["id"])
    await replies(tg, -4001)

    answers = [c.params["text"] for c in calls]
    assert answers == ["/subscribe [a] admin=False", "/subscribe [b] admin=True", "/subscribe [c] admin=True",
                       "/subscribe [d] admin=True", "/subscribe [e] admin=False", "/subscribe [f] admin=False"]
    [channel_post] = [i for i in handler.incoming if i.chat.chat_id == str(news["id"])]
    [small_group] = [i for i in handler.incoming if i.chat.chat_id == "-4001"]
    assert channel_post.chat_kind == "channel" and await channel_post.is_admin()
    assert small_group.chat_kind == "group" and await small_group.is_admin()
    checked = sorted(c.params["user_id"] for c in tg.calls("getChatMember"))
    assert checked == [BOB["id"], CARO["id"], DAN["id"]]  # anonymous, channel and cached: no lookup
    assert GROUP_ANONYMOUS_BOT_ID not in checked
    private = private_chat(ADA)
    tg.push_message(private, "/schedule 07:00")
    await replies(tg, ADA["id"])
    assert await handler.incoming[-1].is_admin()


async def test_a_failed_admin_lookup_means_no(tg, handler, adapter):
    # A sender the stand-in has never seen: getChatMember answers 400 "user not found".
    tg.push_update({"message": {"message_id": 5, "date": 0, "chat": GROUP, "from": user(5555, "Eve"),
                                "text": "/subscribe x", "entities": [{"type": "bot_command", "offset": 0, "length": 10}]}})
    [call] = await replies(tg, GROUP["id"])

    assert call.params["text"] == "/subscribe [x] admin=False"
    [lookup] = tg.calls("getChatMember")
    assert lookup.status == 400


# ----- OPML import by attachment --------------------------------------------------------------------

OPML = b"""<?xml version="1.0"?><opml version="2.0"><body>
<outline type="rss" text="Example" xmlUrl="https://example.com/feed.xml"/></body></opml>"""


async def test_a_document_captioned_sources_is_downloaded_and_handed_over(tg, handler, adapter):
    tg.set_member(FORUM["id"], CARO, "administrator")
    tg.push_document(private_chat(ADA), OPML, "my feeds.opml", caption="/sources")
    tg.push_document(FORUM, OPML, "team.opml", caption="/sources import", sender=CARO, thread_id=3)
    tg.push_document(private_chat(ADA), OPML, "ignored.opml", caption="/summary")
    await replies(tg, ADA["id"], 2)
    await replies(tg, FORUM["id"])

    first, third = [i for i in handler.incoming if i.chat.chat_id == "42"]
    [second] = [i for i in handler.incoming if i.chat.chat_id == str(FORUM["id"])]
    assert (first.command, first.args, first.attachment.filename, first.attachment.content) == \
        ("sources", "", "my feeds.opml", OPML)
    assert (second.command, second.args, second.chat.thread_id, second.attachment.filename) == \
        ("sources", "import", "3", "team.opml")
    assert await second.is_admin()
    assert third.attachment is None
    assert len(tg.calls("getFile")) == 2 and len(tg.calls("file")) == 2


async def test_an_oversized_document_is_refused_before_download(tg, handler, adapter):
    tg.push_document(private_chat(ADA), b"<opml>" + b" " * 1_200_000 + b"</opml>", "huge.opml", caption="/sources")
    [call] = await replies(tg, ADA["id"])

    assert handler.incoming == []
    assert "1.2 MB" in call.params["text"] and "1.0 MB" in call.params["text"]
    assert tg.calls("getFile") == [] and tg.calls("file") == []


# ----- what comes back ------------------------------------------------------------------------------

HOSTILE = '<b>Bold</b> & <script>alert(1)</script> <!everyone>'


async def test_hostile_and_long_replies_are_escaped_split_and_all_accepted(tg, handler, adapter):
    items = [BriefItem(headline=f"{HOSTILE} #{n}", points=["A point & \"quoted\" " * 12] * 3,
                       links=[Link("<src>", f'https://example.com/{n}?a="1"&b=<2>')]) for n in range(40)]
    reply = Message(kind="reply", heading=HOSTILE, items=items)

    async def answer(incoming: Incoming) -> list[Message]:
        return [reply]

    handler.answer = answer
    tg.push_message(FORUM, "/summary climate", sender=BOB, thread_id=9)
    calls = await replies(tg, FORUM["id"], len(render_message(reply)))

    assert len(calls) > 1
    assert all(c.status == 200 for c in calls), [c.response for c in calls if c.status != 200]
    assert all(len(c.params["text"].encode("utf-16-le")) // 2 <= 4096 for c in calls)
    assert all(c.params["message_thread_id"] == 9 for c in calls)
    shown = "".join(m["text"] for m in tg.sent_messages(FORUM["id"]))
    assert shown.count(HOSTILE) == 41 and "<script>" in shown  # shown literally, never as markup
    assert "<script>" not in "".join(c.params["text"] for c in calls)
    links = [e["url"] for m in tg.sent_messages(FORUM["id"]) for e in m.get("entities", []) if e["type"] == "text_link"]
    assert len(links) == 40


async def test_updates_run_in_order_within_a_chat_and_concurrently_across_chats(tg, handler, adapter):
    other_chat_answered = asyncio.Event()

    async def answer(incoming: Incoming) -> list[Message]:
        if incoming.chat.chat_id == "42" and incoming.args == "first":
            # Waits for a later update of another chat: only concurrent processing can get there.
            await asyncio.wait_for(other_chat_answered.wait(), 10)
        if incoming.chat.chat_id == str(BOB["id"]):
            other_chat_answered.set()
        return [Message(kind="reply", text=incoming.args)]

    handler.answer = answer
    tg.push_message(private_chat(ADA), "/summary first")
    tg.push_message(private_chat(ADA), "/summary second")
    tg.push_message(private_chat(BOB), "/summary other")
    ada_calls = await replies(tg, ADA["id"], 2)

    assert [c.params["text"] for c in ada_calls] == ["first", "second"]
    assert [i.args for i in handler.incoming if i.chat.chat_id == "42"] == ["first", "second"]


async def test_a_reply_waits_out_a_short_flood_limit_once(tg, handler, adapter):
    tg.fail_next(ADA["id"], TelegramFault.too_many_requests(1))
    tg.push_message(private_chat(ADA), "/alerts")
    refused, sent = await tg.await_calls("sendMessage", 2)

    assert (refused.status, sent.status) == (429, 200)
    assert refused.params["text"] == sent.params["text"] == "/alerts [] admin=n/a"


async def test_a_handler_crash_gets_an_apology_not_silence(tg, handler, adapter):
    async def answer(incoming: Incoming) -> list[Message]:
        raise RuntimeError("boom")

    handler.answer = answer
    tg.push_message(private_chat(ADA), "/digest")
    [call] = await replies(tg, ADA["id"])
    assert "something went wrong" in call.params["text"]


# ----- configuration ---------------------------------------------------------------------------------

def test_file_url_sits_beside_the_api_url():
    assert file_base_url("https://api.telegram.org/bot") == "https://api.telegram.org/file/bot"
    assert file_base_url("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    with pytest.raises(ValueError, match="/bot"):
        file_base_url("https://api.telegram.org/")


@pytest.mark.parametrize("options, message", [
    ({"mode": "webhook", "webhook_secret": "s3cret"}, "TELEGRAM_WEBHOOK_URL"),
    ({"mode": "webhook", "webhook_url": "http://bot.example/hook", "webhook_secret": "s3cret"}, "https"),
    ({"mode": "webhook", "webhook_url": "https://bot.example/hook"}, "TELEGRAM_WEBHOOK_SECRET"),
    ({"mode": "webhook", "webhook_url": "https://bot.example/hook", "webhook_secret": "has space"},
     "TELEGRAM_WEBHOOK_SECRET"),
    ({"mode": "carrier-pigeon"}, "TELEGRAM_MODE"),
    ({"token": ""}, "token"),
])
def test_bad_configuration_is_refused_clearly(options, message):
    arguments = {"token": "123456789:AAHabcdefghijklmnopqrstuvwxyz0123456", "handler": RecordingHandler(), **options}
    with pytest.raises(ValueError, match=message):
        TelegramAdapter(**arguments)


def test_no_job_queue_and_per_chat_update_processing(tg, handler):
    telegram = TelegramAdapter(token=tg.token, handler=handler, api_base_url=tg.base_url)
    with pytest.warns(PTBUserWarning, match="No `JobQueue`"):
        assert telegram.application.job_queue is None
    assert telegram.application.bot.base_url == f"{tg.base_url}{tg.token}"
    assert telegram.application.bot.base_file_url == f"{tg.base_file_url}{tg.token}"
    assert telegram.application.update_processor.max_concurrent_updates > 1


async def test_connected_for_readyz_only_between_start_and_stop(tg, handler):
    telegram = TelegramAdapter(token=tg.token, handler=handler, api_base_url=tg.base_url, poll_timeout_s=1)
    before = telegram.is_connected()
    await telegram.start()
    try:
        during = telegram.is_connected()
        [get_me] = tg.calls("getMe")  # connected means the Bot API answered with this token
    finally:
        await telegram.stop()
    assert (before, during, telegram.is_connected()) == (False, True, False)
    assert get_me.status == 200
