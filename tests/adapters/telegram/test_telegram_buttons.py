"""Buttons through Telegram: inline keyboards under the answers, alerts and digests, and presses.

The real python-telegram-bot polls the Telegram stand-in (a second adapter takes the webhook); the
services are the composition root's (`bot.main.build_services`) on a SQLite file, with the real
summarizer, fetching feeds from a local server. A press is a `callback_query` the stand-in builds from
the message as it stands (only buttons it shows can be tapped), unless a test forges one.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.adapters.telegram import WEBHOOK_PATH, TelegramAdapter
from bot.adapters.telegram.buttons import NOT_HERE, TYPE_IN_CHANNEL
from bot.adapters.telegram.platform import LIMITS
from bot.adapters.telegram.render import render_message
from bot.domain.actions import Button
from bot.domain.models import Message
from bot.main import build_services
from bot.runtime.clock import utcnow
from bot.runtime.http_server import HttpServer
from bot.services import actions
from bot.services.delivery import DeliveryLoop
from bot.settings import Settings
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story, story_items
from tests.support.standins.telegram import (TelegramStandIn, channel_chat, post_update, private_chat,
                                             supergroup_chat, user)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PAYLOADS = Path(__file__).with_name("payloads")
SECRET = "webhook-Secret_0123456789"
_ids = itertools.count(5000)


def new_user(name: str = "Reader") -> dict:
    return user(next(_ids), name)


def new_group(title: str = "Newsroom", *, forum: bool = False) -> dict:
    return supergroup_chat(-1001000000000 - next(_ids), title, is_forum=forum)


class ToldScheduler:
    """The real scheduler, and a note of each chat it was told about."""

    def __init__(self, scheduler) -> None:
        self.scheduler, self.told = scheduler, []

    def reschedule_chat(self, chat_id: int) -> None:
        self.told.append(chat_id)
        self.scheduler.reschedule_chat(chat_id)


@pytest.fixture(scope="module")
def feeds():
    with FeedServer() as server:
        server.serve("/courier.xml", rss(story_items(range(3)), title="Kessford Courier"))
        server.serve("/post.xml", rss(story_items(range(10, 12), base="https://other.example/"), title="Other Post"))
        server.serve("/alerts.xml", rss(story_items(range(20, 22), base="https://alerts.example/"), title="Wire"))
        yield server


@pytest.fixture(scope="module")
def tg():
    with TelegramStandIn() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tg, tmp_path_factory):
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("telegram-buttons"),
                        allow_private_networks=True, telegram_bot_token=tg.token,
                        telegram_api_base_url=tg.base_url, summarizer_backend="extractive")
    services = build_services(settings)
    services.actions.scheduler = ToldScheduler(services.scheduler)
    adapter = TelegramAdapter.from_settings(settings, services.commands, poll_timeout_s=1, actions=services.actions)
    await adapter.start()
    services.adapter = adapter
    yield services
    await adapter.stop()
    await services.aclose()


# ----- talking to the bot ----------------------------------------------------------------------

async def ask(tg, chat: dict, text: str, **push) -> dict:
    """Push a command; return the bot's answer as the chat has it (text, reply_markup)."""
    pushed = tg.push_message(chat, text, **push)
    asked = pushed.get("message") or pushed["channel_post"]

    def answers(call) -> bool:
        return (call.params.get("chat_id") == chat["id"]
                and call.params.get("reply_parameters", {}).get("message_id") == asked["message_id"])

    [call] = await tg.await_calls("sendMessage", 1, timeout=60, where=answers)
    assert call.status == 200, call.response
    return tg.message(chat["id"], call.response["result"]["message_id"])


def labels(message: dict) -> list[list[str]]:
    return [[b["text"] for b in row] for row in message.get("reply_markup", {}).get("inline_keyboard", [])]


def data_of(message: dict, label: str) -> str:
    return next(b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row
                if b["text"] == label)


