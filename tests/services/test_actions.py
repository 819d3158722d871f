"""Pressing buttons, on a real SQLite file and the real PostgreSQL server: every action, and every press
that must change nothing (expired, forged, not an admin, already done), including two at once."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from sqlalchemy import select

from bot.domain.models import ChatRef, Message
from bot.services.actions import (ASKS, BUSY, EXPIRED, FAILED, FORGED, NOT_ADMIN, ActionService,
                                  alert_brief_buttons, alerts_buttons, asked_by, feed_brief_buttons,
                                  schedule_buttons, sources_buttons)
from bot.store.actions import ACTION_TTL, ActionSpec
from bot.store.articles import NewArticle
from bot.store.store import Store
from bot.store.tables import Action, Delivery

NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)  # a Monday
GROUP = ChatRef("telegram", "-100")
PRIVATE = ChatRef("telegram", "42")


class Scheduler:
    def __init__(self) -> None:
        self.rescheduled: list[int] = []

    def reschedule_chat(self, chat_id: int) -> None:
        self.rescheduled.append(chat_id)


async def admin() -> bool:
    return True


async def not_admin() -> bool:
    return False


async def never_asked() -> bool:
    raise AssertionError("a private chat's owner is not asked about")


@pytest.fixture
def clock():
    """The service's "now", which a test may move on."""
    return [NOW]


@pytest.fixture
def world(store, clock):
    """A group following two feeds with two alerts, and a private chat following one feed."""
    with store.transaction() as tx:
        group = tx.chats.ensure("telegram", "-100", kind="group", timezone="Europe/Berlin")
        private = tx.chats.ensure("telegram", "42")
        harbour = tx.sources.ensure("https://harbour.example/feed", title="Harbour Gazette")
        rail = tx.sources.ensure("https://rail.example/feed", title="Rail News")
        for source in (harbour, rail):
            tx.sources.follow(group.id, source.id)
        tx.sources.follow(private.id, harbour.id)
        tx.chats.subscribe(group.id, "north korea", '"North Korea"')
        tx.chats.subscribe(group.id, "climate -sports", "climate -sports")
    return {"group": group.id, "private": private.id, "harbour": harbour.id, "rail": rail.id}


@pytest.fixture
def actions(store, clock):
    return ActionService(store=store, scheduler=Scheduler(), clock=lambda: clock[0])


def build(store: Store, builder, *args):
    with store.transaction() as tx:
        return builder(tx, *args, now=NOW)


def labels(rows) -> list[list[str]]:
    return [[button.label for button in row] for row in rows]


def token(rows, label: str) -> str:
    return next(b.token for row in rows for b in row if b.label == label)


def paused(store: Store, chat_id: int) -> dict[str, bool]:
    with store.transaction() as tx:
        return {f.source.title: f.paused for f in tx.sources.followed_by(chat_id)}


async def press(actions: ActionService, token: str, chat: ChatRef = GROUP, is_admin=admin):
    return await actions.press(chat, token, presser_is_admin=is_admin,
                               chat_kind="private" if chat == PRIVATE else "group")


async def test_sources_rows_pause_resume_and_remove_a_feed_each_once(store, world, actions):
    rows = build(store, sources_buttons, world["group"])
    assert labels(rows) == [["Pause 1", "Remove 1"], ["Pause 2", "Remove 2"], ["Add a feed"]]
    assert [b.style for b in rows[0]] == ["default", "danger"]

    result = await press(actions, token(rows, "Pause 1"))
    assert result.changed and result.toast.startswith("Paused Harbour Gazette") and result.view == "sources"
    assert labels(result.buttons) == [["Resume 1", "Remove 1"], ["Pause 2", "Remove 2"], ["Add a feed"]]
    assert paused(store, world["group"]) == {"Harbour Gazette": True, "Rail News": False}
    assert paused(store, world["private"]) == {"Harbour Gazette": False}  # another chat's follow is its own

    again = await press(actions, token(rows, "Pause 1"))  # a double tap, or an old copy of the message
    assert not again.changed and again.toast == "Harbour Gazette is already paused."

    resumed = await press(actions, token(result.buttons, "Resume 1"))
    assert resumed.changed and resumed.toast == "Resumed Harbour Gazette."
    assert not (await press(actions, token(result.buttons, "Resume 1"))).changed

    removed = await press(actions, token(rows, "Remove 2"))
    assert removed.changed and removed.toast == "Stopped following Rail News."
    assert labels(removed.buttons) == [["Pause 1", "Remove 1"], ["Add a feed"]]
    for stale in ("Remove 2", "Pause 2"):
        result = await press(actions, token(rows, stale))
        assert not result.changed and result.toast == "That feed was already removed."
    assert paused(store, world["group"]) == {"Harbour Gazette": False}


