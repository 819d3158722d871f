"""The App Home tab through the real slack-bolt app (HTTP mode, signed requests) and the real services:
what a person and a workspace admin see when they open it, its buttons, and its modals that add a feed
or an alert (views.open, then view_submission answered with the modal's errors or closed)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from aiohttp import web

from bot.adapters.slack.home import ENTRY_ACTION, ENTRY_BLOCK
from bot.services.actions import NOT_ADMIN
from tests.adapters.slack.interactive import (ADMIN, ADMIN_DM, CHANNEL, MEMBER, MEMBER_DM, buttons, feed_server,
                                              running_bot, shown, stand_in)
from tests.support.news import rss, story_items
from tests.support.standins.slack_interactions import interaction_body

PAYLOADS = Path(__file__).with_name("payloads")
SCHEDULE_LABELS = {"06:00", "07:00", "08:00", "09:00", "12:00", "18:00", "21:00", "Off", "Empty days: say",
                   "Empty days: skip"}


@pytest.fixture
def slack():
    with stand_in() as server:
        yield server


@pytest.fixture
def feeds():
    with feed_server() as server:
        yield server


@pytest.fixture
async def bot(slack, feeds, tmp_path):
    async with running_bot(slack, feeds, tmp_path) as running:
        yield running


async def open_home(bot, user: str, dm: str) -> dict:
    publishes = len(bot.slack.calls("views.publish"))
    status, _ = await bot.post(bot.slack.app_home_opened_body(user, dm))
    assert status == 200
    await bot.slack.await_calls("views.publish", count=publishes + 1, timeout=15)
    return bot.slack.home_view(user)


async def press_home(bot, user: str, action_id: str, value: str | None = None) -> dict:
    """Press a button of `user`'s Home tab; returns the tab as published again (or the modal opened)."""
    publishes, opens = len(bot.slack.calls("views.publish")), len(bot.slack.calls("views.open"))
    payload = bot.slack.home_block_actions_payload(action_id, user_id=user, value=value)
    status, _ = await bot.post(interaction_body(payload))
    assert status == 200
    if action_id.startswith("briefbot-home:"):
        await bot.slack.await_calls("views.open", count=opens + 1, timeout=15)
        return bot.slack.opened_views()[-1]
    await bot.slack.await_calls("views.publish", count=publishes + 1, timeout=15)
    return bot.slack.home_view(user)


async def submit(bot, user: str, entered: str) -> tuple[int, dict]:
    payload = bot.slack.view_submission_payload({ENTRY_BLOCK: {ENTRY_ACTION: entered}}, user_id=user)
    status, text = await bot.post(interaction_body(payload))
    return status, json.loads(text) if text else {}


def home_buttons(view: dict, chat: str) -> dict[str, dict]:
    """label -> button, of the blocks that belong to one chat."""
    return buttons([block for block in view["blocks"] if block.get("block_id", "").startswith(f"chat:{chat}:")])


async def setup_channel_and_dm(bot) -> None:
    assert "Now following" in await bot.command("/sources", f"add {bot.feeds.url('/world.xml')}")
    assert "Alert set" in await bot.command("/subscribe", "climate")
    assert "Alert set" in await bot.command("/subscribe", "elections", user=MEMBER, channel=MEMBER_DM)
    assert "Daily digest" in await bot.command("/schedule", "08:30 Europe/Berlin", user=MEMBER, channel=MEMBER_DM)


async def test_a_member_sees_their_own_chat_and_no_channel(bot):
    await setup_channel_and_dm(bot)
    view = await open_home(bot, MEMBER, MEMBER_DM)
    text = shown(view["blocks"])
    assert view["type"] == "home" and view["private_metadata"] == MEMBER_DM
    assert "Your direct messages with briefbot" in text
    assert "elections" in text and "08:30 Europe/Berlin" in text
    assert f"<#{CHANNEL}>" not in text and "climate" not in text and "World News" not in text
    assert set(home_buttons(view, MEMBER_DM)) == {"Stop 1"} | SCHEDULE_LABELS
    assert home_buttons(view, CHANNEL) == {}


async def test_a_workspace_admin_also_sees_each_channel_the_bot_serves_but_no_one_elses_messages(bot):
    await setup_channel_and_dm(bot)
    view = await open_home(bot, ADMIN, ADMIN_DM)
    text = shown(view["blocks"])
    assert f"<#{CHANNEL}>" in text and "World News" in text and "climate" in text
    assert "elections" not in text  # the member's own chat is theirs
    assert set(home_buttons(view, CHANNEL)) == {"Pause 1", "Remove 1", "Stop 1"} | SCHEDULE_LABELS


