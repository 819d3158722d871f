"""Buttons on Slack: Block Kit rendering of `Message.buttons`, and presses (`block_actions`) through the
real slack-bolt app in HTTP mode (signed requests to the bot's server) and Socket Mode, with the real
action service on a SQLite file. The stand-in records the toast (an ephemeral answer on the press's
response_url) and the in-place update (chat.update)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.render import ACTION_PREFIX, render_message
from bot.domain.actions import Button
from bot.domain.models import ChatRef, Message
from bot.services.actions import (EXPIRED, FORGED, NOT_ADMIN, ActionService, alert_brief_buttons,
                                  sources_buttons)
from bot.store.store import Store
from tests.adapters.slack.interactive import (ADMIN, CHANNEL, MEMBER, MEMBER_DM, OTHER_CHANNEL,
                                              action_id, buttons, feed_server, running_bot, shown, stand_in)
from tests.support.databases import sqlite_url
from tests.support.standins.slack import post_signed
from tests.support.standins.slack_interactions import (block_actions_payload, button_action, interaction_body,
                                                       interaction_user)
from tests.support.standins.slack_socket import SlackSocketStandIn

PAYLOADS = Path(__file__).with_name("payloads")
TOKEN = "a:" + "x" * 11


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


async def follow_two(bot, channel: str = CHANNEL, user: str = ADMIN) -> None:
    for path in ("/world.xml", "/science.xml"):
        assert "Now following" in await bot.command("/sources", f"add {bot.feeds.url(path)}", user=user,
                                                    channel=channel)


async def sources_message(bot, channel: str = CHANNEL) -> dict:
    """/sources' listing with its rows of buttons, posted as the delivery loop posts."""
    chat_id = bot.chat_id(channel)
    with bot.services.store.transaction() as tx:
        rows = sources_buttons(tx, chat_id)
    return await bot.post_with_buttons(channel, "\n".join(bot.services.feeds.describe(chat_id)), rows)


def paused(bot, channel: str = CHANNEL) -> list[bool]:
    with bot.services.store.transaction() as tx:
        return [item.paused for item in tx.sources.followed_by(bot.chat_id(channel))]


# ----- rendering --------------------------------------------------------------------------------

def test_buttons_become_actions_blocks_within_slacks_limits():
    long_label = "Mute " + "a very long feed title " * 5
    rows = ((Button("Pause 1", TOKEN), Button("Remove 1", TOKEN, "danger")),
            (Button(long_label, TOKEN, "primary"),),
            tuple(Button(f"Stop {n}", TOKEN, "danger") for n in range(30)))
    (part,) = render_message(Message(kind="reply", heading="Sources", text="1. World", buttons=rows))
    actions = [block for block in part["blocks"] if block["type"] == "actions"]
    assert [len(block["elements"]) for block in actions] == [2, 1, 25, 5]  # 30 in a row: split at 25
    ids = [element["action_id"] for block in actions for element in block["elements"]]
    assert len(set(ids)) == len(ids) and all(i.startswith(ACTION_PREFIX) for i in ids)
    first, second = actions[0]["elements"]
    assert first == {"type": "button", "action_id": first["action_id"],
                     "text": {"type": "plain_text", "text": "Pause 1", "emoji": True}, "value": TOKEN}
    assert second["style"] == "danger" and actions[1]["elements"][0]["style"] == "primary"
    assert all(len(e["text"]["text"]) <= 75 for block in actions for e in block["elements"])
    assert part["blocks"][-1] is actions[-1]  # under the message


def test_a_long_message_keeps_its_buttons_in_its_last_part_and_each_part_within_50_blocks():
    rows = tuple((Button(f"Pause {n}", TOKEN), Button(f"Remove {n}", TOKEN, "danger")) for n in range(20))
    text = "\n\n".join(f"{n}. " + "word " * 500 for n in range(48))
    parts = render_message(Message(kind="reply", text=text, buttons=rows))
    assert all(len(part["blocks"]) <= 50 for part in parts) and len(parts) >= 2
    assert not any(block["type"] == "actions" for part in parts[:-1] for block in part["blocks"])
    assert sum(block["type"] == "actions" for block in parts[-1]["blocks"]) == 20
    assert parts[-1]["text"]


async def test_the_stand_in_accepts_what_the_sender_posts_with_buttons(bot):
    await follow_two(bot)
    posted = await sources_message(bot)
    # No "Add a feed": Slack adds through its App Home forms.
    assert {"Pause 1", "Remove 1", "Pause 2", "Remove 2"} == set(buttons(posted["blocks"]))
    assert bot.slack.calls("chat.postMessage")[-1].response["ok"] is True


# ----- presses ----------------------------------------------------------------------------------