async def test_a_paused_feed_brings_no_briefs_to_that_chat_only(store, world, actions):
    with store.transaction() as tx:
        article, _ = tx.articles.add(NewArticle(fingerprint="f", text="t", url="https://harbour.example/1"),
                                     source_id=world["harbour"], guid="1")
        tx.articles.save_brief(article, headline="Ferry strike", points=["p"], backend="lead")
    await press(actions, token(build(store, sources_buttons, world["group"]), "Pause 1"))
    with store.transaction() as tx:
        assert tx.articles.briefs_for_chat(world["group"]) == []
        assert [b.headline for b in tx.articles.briefs_for_chat(world["private"])] == ["Ferry strike"]


async def test_alerts_rows_stop_an_alert_once(store, world, actions):
    rows = build(store, alerts_buttons, world["group"])
    assert labels(rows) == [["Stop 1", "Stop 2"], ["Add an alert"]]
    result = await press(actions, token(rows, "Stop 2"))
    assert result.changed and result.toast == "Alert for climate -sports stopped." and result.view == "alerts"
    assert labels(result.buttons) == [["Stop 1"], ["Add an alert"]]
    again = await press(actions, token(rows, "Stop 2"))
    assert not again.changed and again.toast == "That alert was already stopped."
    with store.transaction() as tx:
        assert [s.display for s in tx.chats.subscriptions(world["group"])] == ['"North Korea"']


async def test_stop_this_alert_under_an_alert_removes_its_button(store, world, actions):
    with store.transaction() as tx:
        subscriptions = tx.chats.subscriptions(world["group"])
        one = alert_brief_buttons(tx, world["group"], subscriptions[:1])
        both = alert_brief_buttons(tx, world["group"], subscriptions)
    assert labels(one) == [["Stop this alert"]]
    assert labels(both) == [['Stop: "North Korea"', "Stop: climate -sports"]]
    result = await press(actions, token(both, "Stop: climate -sports"))
    assert result.changed and labels(result.buttons) == [["Stop this alert"]] and result.view is None
    result = await press(actions, token(one, "Stop this alert"))
    assert result.changed and result.buttons == ()
    assert not (await press(actions, token(one, "Stop this alert"))).changed


async def test_schedule_buttons_set_a_time_turn_it_off_and_choose_what_an_empty_day_sends(store, world, actions):
    rows = build(store, schedule_buttons, world["group"])
    assert labels(rows) == [["06:00", "07:00", "08:00", "09:00"], ["12:00", "18:00", "21:00", "Off"],
                            ["Empty days: say", "Empty days: skip"]]
    assert [b.label for row in rows for b in row if b.style == "primary"] == ["Off", "Empty days: skip"]

    result = await press(actions, token(rows, "07:00"))
    assert result.changed and result.view == "schedule"
    assert result.toast == "Daily digest set for 07:00 Europe/Berlin; the next one comes Tuesday 3 March."
    assert [b.label for row in result.buttons for b in row if b.style == "primary"] == ["07:00", "Empty days: skip"]
    with store.transaction() as tx:
        schedule = tx.chats.schedule(world["group"])
        assert (schedule.local_time, schedule.timezone) == ("07:00", "Europe/Berlin")
        assert schedule.next_run_at == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 in Berlin passed today
    again = await press(actions, token(rows, "07:00"))
    assert not again.changed and again.toast == "The daily digest is already at 07:00 Europe/Berlin."

    off = await press(actions, token(rows, "Off"))
    assert off.changed and off.toast == "Daily digest turned off."
    assert (await press(actions, token(rows, "Off"))).toast == "The daily digest is already off."
    assert actions.scheduler.rescheduled == [world["group"], world["group"]]  # only for the changes

    say = await press(actions, token(rows, "Empty days: say"))
    assert say.changed and say.toast == "On a quiet day I will say so."
    again = await press(actions, token(rows, "Empty days: say"))
    assert not again.changed and again.toast == "Already so: on a quiet day I will say so."
    with store.transaction() as tx:
        assert tx.chats.get(world["group"]).empty_digest == "say" and tx.chats.schedule(world["group"]) is None