async def toast(tg, update: dict) -> str:
    query_id = update["callback_query"]["id"]
    [call] = await tg.await_calls("answerCallbackQuery", 1, timeout=30,
                                  where=lambda c: c.params.get("callback_query_id") == query_id)
    return call.params.get("text")


async def press(tg, chat: dict, message: dict, label: str, *, sender: dict | None = None) -> tuple[str, dict]:
    """Tap the button `label` on `message`: the toast, and the message once the bot has edited it."""
    edits = len(edits_of(tg, chat, message))
    update = tg.press_button(chat["id"], message["message_id"], data_of(message, label), sender=sender)
    said = await toast(tg, update)
    for _ in range(200):
        if len(edits_of(tg, chat, message)) > edits:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the message was not edited after {label!r} was pressed ({said!r})")
    return said, tg.message(chat["id"], message["message_id"])


def edits_of(tg, chat: dict, message: dict) -> list[dict]:
    return [m for m in tg.edited_messages(chat["id"]) if m["message_id"] == message["message_id"]]


async def settled(tg, chat: dict, **push) -> None:
    """Updates of a chat are handled in order: once a later command is answered, an earlier press is done."""
    await ask(tg, chat, "/alerts", **push)


def chat_pk(services, chat: dict) -> int:
    with services.store.transaction() as tx:
        return tx.chats.find("telegram", str(chat["id"])).id


def follows(services, chat: dict) -> list[tuple[str, bool]]:
    with services.store.transaction() as tx:
        return [(f.source.url, f.paused) for f in tx.sources.followed_by(chat_pk(services, chat))]


async def deliver(services) -> None:
    delivery = DeliveryLoop(store=services.store, senders={"telegram": services.adapter.sender},
                            limits={"telegram": LIMITS})
    try:
        await asyncio.wait_for(delivery.drain(), 30)
    finally:
        await delivery.stop()


# ----- rendering -------------------------------------------------------------------------------

async def test_a_split_message_has_its_keyboard_under_the_last_part():
    rows = ((Button("Pause 1", "a:abcdefghijk"), Button("Remove 1", "a:abcdefghijl", "danger")),)
    parts = render_message(Message(kind="reply", text="\n\n".join(["word " * 500] * 4), buttons=rows))
    assert len(parts) > 1
    assert [p.buttons for p in parts] == [()] * (len(parts) - 1) + [rows]


# ----- /sources --------------------------------------------------------------------------------

async def test_sources_pause_shows_paused_and_the_poll_skips_it_until_resumed(tg, bot, feeds):
    feeds.serve("/pausable.xml", rss(story_items(range(40, 42), base="https://pausable.example/"), title="Pausable"))
    chat = private_chat(new_user())
    await ask(tg, chat, f"/sources add {feeds.url('/pausable.xml')}")
    listing = await ask(tg, chat, "/sources")
    assert labels(listing) == [["Pause 1", "Remove 1"], ["Add a feed"]]
    assert all(len(data.encode()) <= 64 for data in [data_of(listing, "Pause 1"), data_of(listing, "Remove 1")])

    said, shown = await press(tg, chat, listing, "Pause 1")
    assert said.startswith("Paused Pausable")
    assert "paused" in shown["text"] and labels(shown) == [["Resume 1", "Remove 1"], ["Add a feed"]]
    assert follows(bot, chat) == [(feeds.url("/pausable.xml"), True)]
    assert "paused" in (await ask(tg, chat, "/sources"))["text"]

    async def polled() -> int:
        with bot.store.transaction() as tx:  # due now
            tx.sources.by_url(feeds.url("/pausable.xml")).next_poll_at = utcnow() - timedelta(minutes=1)
        before = sum(r.path == "/pausable.xml" for r in feeds.requests)
        await bot.ingestor.poll(summarize=False)
        return sum(r.path == "/pausable.xml" for r in feeds.requests) - before

    assert await polled() == 0  # nobody else follows it: not fetched at all
    said, shown = await press(tg, chat, shown, "Resume 1")
    assert said == "Resumed Pausable." and "paused" not in shown["text"]
    assert await polled() == 1