async def test_the_recorded_messages_tab_event_publishes_nothing(bot):
    body = json.loads((PAYLOADS / "app_home_opened.json").read_text())
    body["event"]["tab"] = "messages"
    body["event_id"] = "Ev0MESSAGES"
    status, _ = await bot.post(json.dumps(body).encode())
    recorded = json.loads((PAYLOADS / "app_home_opened.json").read_text())
    status_home, _ = await bot.post(json.dumps(recorded).encode())
    (call,) = await bot.slack.await_calls("views.publish", timeout=15)
    assert (status, status_home) == (200, 200) and call.params["user_id"] == "U0ADA"


async def test_an_admin_pauses_a_channel_feed_from_home_and_the_tab_is_published_again(bot):
    await setup_channel_and_dm(bot)
    view = await open_home(bot, ADMIN, ADMIN_DM)
    again = await press_home(bot, ADMIN, home_buttons(view, CHANNEL)["Pause 1"]["action_id"])
    assert shown(again["blocks"]).startswith("Paused World News")  # the toast, at the top
    assert set(home_buttons(again, CHANNEL)) - SCHEDULE_LABELS == {"Resume 1", "Remove 1", "Stop 1"}
    assert again["id"] == view["id"]
    with bot.services.store.transaction() as tx:
        assert [f.paused for f in tx.sources.followed_by(bot.chat_id(CHANNEL))] == [True]


async def test_a_member_stops_their_alert_from_home(bot):
    await setup_channel_and_dm(bot)
    view = await open_home(bot, MEMBER, MEMBER_DM)
    again = await press_home(bot, MEMBER, home_buttons(view, MEMBER_DM)["Stop 1"]["action_id"])
    assert shown(again["blocks"]).startswith("Alert for elections stopped.")
    with bot.services.store.transaction() as tx:
        assert tx.chats.subscriptions(bot.chat_id(MEMBER_DM)) == []


async def test_a_member_sets_their_digest_time_from_home(bot):
    await setup_channel_and_dm(bot)
    view = await open_home(bot, MEMBER, MEMBER_DM)
    assert SCHEDULE_LABELS <= set(home_buttons(view, MEMBER_DM))
    again = await press_home(bot, MEMBER, home_buttons(view, MEMBER_DM)["08:00"]["action_id"])
    assert shown(again["blocks"]).startswith("Daily digest set for 08:00")
    assert "Daily digest: 08:00" in shown(again["blocks"])
    with bot.services.store.transaction() as tx:
        assert tx.chats.schedule(bot.chat_id(MEMBER_DM)).local_time == "08:00"
    off = await press_home(bot, MEMBER, home_buttons(again, MEMBER_DM)["Off"]["action_id"])
    assert "No daily digest" in shown(off["blocks"])


async def test_add_a_feed_to_a_channel_from_the_modal(bot):
    await setup_channel_and_dm(bot)
    await open_home(bot, ADMIN, ADMIN_DM)
    modal = await press_home(bot, ADMIN, "briefbot-home:add_feed", value=CHANNEL)
    assert modal["type"] == "modal" and f"<#{CHANNEL}>" in shown(modal["blocks"])
    publishes = len(bot.slack.calls("views.publish"))
    status, answer = await submit(bot, ADMIN, bot.feeds.url("/science.xml"))
    assert (status, answer) == (200, {})  # the modal closes
    await bot.slack.await_calls("views.publish", count=publishes + 1, timeout=15)
    view = bot.slack.home_view(ADMIN)
    assert shown(view["blocks"]).startswith("Now following Science Daily")
    assert {"Pause 2", "Remove 2"} <= set(home_buttons(view, CHANNEL))
    with bot.services.store.transaction() as tx:
        assert [f.source.title for f in tx.sources.followed_by(bot.chat_id(CHANNEL))] == ["World News",
                                                                                         "Science Daily"]


@pytest.mark.parametrize("entered, why", [("not a feed address", "not"), ("/page.html", "not a feed")])
async def test_a_bad_feed_address_is_shown_in_the_modal_and_adds_nothing(bot, entered, why):
    await open_home(bot, MEMBER, MEMBER_DM)
    await press_home(bot, MEMBER, "briefbot-home:add_feed")
    status, answer = await submit(bot, MEMBER, bot.feeds.url(entered) if entered.startswith("/") else entered)
    assert status == 200 and answer["response_action"] == "errors"
    assert why in answer["errors"][ENTRY_BLOCK]
    with bot.services.store.transaction() as tx:
        chat = tx.chats.find("slack", MEMBER_DM)
        assert chat is None or tx.sources.followed_by(chat.id) == []