async def test_mute_under_a_brief_pauses_the_feed_here_and_offers_unmute(store, world, actions):
    with store.transaction() as tx:
        harbour, rail = tx.sources.get(world["harbour"]), tx.sources.get(world["rail"])
        one = feed_brief_buttons(tx, world["group"], [harbour])
        digest = feed_brief_buttons(tx, world["group"], [harbour, rail])
        unfollowed = feed_brief_buttons(tx, world["private"], [rail])
    assert labels(one) == [["Mute this feed"]] and unfollowed == ()
    assert labels(digest) == [["Mute Harbour Gazette"], ["Mute Rail News"]]

    result = await press(actions, token(digest, "Mute Rail News"))
    assert result.changed and result.toast == "Muted Rail News in this chat; /sources can resume it."
    assert labels(result.buttons) == [["Mute Harbour Gazette"], ["Unmute Rail News"]] and result.view is None
    assert (await press(actions, token(digest, "Mute Rail News"))).toast == "Rail News is already muted."
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": True}

    unmuted = await press(actions, token(result.buttons, "Unmute Rail News"))
    assert unmuted.changed and labels(unmuted.buttons) == [["Mute Harbour Gazette"], ["Mute Rail News"]]
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": False}


async def test_a_button_of_another_chat_is_refused_and_changes_nothing(store, world, actions):
    group_rows = build(store, sources_buttons, world["group"])
    result = await actions.press(PRIVATE, token(group_rows, "Remove 1"), presser_is_admin=never_asked,
                                 chat_kind="private")
    assert result.toast == FORGED and not result.changed and not result.edits
    stranger = await press(actions, token(group_rows, "Remove 1"), ChatRef("slack", "-100"))  # same id, other platform
    assert stranger.toast == FORGED
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": False}


async def test_in_a_group_only_admins_may_press_and_in_a_private_chat_nobody_is_asked(store, world, actions):
    rows = build(store, sources_buttons, world["group"])
    refused = await press(actions, token(rows, "Remove 1"), is_admin=not_admin)
    assert refused.toast == NOT_ADMIN and not refused.changed and not refused.edits
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": False}
    mine = build(store, sources_buttons, world["private"])
    result = await press(actions, token(mine, "Pause 1"), PRIVATE, is_admin=never_asked)
    assert result.changed


async def test_an_expired_unknown_or_malformed_token_is_told_so(store, world, actions, clock):
    rows = build(store, sources_buttons, world["group"])
    for bad in ("a:nosuchtoken1", "", "x" * 300, "a:../../etc"):
        result = await press(actions, bad)
        assert result.toast == EXPIRED and not result.edits
    clock[0] = NOW + ACTION_TTL + timedelta(minutes=1)
    result = await press(actions, token(rows, "Remove 1"))
    assert result.toast == EXPIRED and not result.changed
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": False}
    assert actions.prune() == 5  # the five buttons made above
    assert actions.prune() == 0


async def test_a_platform_error_or_a_locked_database_gets_an_answer_and_changes_nothing(store, world, database_url):
    rows = build(store, sources_buttons, world["group"])

    async def platform_down() -> bool:
        raise ConnectionError("getChatMember timed out")

    service = ActionService(store=store, db_wait_s=0.2, clock=lambda: NOW)
    failed = await press(service, token(rows, "Remove 1"), is_admin=platform_down)
    assert failed.toast == FAILED and not failed.changed
    holder = Store.open(database_url, run_migrations=False)
    try:
        with holder.transaction() as tx:
            tx.chats.lock(world["group"])  # another process holds the chat past the press's patience
            busy = await press(service, token(rows, "Remove 1"))
        assert busy.toast == BUSY and not busy.edits
    finally:
        holder.close()
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": False}


async def test_a_toast_stays_within_200_characters(store, world, actions):
    with store.transaction() as tx:
        tx.sources.get(world["rail"]).title = "Rail " * 100
    result = await press(actions, token(build(store, sources_buttons, world["group"]), "Pause 2"))
    assert result.changed and len(result.toast) <= 200


async def test_add_buttons_ask_for_the_command_and_change_nothing(store, world, actions):
    sources, alerts = build(store, sources_buttons, world["group"]), build(store, alerts_buttons, world["group"])
    with store.transaction() as tx:
        empty = tx.chats.ensure("telegram", "7").id
    assert labels(build(store, sources_buttons, empty)) == [["Add a feed"]]  # none followed yet: still there
    assert labels(build(store, alerts_buttons, empty)) == [["Add an alert"]]
    assert [b.asks for row in sources for b in row] == [False] * 4 + [True]

    feed = await press(actions, token(sources, "Add a feed"))
    assert not feed.changed and not feed.edits and feed.toast == ""
    assert feed.ask.command == "sources" and feed.ask.incoming_args(" https://x.org/f ") == "add https://x.org/f"
    alert = await press(actions, token(alerts, "Add an alert"))
    assert (alert.ask.command, alert.ask.incoming_args("climate -sports")) == ("subscribe", "climate -sports")
    assert paused(store, world["group"]) == {"Harbour Gazette": False, "Rail News": False}

    refused = await press(actions, token(sources, "Add a feed"), is_admin=not_admin)
    assert refused.toast == NOT_ADMIN and refused.ask is None
    forged = await press(actions, token(sources, "Add a feed"), PRIVATE, never_asked)
    assert forged.toast == FORGED and forged.ask is None

    assert all(asked_by(f" {ask.prompt}\n") is ask for ask in ASKS.values())
    assert asked_by(feed.ask.prompt + " please") is None and asked_by("") is None