async def test_remove_then_a_stale_button_and_a_double_tap_change_nothing_more(tg, bot, feeds):
    chat = private_chat(new_user())
    await ask(tg, chat, f"/sources add {feeds.url('/courier.xml')}")
    first, second = await ask(tg, chat, "/sources"), await ask(tg, chat, "/sources")

    said, shown = await press(tg, chat, first, "Remove 1")
    assert said == "Stopped following Kessford Courier."
    assert "follows no feeds" in shown["text"] and labels(shown) == [["Add a feed"]]
    assert follows(bot, chat) == []

    said, shown = await press(tg, chat, second, "Pause 1")  # an older message still shows the feed
    assert said == "That feed was already removed."
    assert "follows no feeds" in shown["text"] and follows(bot, chat) == []

    await ask(tg, chat, f"/sources add {feeds.url('/courier.xml')}")
    listing = await ask(tg, chat, "/sources")
    token = data_of(listing, "Pause 1")
    taps = [tg.press_button(chat["id"], listing["message_id"], token, require_button=False) for _ in range(2)]
    assert sorted([await toast(tg, tap) for tap in taps]) == sorted(
        ["Paused Kessford Courier: no briefs from it here until you resume it.", "Kessford Courier is already paused."])
    assert follows(bot, chat) == [(feeds.url("/courier.xml"), True)]


async def test_a_button_of_another_chat_and_odd_callback_data_change_nothing(tg, bot, feeds):
    victim, forger = private_chat(new_user("Victim")), private_chat(new_user("Forger"))
    for chat in (victim, forger):
        await ask(tg, chat, f"/sources add {feeds.url('/courier.xml')}")
    theirs, mine = await ask(tg, victim, "/sources"), await ask(tg, forger, "/sources")
    stolen = data_of(theirs, "Remove 1")
    for data in (stolen, "not-a-token", "a:" + "x" * 70, "a:abcdefghijk"):
        update = tg.callback_query_update(forger["id"], mine["message_id"], data, require_button=False)
        tg.push_update(update)
        said = await toast(tg, update)
        assert said == (actions.FORGED if data == stolen else actions.EXPIRED), data
    await settled(tg, forger)
    assert edits_of(tg, forger, mine) == [] and edits_of(tg, victim, theirs) == []
    assert follows(bot, victim) == follows(bot, forger) == [(feeds.url("/courier.xml"), False)]


async def test_in_a_group_members_are_refused_and_admins_anonymous_ones_included_may_press(tg, bot, feeds):
    group = new_group("Desk")
    member, admin, hidden = new_user("Member"), new_user("Admin"), new_user("Hidden")
    tg.set_member(group["id"], member, "member")
    tg.set_member(group["id"], admin, "administrator")
    tg.set_member(group["id"], hidden, "administrator", is_anonymous=True)
    await ask(tg, group, f"/sources add {feeds.url('/courier.xml')}", sender=admin)
    listing = await ask(tg, group, "/sources", sender=member)  # everyone may look; the buttons are checked

    update = tg.press_button(group["id"], listing["message_id"], data_of(listing, "Pause 1"), sender=member)
    assert await toast(tg, update) == actions.NOT_ADMIN
    await settled(tg, group, sender=member)
    assert edits_of(tg, group, listing) == [] and follows(bot, group)[0][1] is False

    said, shown = await press(tg, group, listing, "Pause 1", sender=hidden)
    assert said.startswith("Paused Kessford Courier")
    said, shown = await press(tg, group, shown, "Resume 1", sender=admin)
    assert said == "Resumed Kessford Courier." and follows(bot, group)[0][1] is False


# ----- /alerts and /schedule -------------------------------------------------------------------

