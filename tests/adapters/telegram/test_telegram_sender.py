"""The Telegram `Sender`: every failure the stand-in can produce becomes the right delivery outcome."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.adapters.telegram import TelegramAdapter, TelegramSender
from bot.adapters.telegram.sender import send_error
from bot.domain.models import BriefItem, ChatRef, Link, Message
from bot.services.sending import SendError
from tests.support.standins.telegram import TelegramFault, TelegramLimits, TelegramStandIn

ALERT = Message(kind="alert", heading="Alert: climate",
                items=[BriefItem("Sea levels <rise> & fall", ["A point."], [Link("Source", "https://example.com/a")])])
PRIVATE = ChatRef("telegram", "42")
FORUM_TOPIC = ChatRef("telegram", "-1001000000001", thread_id="77")


class Handler:
    async def handle(self, incoming):
        return [Message(kind="reply", text="ok")]


@pytest.fixture
def migrations():
    return []


@pytest.fixture
def tg():
    with TelegramStandIn() as server:
        yield server


@pytest.fixture
async def sender(tg, migrations):
    async def on_chat_migrated(chat: ChatRef, new_chat_id: str) -> None:
        migrations.append((chat.chat_id, new_chat_id))

    telegram = TelegramAdapter(token=tg.token, handler=Handler(), api_base_url=tg.base_url, poll_timeout_s=1,
                               request_timeout_s=1, on_chat_migrated=on_chat_migrated)
    await telegram.start()
    yield telegram.sender
    await telegram.stop()


async def send(sender, chat: ChatRef, message: Message = ALERT) -> str | None:
    [part] = sender.render(message)
    return await sender.send_part(chat, part)


async def test_a_part_is_sent_as_html_to_the_chat_and_topic(tg, sender):
    message_id = await send(sender, PRIVATE)
    await send(sender, FORUM_TOPIC)

    private, topic = tg.calls("sendMessage")
    assert message_id == str(tg.sent_messages(42)[0]["message_id"])
    assert private.params["chat_id"] == 42 and private.params["parse_mode"] == "HTML"
    assert "Sea levels &lt;rise&gt; &amp; fall" in private.params["text"]
    assert private.params["link_preview_options"]["url"] == "https://example.com/a"
    assert "reply_parameters" not in private.params and "message_thread_id" not in private.params
    assert topic.params["message_thread_id"] == 77


async def test_forbidden_is_final_and_deactivates(tg, sender):
    tg.forbid_chat(42)
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert caught.value.outcome == "forbidden" and "blocked" in caught.value.detail


async def test_flood_limit_is_rate_limited_with_retry_after(tg, sender):
    tg.fail_next(42, TelegramFault.too_many_requests(7))
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert (caught.value.outcome, caught.value.retry_after) == ("rate_limited", 7.0)
    await send(sender, PRIVATE)  # the next try goes through
    assert len(tg.sent_messages(42)) == 1


@pytest.mark.parametrize("retry_after", [5, timedelta(seconds=5)])
def test_retry_after_as_int_or_timedelta(retry_after):
    error = send_error(RetryAfter(retry_after))
    assert (error.outcome, error.retry_after) == ("rate_limited", 5.0)


async def test_bad_request_is_final(tg, sender):
    tg.fail_next(42, TelegramFault.bad_request("Bad Request: chat not found"))
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert caught.value.outcome == "final" and "chat not found" in caught.value.detail.lower()


async def test_a_deleted_topic_falls_back_to_the_general_topic(tg, sender):
    tg.fail_next(FORUM_TOPIC.chat_id, TelegramFault.bad_request("Bad Request: message thread not found"))
    message_id = await send(sender, FORUM_TOPIC)

    refused, resent = tg.calls("sendMessage")
    assert refused.status == 400 and refused.params["message_thread_id"] == 77
    assert resent.status == 200 and "message_thread_id" not in resent.params
    assert message_id == str(resent.response["result"]["message_id"])


async def test_thread_not_found_without_a_thread_is_final(tg, sender):
    tg.fail_next(42, TelegramFault.bad_request("Bad Request: message thread not found"))
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert caught.value.outcome == "final" and len(tg.calls("sendMessage")) == 1


async def test_server_error_is_retried(tg, sender):
    tg.fail_next(42, TelegramFault.server_error())
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert caught.value.outcome == "retry"


async def test_a_lost_answer_is_unknown_never_retried(tg, sender):
    tg.fail_next(42, TelegramFault.slow(3, deliver=True))  # arrives, but the answer comes after our 1 s timeout
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert caught.value.outcome == "unknown"
    assert len(tg.sent_messages(42)) == 1  # it did arrive: a blind resend would have duplicated it


async def test_a_group_that_became_a_supergroup_is_reported_and_gets_the_message_at_its_new_id(
        tg, sender, migrations):
    tg.migrate_chat(-4001, -1004000000001)
    message_id = await send(sender, ChatRef("telegram", "-4001"))

    refused, resent = tg.calls("sendMessage")
    assert refused.status == 400 and refused.response["parameters"] == {"migrate_to_chat_id": -1004000000001}
    assert resent.status == 200 and resent.params["chat_id"] == -1004000000001
    assert migrations == [("-4001", "-1004000000001")]
    [arrived] = tg.sent_messages(-1004000000001)
    assert message_id == str(arrived["message_id"]) and "Sea levels" in arrived["text"]
    assert tg.sent_messages(-4001) == []  # refused: sending again could not duplicate it


async def test_a_command_reply_that_meets_the_migration_goes_to_the_new_id(tg, sender, migrations):
    group = tg.add_chat({"id": -4003, "type": "group", "title": "Old group"})
    tg.migrate_chat(-4003, -1004000000003)  # the command was sent just before the group migrated
    tg.push_message(group, "/help", sender={"id": 7, "is_bot": False, "first_name": "Bob"})
    await tg.await_calls("sendMessage", where=lambda c: c.status == 200)
    assert migrations == [("-4003", "-1004000000003")]
    [reply] = tg.sent_messages(-1004000000003)
    assert reply["text"] == "ok"


async def test_paid_broadcasts_go_with_allow_paid_broadcast_and_may_pass_the_free_limit(tg, sender):
    tg.enforce_limits(TelegramLimits())

    async def burst(chats: range) -> list[str]:
        outcomes = await asyncio.gather(*(send(sender, ChatRef("telegram", str(chat))) for chat in chats),
                                        return_exceptions=True)
        return [getattr(outcome, "outcome", "sent") for outcome in outcomes]

    sender.paid_broadcast = True
    assert await burst(range(100, 200)) == ["sent"] * 100  # 100 at once: over three times the free 30/s
    assert all(call.params["allow_paid_broadcast"] is True for call in tg.calls("sendMessage"))
    assert tg.violations() == []
    sender.paid_broadcast = False
    unpaid = await burst(range(200, 300))  # the same burst, unpaid, is over the free limit
    assert "rate_limited" in unpaid and set(unpaid) <= {"sent", "rate_limited"}
    assert {v.limit for v in tg.violations()} == {"overall"}
    assert all("allow_paid_broadcast" not in call.params for call in tg.calls("sendMessage")[100:])


async def test_a_migration_notice_update_is_reported_too(tg, sender, migrations):
    group = {"id": -4002, "type": "group", "title": "Old group"}
    tg.push_update({"message": {"message_id": 3, "date": 0, "chat": group, "from": {
        "id": 7, "is_bot": False, "first_name": "Bob"}, "migrate_to_chat_id": -1004000000002}})
    tg.push_message(group, "/alerts", sender={"id": 7, "is_bot": False, "first_name": "Bob"})
    await tg.await_calls("sendMessage", where=lambda c: c.params["chat_id"] == -4002)  # updates of a chat run in order
    assert migrations == [("-4002", "-1004000000002")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_connection_refused_is_retried():
    # Nothing listens on this port: the request never left.
    bot = Bot("123456789:AAHabcdefghijklmnopqrstuvwxyz0123456", base_url=f"http://127.0.0.1:{free_port()}/bot")
    sender = TelegramSender(bot)
    sender.ready = True
    with pytest.raises(SendError) as caught:
        await send(sender, PRIVATE)
    assert caught.value.outcome == "retry" and "ConnectError" in caught.value.detail


async def test_sending_before_start_is_retried(tg):
    telegram = TelegramAdapter(token=tg.token, handler=Handler(), api_base_url=tg.base_url)
    with pytest.raises(SendError) as caught:
        await send(telegram.sender, PRIVATE)
    assert caught.value.outcome == "retry" and tg.calls("sendMessage") == []