async def test_add_an_alert_in_ones_own_chat_and_a_bad_query_in_the_modal(bot):
    await open_home(bot, MEMBER, MEMBER_DM)
    await press_home(bot, MEMBER, "briefbot-home:add_alert")
    status, bad = await submit(bot, MEMBER, "-sports")
    assert status == 200 and bad["response_action"] == "errors"
    assert "only excludes" in bad["errors"][ENTRY_BLOCK]
    await press_home(bot, MEMBER, "briefbot-home:add_alert")
    publishes = len(bot.slack.calls("views.publish"))
    status, good = await submit(bot, MEMBER, "climate -sports")
    assert (status, good) == (200, {})
    await bot.slack.await_calls("views.publish", count=publishes + 1, timeout=15)
    view = bot.slack.home_view(MEMBER)
    assert shown(view["blocks"]).startswith("Alert set for climate -sports")
    with bot.services.store.transaction() as tx:
        assert [s.display for s in tx.chats.subscriptions(bot.chat_id(MEMBER_DM))] == ["climate -sports"]


async def test_a_member_cannot_add_to_a_channel_through_a_modal(bot):
    await setup_channel_and_dm(bot)
    await open_home(bot, MEMBER, MEMBER_DM)
    await press_home(bot, MEMBER, "briefbot-home:add_alert", value=CHANNEL)  # a button they were never shown
    status, answer = await submit(bot, MEMBER, "markets")
    assert status == 200 and answer == {"response_action": "errors", "errors": {ENTRY_BLOCK: NOT_ADMIN}}
    with bot.services.store.transaction() as tx:
        assert [s.display for s in tx.chats.subscriptions(bot.chat_id(CHANNEL))] == ["climate"]


async def test_many_channels_stay_within_a_views_100_blocks(bot):
    with bot.services.store.transaction() as tx:
        for n in range(30):
            chat = tx.chats.ensure("slack", f"C0MANY{n:02d}", kind="group")
            tx.chats.subscribe(chat.id, f"topic{n}", f"topic{n}")
    view = await open_home(bot, ADMIN, ADMIN_DM)
    assert bot.slack.calls("views.publish")[-1].response["ok"] is True
    assert len(view["blocks"]) <= 100
    assert "more channels not shown here" in shown(view["blocks"])


async def test_a_feed_slow_to_check_turns_the_modal_into_a_note_and_home_tells_the_outcome(bot):
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)  # longer than Slack waits for a submission's answer
        return web.Response(body=rss(story_items(range(5, 7)), title="Slow Times"),
                            content_type="application/rss+xml")

    bot.feeds.route("/slow.xml", slow)
    await open_home(bot, MEMBER, MEMBER_DM)
    await press_home(bot, MEMBER, "briefbot-home:add_feed")
    publishes = len(bot.slack.calls("views.publish"))
    started = time.monotonic()
    status, answer = await submit(bot, MEMBER, bot.feeds.url("/slow.xml"))
    answered_in = time.monotonic() - started
    assert status == 200 and answered_in < 3
    assert answer["response_action"] == "update" and "Checking the feed" in shown(answer["view"]["blocks"])
    await bot.slack.await_calls("views.publish", count=publishes + 1, timeout=15)
    assert shown(bot.slack.home_view(MEMBER)["blocks"]).startswith("Now following Slow Times")


async def test_the_home_tab_and_its_forms_are_in_the_persons_slack_language(bot):
    bot.slack.set_locale(MEMBER, "de-DE")
    view = await open_home(bot, MEMBER, MEMBER_DM)
    assert view["blocks"][0]["text"]["text"] == "Deine Direktnachrichten mit briefbot"
    text = shown(view["blocks"])
    assert "*Feeds*\nNoch keine." in text and "Kein täglicher Nachrichtenüberblick" in text
    modal = await press_home(bot, MEMBER, "briefbot-home:add_alert", MEMBER_DM)
    assert modal["title"]["text"] == "Alarm hinzufügen" and modal["submit"]["text"] == "Hinzufügen"
    status, answer = await submit(bot, MEMBER, "gold OR silver")
    assert status == 200 and answer["errors"][ENTRY_BLOCK].startswith("OR wird nicht unterstützt")