async def test_alerts_stop(tg, bot):
    chat = private_chat(new_user())
    await ask(tg, chat, "/subscribe climate -sports")
    await ask(tg, chat, "/subscribe rates")
    listing = await ask(tg, chat, "/alerts")
    assert labels(listing) == [["Stop 1", "Stop 2"], ["Add an alert"]]
    said, shown = await press(tg, chat, listing, "Stop 1")
    assert said == "Alert for climate -sports stopped."
    assert "climate" not in shown["text"] and "1. rates" in shown["text"]
    assert labels(shown) == [["Stop 1"], ["Add an alert"]]
    said, shown = await press(tg, chat, shown, "Stop 1")
    assert "No keyword alerts" in shown["text"] and labels(shown) == [["Add an alert"]]


async def test_schedule_taps_a_time_in_a_forum_topic_and_the_scheduler_is_told(tg, bot):
    group, admin = new_group("Forum", forum=True), new_user("Admin")
    tg.set_member(group["id"], admin, "administrator")
    listing = await ask(tg, group, "/schedule", sender=admin, thread_id=77)
    assert "No daily digest yet" in listing["text"] and listing["message_thread_id"] == 77
    assert labels(listing) == [["06:00", "07:00", "08:00", "09:00"], ["12:00", "18:00", "21:00", "Off"],
                               ["Empty days: say", "Empty days: skip"]]
    pk = chat_pk(bot, group)
    said, shown = await press(tg, group, listing, "08:00", sender=admin)
    assert said.startswith("Daily digest set for 08:00 UTC; the next one comes")
    assert "Daily digest at 08:00 UTC" in shown["text"] and pk in bot.actions.scheduler.told
    with bot.store.transaction() as tx:
        schedule = tx.chats.schedule(pk)
        assert (schedule.local_time, schedule.thread_id) == ("08:00", "77")  # the digest goes to the topic
    said, shown = await press(tg, group, shown, "Empty days: say", sender=admin)
    assert said == "On a quiet day I will say so."
    said, shown = await press(tg, group, shown, "Off", sender=admin)
    assert said == "Daily digest turned off." and "No daily digest yet" in shown["text"]


# ----- under alerts and digests ----------------------------------------------------------------

async def test_an_alert_brief_has_stop_this_alert(tg, bot, feeds):
    chat = private_chat(new_user())
    await ask(tg, chat, "/subscribe Osterby")
    await ask(tg, chat, f"/sources add {feeds.url('/alerts.xml')}")
    await bot.ingestor.summarize_pending()
    await deliver(bot)
    [alert] = [m for m in tg.sent_messages(chat["id"]) if m["text"].startswith("Alert: Osterby")
               and story(20)[0] in m["text"]]
    assert labels(alert) == [["Stop this alert"]]
    said, shown = await press(tg, chat, alert, "Stop this alert")
    assert said == "Alert for Osterby stopped." and "reply_markup" not in shown
    assert shown["text"] == alert["text"]  # an alert keeps its story
    assert "No keyword alerts" in (await ask(tg, chat, "/alerts"))["text"]


async def test_a_digest_has_mute_this_feed_asked_for_or_scheduled(tg, bot, feeds):
    chat = private_chat(new_user())
    await ask(tg, chat, f"/sources add {feeds.url('/post.xml')}")
    await bot.ingestor.summarize_pending()
    digest = await ask(tg, chat, "/digest recap")
    assert "Your digest for" in digest["text"] and labels(digest) == [["Mute this feed"]]
    said, shown = await press(tg, chat, digest, "Mute this feed")
    assert said == "Muted Other Post in this chat; /sources can resume it."
    assert labels(shown) == [["Unmute this feed"]] and shown["text"] == digest["text"]
    assert follows(bot, chat)[0][1] is True
    said, shown = await press(tg, chat, shown, "Unmute this feed")
    assert said == "Unmuted Other Post." and follows(bot, chat)[0][1] is False

    await ask(tg, chat, "/schedule 07:00 UTC")
    pk = chat_pk(bot, chat)
    with bot.store.transaction() as tx:
        tx.chats.advance_schedule(pk, next_run_at=utcnow() - timedelta(minutes=1))
    assert (await asyncio.to_thread(bot.digests.run_due, pk, utcnow(), grace=timedelta(hours=3))).outcome == "sent"
    await deliver(bot)
    [scheduled] = [m for m in tg.sent_messages(chat["id"]) if m["text"].startswith("Your digest for")
                   and m["message_id"] != digest["message_id"]]
    assert labels(scheduled) == [["Mute this feed"]]
    said, _ = await press(tg, chat, scheduled, "Mute this feed")
    assert said.startswith("Muted Other Post")