async def test_an_admin_pauses_a_feed_and_the_message_is_updated_in_place(bot):
    await follow_two(bot)
    posted = await sources_message(bot)
    payload = bot.slack.block_actions_payload(action_id(posted["blocks"], "Pause 1"), user_id=ADMIN,
                                              channel_id=CHANNEL)
    toast = await bot.press(payload, update=True)
    assert toast.startswith("Paused World News")
    assert paused(bot) == [True, False]
    (updated,) = bot.slack.updated_messages(CHANNEL)
    assert updated["ts"] == posted["ts"]
    labels = buttons(updated["blocks"])
    assert {"Resume 1", "Remove 1", "Pause 2", "Remove 2"} == set(labels)
    assert labels["Resume 1"]["style"] == "primary"
    assert "World News" in shown(updated["blocks"])  # the listing, rendered again


async def test_a_member_who_is_no_admin_changes_nothing_in_a_channel(bot):
    await follow_two(bot)
    posted = await sources_message(bot)
    payload = bot.slack.block_actions_payload(action_id(posted["blocks"], "Pause 1"), user_id=MEMBER,
                                              channel_id=CHANNEL)
    assert await bot.press(payload) == NOT_ADMIN
    assert paused(bot) == [False, False]
    assert bot.slack.calls("chat.update") == []


async def test_in_a_direct_message_the_person_may_press(bot):
    await follow_two(bot, channel=MEMBER_DM, user=MEMBER)
    posted = await sources_message(bot, MEMBER_DM)
    payload = bot.slack.block_actions_payload(action_id(posted["blocks"], "Pause 2"), user_id=MEMBER,
                                              channel_id=MEMBER_DM)
    assert (await bot.press(payload, update=True)).startswith("Paused Science Daily")
    assert paused(bot, MEMBER_DM) == [False, True]


async def test_remove_pressed_twice_removes_once_and_says_so(bot):
    await follow_two(bot)
    posted = await sources_message(bot)
    payload = bot.slack.block_actions_payload(action_id(posted["blocks"], "Remove 1"), user_id=ADMIN,
                                              channel_id=CHANNEL)
    first = await bot.press(payload, update=True)
    again = dict(payload, response_url=bot.slack.new_response_url())  # the same button, tapped again
    second = await bot.press(again, update=True)
    assert first == "Stopped following World News."
    assert second == "That feed was already removed."
    with bot.services.store.transaction() as tx:
        assert [f.source.title for f in tx.sources.followed_by(bot.chat_id(CHANNEL))] == ["Science Daily"]
    assert set(buttons(bot.slack.updated_messages(CHANNEL)[-1]["blocks"])) == {"Pause 1", "Remove 1"}


async def test_stale_odd_and_forged_buttons_get_an_answer_and_change_nothing(bot):
    await follow_two(bot)
    await follow_two(bot, channel=OTHER_CHANNEL)
    other = await sources_message(bot, OTHER_CHANNEL)
    posted = await sources_message(bot)
    forged_token = buttons(other["blocks"])["Remove 1"]["value"]  # minted for the other channel
    pause = action_id(posted["blocks"], "Pause 1")
    answers = []
    for value in ("a:unknownToken1", "not a token", "", forged_token):
        payload = bot.slack.block_actions_payload(pause, user_id=ADMIN, channel_id=CHANNEL, value=value)
        answers.append(await bot.press(payload))
    assert answers == [EXPIRED, EXPIRED, EXPIRED, FORGED]
    assert paused(bot) == [False, False] and paused(bot, OTHER_CHANNEL) == [False, False]
    assert bot.slack.calls("chat.update") == []


async def test_the_recorded_payload_with_a_value_of_another_app_is_expired(bot):
    await follow_two(bot)
    payload = json.loads((PAYLOADS / "block_actions.json").read_text())
    payload["actions"][0]["action_id"] = f"{ACTION_PREFIX}0.0"  # ours by its id, but its value "f:1" is no token
    payload["response_url"] = bot.slack.new_response_url()
    payload["user"]["id"] = ADMIN
    assert await bot.press(payload) == EXPIRED
    assert paused(bot) == [False, False]


async def test_unsigned_and_forged_signature_presses_are_refused_and_change_nothing(bot):
    await follow_two(bot)
    posted = await sources_message(bot)
    payload = bot.slack.block_actions_payload(action_id(posted["blocks"], "Remove 1"), user_id=ADMIN,
                                              channel_id=CHANNEL)
    body = interaction_body(payload)
    async with aiohttp.ClientSession() as session:
        async with session.post(bot.url, data=body,
                                headers={"Content-Type": "application/x-www-form-urlencoded"}) as response:
            unsigned = response.status
    forged, _ = await post_signed(bot.url, body, "0" * 32)
    assert (unsigned, forged) == (401, 401)
    await asyncio.sleep(0.3)  # a press let through would have answered by now
    assert bot.slack.responses(payload["response_url"]) == [] and bot.slack.calls("chat.update") == []
    with bot.services.store.transaction() as tx:
        assert len(tx.sources.followed_by(bot.chat_id(CHANNEL))) == 2