@pytest.mark.parametrize("label,builder", [("Pause 1", sources_buttons), ("Remove 1", sources_buttons),
                                           ("Stop 1", alerts_buttons), ("08:00", schedule_buttons)])
def test_two_processes_pressing_at_once_change_things_once(database_url, world, label, builder):
    """Each presser has its own engine, as two bot processes would. A third holds the chat's row while
    both presses start, so that they are surely in flight together when it lets go."""
    stores = [Store.open(database_url, run_migrations=False) for _ in range(3)]
    try:
        rows = build(stores[0], builder, world["group"])
        start = threading.Barrier(3)
        results = []

        def holder(store: Store) -> None:
            with store.transaction() as tx:
                tx.chats.lock(world["group"])
                start.wait()
                time.sleep(0.5)

        def presser(store: Store) -> None:
            service = ActionService(store=store, clock=lambda: NOW)
            start.wait()
            results.append(asyncio.run(press(service, token(rows, label))))

        threads = [threading.Thread(target=holder, args=(stores[0],))]
        threads += [threading.Thread(target=presser, args=(s,)) for s in stores[1:]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(r.changed for r in results) == [False, True], [r.toast for r in results]
        assert all(r.edits for r in results), [r.toast for r in results]
    finally:
        for store in stores:
            store.close()


def test_buttons_survive_the_outbox(store, world):
    rows = build(store, alerts_buttons, world["group"])
    message = Message(kind="reply", text="1. x", buttons=rows)
    with store.transaction() as tx:
        tx.outbox.enqueue(dedupe_key="k", chat_pk=world["group"], kind="reply", payload=message.to_dict(), now=NOW)
    with store.transaction() as tx:
        payload = tx.session.scalar(select(Delivery.payload).where(Delivery.dedupe_key == "k"))
    assert Message.from_dict(payload).buttons == rows


async def test_a_pressed_listing_comes_back_in_its_new_state_and_a_failing_one_keeps_the_change(store, world, clock):
    shown = []

    def views(chat_pk: int, view: str) -> Message:
        shown.append((chat_pk, view))
        with store.transaction() as tx:
            states = [f"{f.source.title}: {'paused' if f.paused else 'on'}" for f in tx.sources.followed_by(chat_pk)]
        return Message(kind="reply", heading="Sources", text="\n".join(states))

    actions = ActionService(store=store, views=views, clock=lambda: clock[0])
    result = await press(actions, token(build(store, sources_buttons, world["group"]), "Pause 1"))
    assert shown == [(world["group"], "sources")]
    assert result.message.text == "Harbour Gazette: paused\nRail News: on" and result.message.buttons == result.buttons

    with store.transaction() as tx:
        under_a_brief = feed_brief_buttons(tx, world["group"], [tx.sources.get(world["rail"])], now=NOW)
    assert (await press(actions, token(under_a_brief, "Mute this feed"))).message is None  # not a listing

    def broken(chat_pk: int, view: str) -> Message:
        raise RuntimeError("the listing cannot be read")

    actions = ActionService(store=store, views=broken, clock=lambda: clock[0])
    result = await press(actions, token(result.buttons, "Resume 1"))
    assert result.changed and result.message is None and labels(result.buttons)[0] == ["Pause 1", "Remove 1"]


def test_buttons_minted_in_a_batch_resolve_like_the_others(store, world):
    with store.transaction() as tx:
        old = tx.actions.mint(world["group"], [ActionSpec("alert_stop", 1)], now=NOW - ACTION_TTL * 2)
    with store.transaction() as tx:
        tx.actions.prune_chats([world["group"], world["private"]], now=NOW)
        batch = [tx.actions.mint(chat, [ActionSpec("alert_stop", 1)], now=NOW, batch=True)[0]
                 for chat in (world["group"], world["private"])]
    with store.transaction() as tx:
        assert [tx.actions.resolve(t, now=NOW).chat_pk for t in batch] == [world["group"], world["private"]]
        assert tx.session.scalar(select(Action).where(Action.token == old[0])) is None  # pruned, not just expired