async def test_a_press_on_an_inline_message_is_answered(tg, bot):
    update = {"update_id": 0, "callback_query": {"id": "4000000000000099999", "from": new_user(),
                                                 "chat_instance": "1", "inline_message_id": "AAAA", "data": "a:x"}}
    tg.push_update(update)
    [call] = await tg.await_calls("answerCallbackQuery", 1, timeout=30,
                                  where=lambda c: c.params.get("callback_query_id") == "4000000000000099999")
    assert call.params["text"] == NOT_HERE  # the stand-in never asked it: 400, and nothing else happens


# ----- webhook ---------------------------------------------------------------------------------

@pytest_asyncio.fixture(loop_scope="module")
async def webhook(bot):
    """A second bot process's adapter in webhook mode, on the same services and its own stand-in."""
    with TelegramStandIn() as hooked:
        http = HttpServer("127.0.0.1", 0)
        adapter = TelegramAdapter(token=hooked.token, handler=bot.commands, api_base_url=hooked.base_url,
                                  mode="webhook", webhook_url="https://bot.example.org/telegram/webhook",
                                  webhook_secret=SECRET, actions=bot.actions,
                                  first_sighting=bot.seen_events.for_platform("tg-hook"))
        http.route("POST", WEBHOOK_PATH, adapter.webhook_handler())
        await http.start()
        await adapter.start()
        yield hooked, f"http://127.0.0.1:{http.port}{WEBHOOK_PATH}"
        await adapter.stop()
        await http.stop()


async def test_webhook_presses_act_once_and_recorded_payloads_are_answered(bot, webhook, feeds):
    hooked, url = webhook
    assert hooked.webhook()["allowed_updates"] == ["message", "channel_post", "callback_query"]
    chat = private_chat(new_user())
    for answered, text in enumerate((f"/sources add {feeds.url('/courier.xml')}", "/sources"), start=1):
        assert await post_update(url, hooked.push_message(chat, text), SECRET) == 200  # the update, as posted
        await hooked.await_calls("sendMessage", answered, timeout=60)
    [listing] = [m for m in hooked.sent_messages(chat["id"]) if "reply_markup" in m]

    update = hooked.callback_query_update(chat["id"], listing["message_id"], data_of(listing, "Pause 1"))
    for _ in range(2):  # Telegram delivers it again when our first answer was lost
        assert await post_update(url, update, SECRET) == 200
    assert (await toast(hooked, update)).startswith("Paused Kessford Courier")
    await hooked.await_calls("editMessageText", 1, timeout=30)
    assert follows(bot, chat) == [(feeds.url("/courier.xml"), True)]
    assert len(hooked.callback_answers()) == 1  # the second delivery was recognized and not handled

    for name in ("callback_query_private", "callback_query_group"):
        recorded = json.loads((PAYLOADS / f"{name}.json").read_text())
        assert await post_update(url, recorded, SECRET) == 200
        said = await hooked.await_calls("answerCallbackQuery", 1, timeout=30, where=lambda c: c.params.get(
            "callback_query_id") == recorded["callback_query"]["id"])
        assert said[0].params["text"] == actions.EXPIRED  # old-style data, never a token of ours
    assert len(hooked.calls("editMessageText")) == 1 and hooked.calls("editMessageReplyMarkup") == []