async def test_stop_under_an_alert_removes_the_button_and_keeps_the_brief(bot):
    assert "Alert set" in await bot.command("/subscribe", "climate")
    chat_id = bot.chat_id(CHANNEL)
    with bot.services.store.transaction() as tx:
        rows = alert_brief_buttons(tx, chat_id, tx.chats.subscriptions(chat_id))
    posted = await bot.post_with_buttons(CHANNEL, "Climate talks end with a deal", rows)
    payload = bot.slack.block_actions_payload(action_id(posted["blocks"], "Stop this alert"), user_id=ADMIN,
                                              channel_id=CHANNEL)
    assert await bot.press(payload, update=True) == "Alert for climate stopped."
    (updated,) = bot.slack.updated_messages(CHANNEL)
    assert shown(updated["blocks"]) == "Climate talks end with a deal" and buttons(updated["blocks"]) == {}
    with bot.services.store.transaction() as tx:
        assert tx.chats.subscriptions(chat_id) == []


async def test_a_press_on_a_slash_commands_answer_replaces_it_through_the_response_url(bot):
    await follow_two(bot)
    chat_id = bot.chat_id(CHANNEL)
    with bot.services.store.transaction() as tx:
        rows = sources_buttons(tx, chat_id)
    (part,) = render_message(Message(kind="reply", heading="Sources", text="1. World News", buttons=rows))
    # An answer posted through a slash command's response_url: chat.update does not know it.
    message = {"type": "message", "user": bot.slack.bot_user_id, "ts": "1764400000.000009", "text": part["text"],
               "blocks": part["blocks"]}
    payload = block_actions_payload(
        button_action(buttons(part["blocks"])["Pause 1"], "b1"),
        user=interaction_user(ADMIN, team_id=bot.slack.team_id), team={"id": bot.slack.team_id, "domain": "standin"},
        api_app_id="A0STANDIN", trigger_id=bot.slack.new_trigger_id(),
        container={"type": "message", "message_ts": message["ts"], "channel_id": CHANNEL, "is_ephemeral": False},
        channel={"id": CHANNEL, "name": "news"}, message=message, response_url=bot.slack.new_response_url())
    status, _ = await bot.post(interaction_body(payload))
    key = payload["response_url"].rsplit("/", 1)[-1]
    await bot.slack.await_calls("response_url", count=2, where=lambda c: c.params["key"] == key, timeout=15)
    toast, replaced = bot.slack.responses(payload["response_url"])
    assert status == 200 and toast["text"].startswith("Paused World News")
    assert replaced["replace_original"] is True
    assert {"Resume 1", "Remove 1", "Pause 2", "Remove 2"} == set(buttons(replaced["blocks"]))
    assert paused(bot) == [True, False]


# ----- Socket Mode ------------------------------------------------------------------------------

APP_TOKEN = "xapp-1-A0STANDIN-2222-0f1e2d3c4b5a69788796a5b4c3d2e1f0"


class NoCommands:
    async def handle(self, incoming):
        return []


async def test_a_press_over_the_socket_is_acknowledged_and_answered(tmp_path):
    store = Store.open(sqlite_url(tmp_path))
    with SlackSocketStandIn(app_token=APP_TOKEN) as slack:
        slack.set_user(ADMIN, is_admin=True)
        adapter = SlackAdapter(NoCommands(), bot_token=slack.token, mode="socket", app_token=APP_TOKEN,
                               api_base_url=slack.api_url, actions=ActionService(store=store))
        await adapter.start()
        try:
            await slack.await_connected()
            with store.transaction() as tx:
                chat = tx.chats.ensure("slack", CHANNEL, kind="group")
                source = tx.sources.ensure("https://example.com/feed.xml", title="Example")
                tx.sources.follow(chat.id, source.id)
                rows = sources_buttons(tx, chat.id)
            for part in render_message(Message(kind="reply", text="1. Example", buttons=rows)):
                await adapter.sender.send_part(ChatRef("slack", CHANNEL), part)
            posted = slack.posted_messages(CHANNEL)[-1]
            payload = slack.block_actions_payload(action_id(posted["blocks"], "Pause 1"), user_id=ADMIN,
                                                  channel_id=CHANNEL)
            envelope = slack.push("interactive", payload)
            await slack.await_calls("socket_ack", where=lambda c: c.params["envelope_id"] == envelope)
            await slack.await_calls("response_url")
            await slack.await_calls("chat.update")
        finally:
            await adapter.stop()
    assert slack.responses()[0]["text"].startswith("Paused Example")
    with store.transaction() as tx:
        assert [f.paused for f in tx.sources.followed_by(chat.id)] == [True]
    store.close()