# ----- Add a feed, Add an alert: a prompt with a ForceReply, and the reply as the command -------

async def prompted(tg, chat: dict, message: dict, label: str, *,
                   sender: dict | None = None) -> tuple[str, dict, dict]:
    """Tap `label` on `message`: the toast, the prompt the bot sent in reply to the message, and the
    reply_markup it was sent with (a message shows only inline keyboards)."""
    update = tg.press_button(chat["id"], message["message_id"], data_of(message, label), sender=sender)
    said = await toast(tg, update)
    [call] = await tg.await_calls("sendMessage", 1, timeout=30, where=lambda c: (
        c.params.get("chat_id") == chat["id"]
        and c.params.get("reply_parameters", {}).get("message_id") == message["message_id"]))
    assert call.status == 200, call.response
    return said, tg.message(chat["id"], call.response["result"]["message_id"]), call.params["reply_markup"]


async def test_add_a_feed_asks_for_the_address_and_the_reply_follows_it(tg, bot, feeds):
    chat = private_chat(new_user())
    listing = await ask(tg, chat, "/sources")
    assert "follows no feeds" in listing["text"] and labels(listing) == [["Add a feed"]]

    said, prompt, markup = await prompted(tg, chat, listing, "Add a feed")
    assert not said and prompt["text"] == actions.ADD_FEED_PROMPT
    assert markup == {"force_reply": True, "selective": True,
                                      "input_field_placeholder": actions.ADD_FEED_PLACEHOLDER}
    assert prompt["reply_to_message"]["message_id"] == listing["message_id"]
    assert edits_of(tg, chat, listing) == []  # nothing changed yet

    answer = await ask(tg, chat, f"  {feeds.url('/courier.xml')} ", reply_to=prompt)
    assert answer["text"].startswith("Now following Kessford Courier")
    assert follows(bot, chat) == [(feeds.url("/courier.xml"), False)]
    listing = await ask(tg, chat, "/sources")
    assert labels(listing) == [["Pause 1", "Remove 1"], ["Add a feed"]]

    _, again, _ = await prompted(tg, chat, listing, "Add a feed")  # a new prompt for each press
    refused = await ask(tg, chat, "not a feed address", reply_to=again)
    assert refused["text"] == (await ask(tg, chat, "/sources add not a feed address"))["text"]
    assert not refused["text"].startswith("Now following") and len(follows(bot, chat)) == 1


async def test_a_reply_to_another_bot_message_stays_plain_text(tg, bot, feeds):
    chat = private_chat(new_user())
    listing = await ask(tg, chat, "/sources")
    answer = await ask(tg, chat, feeds.url("/courier.xml"), reply_to=listing)  # not a prompt: a link to summarize
    assert not answer["text"].startswith("Now following") and follows(bot, chat) == []
    lookalike = tg.push_message(chat, actions.ADD_FEED_PROMPT)["message"]  # the prompt's words, not the bot's
    answer = await ask(tg, chat, feeds.url("/courier.xml"), reply_to=lookalike)
    assert not answer["text"].startswith("Now following") and follows(bot, chat) == []

    group, admin = new_group("Quiet"), new_user("Admin")
    tg.set_member(group["id"], admin, "administrator")
    listing = await ask(tg, group, "/sources", sender=admin)
    tg.push_message(group, feeds.url("/courier.xml"), sender=admin, reply_to=listing)
    await settled(tg, group, sender=admin)
    assert follows(bot, group) == [] and not [m for m in tg.sent_messages(group["id"])
                                              if m["text"].startswith("Now following")]


async def test_in_a_group_only_admins_may_ask_and_answer(tg, bot, feeds):
    group = new_group("Desk")
    member, admin = new_user("Member"), new_user("Admin")
    tg.set_member(group["id"], member, "member")
    tg.set_member(group["id"], admin, "administrator")
    listing = await ask(tg, group, "/sources", sender=member)
    assert labels(listing) == [["Add a feed"]]

    update = tg.press_button(group["id"], listing["message_id"], data_of(listing, "Add a feed"), sender=member)
    assert await toast(tg, update) == actions.NOT_ADMIN
    await settled(tg, group, sender=member)
    assert not [c for c in tg.calls("sendMessage") if "force_reply" in c.params.get("reply_markup", {})
                and c.params.get("chat_id") == group["id"]]

    _, prompt, markup = await prompted(tg, group, listing, "Add a feed", sender=admin)
    # `selective` asks the people the prompt mentions: the presser, and only them.
    assert prompt["text"] == f"Admin\n{actions.ADD_FEED_PROMPT}"
    assert prompt["entities"] == [{"type": "text_link", "offset": 0, "length": 5,
                                   "url": f"tg://user?id={admin['id']}"}]
    assert markup["selective"] is True

    refused = await ask(tg, group, feeds.url("/courier.xml"), sender=member, reply_to=prompt)
    assert refused["text"] == (await ask(tg, group, f"/sources add {feeds.url('/courier.xml')}",
                                         sender=member))["text"]
    assert refused["text"].startswith("Only the admins") and follows(bot, group) == []

    answer = await ask(tg, group, feeds.url("/courier.xml"), sender=admin, reply_to=prompt)
    assert answer["text"].startswith("Now following Kessford Courier")
    assert follows(bot, group) == [(feeds.url("/courier.xml"), False)]


async def test_add_an_alert_asks_for_the_words_and_the_reply_subscribes(tg, bot):
    chat = private_chat(new_user())
    listing = await ask(tg, chat, "/alerts")
    assert "No keyword alerts" in listing["text"] and labels(listing) == [["Add an alert"]]
    said, prompt, markup = await prompted(tg, chat, listing, "Add an alert")
    assert not said and prompt["text"] == actions.ADD_ALERT_PROMPT
    assert markup["input_field_placeholder"] == actions.ADD_ALERT_PLACEHOLDER

    answer = await ask(tg, chat, "climate -sports", reply_to=prompt)
    assert answer["text"].startswith("Alert set for climate -sports")
    listing = await ask(tg, chat, "/alerts")
    assert "1. climate -sports" in listing["text"] and labels(listing) == [["Stop 1"], ["Add an alert"]]


async def test_a_prompt_is_in_the_chat_language_and_a_reply_to_it_is_read_in_any(tg, bot, feeds):
    person = tg.add_user(user(next(_ids), "Leser", language_code="de"))
    chat = private_chat(person)
    listing = await ask(tg, chat, "/sources")
    _, prompt, _ = await prompted(tg, chat, listing, "Feed hinzufügen")
    assert prompt["text"] == "Antworte auf diese Nachricht mit der Adresse des Feeds, dem ich folgen soll."
    # The chat's language changes before the reply: the German prompt is still known as the feed prompt.
    await ask(tg, chat, "/language es")
    answer = await ask(tg, chat, feeds.url("/courier.xml"), reply_to=prompt)
    assert follows(bot, chat) == [(feeds.url("/courier.xml"), False)], answer["text"]


async def test_a_channel_cannot_ask_and_the_toast_says_what_to_send(tg, bot):
    channel, admin = channel_chat(-1002000000000 - next(_ids), "Wire"), new_user("Editor")
    tg.set_member(channel["id"], admin, "administrator")
    listing = await ask(tg, channel, "/alerts")
    update = tg.press_button(channel["id"], listing["message_id"], data_of(listing, "Add an alert"), sender=admin)
    assert await toast(tg, update) == TYPE_IN_CHANNEL.format(usage="/subscribe <keywords>")
    await settled(tg, channel)
    assert not [c for c in tg.calls("sendMessage") if "force_reply" in c.params.get("reply_markup", {})
                and c.params.get("chat_id") == channel["id"]]
