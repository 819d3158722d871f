"""What a person manages, for a home screen, on a real SQLite file and the real PostgreSQL server: their
own chat, the shared chats for admins (never other people's private chats), the buttons minted for each,
and adding an alert under the commands' rule and words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import ChatRef
from bot.services.actions import NOT_ADMIN, ActionService
from bot.services.home import MAX_SHARED_CHATS, HomeService

NOW = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
OWN, OTHER_PERSON = ChatRef("demo", "D1"), ChatRef("demo", "D2")
CHANNEL = ChatRef("demo", "C1")


async def admin() -> bool:
    return True


async def not_admin() -> bool:
    return False


async def never_asked() -> bool:
    raise AssertionError("a private chat's owner is not asked about")


@pytest.fixture
def home(store):
    # Only adding a feed needs the feed service (fetching); these tests add alerts.
    return HomeService(store=store, feeds=None, max_alerts_per_chat=2, clock=lambda: NOW)


@pytest.fixture
def world(store):
    with store.transaction() as tx:
        own = tx.chats.ensure("demo", "D1")
        other = tx.chats.ensure("demo", "D2")
        channel = tx.chats.ensure("demo", "C1", kind="group", title="news")
        tx.chats.ensure("elsewhere", "C9", kind="group")  # another platform's
        source = tx.sources.ensure("https://harbour.example/feed", title="Harbour Gazette")
        tx.sources.follow(channel.id, source.id)
        tx.sources.follow(own.id, source.id)
        tx.sources.set_paused(own.id, source.id, True)
        tx.chats.subscribe(own.id, "storm", "storm")
        tx.chats.subscribe(other.id, "secret", "secret")
        tx.chats.set_schedule(own.id, local_time="07:30", timezone="Europe/Berlin",
                              next_run_at=NOW + timedelta(hours=1), thread_id=None, covered_until=None)
    return own, other, channel


async def test_a_person_sees_their_own_chat_only(home, world):
    overview = await home.overview(OWN, with_shared=False)
    (own,) = overview.chats
    assert (own.chat, own.kind, own.digest, own.alerts) == (OWN, "private", "07:30 Europe/Berlin", ("storm",))
    assert [(f.position, f.name, f.paused) for f in own.feeds] == [(1, "Harbour Gazette", True)]
    assert [[b.label for b in row] for row in own.feed_buttons] == [["Resume 1", "Remove 1"]]
    assert [[b.label for b in row] for row in own.alert_buttons] == [["Stop 1"]]


async def test_an_admin_also_sees_the_shared_chats_of_the_platform_and_their_buttons_work(home, world, store):
    overview = await home.overview(OWN, with_shared=True)
    assert [managed.chat for managed in overview.chats] == [OWN, CHANNEL]  # not D2, not the other platform's
    channel = overview.chats[1]
    assert (channel.title, channel.alerts, channel.digest) == ("news", (), None)
    pause = channel.feed_buttons[0][0]
    result = await ActionService(store=store, clock=lambda: NOW).press(CHANNEL, pause.token, chat_kind="group",
                                                                       presser_is_admin=admin)
    assert result.toast.startswith("Paused Harbour Gazette") and result.changed


async def test_a_first_visit_shows_an_empty_own_chat_and_creates_nothing(home, store):
    overview = await home.overview(ChatRef("demo", "D7"), with_shared=True)
    assert [(m.chat.chat_id, m.feeds, m.alerts, m.feed_buttons) for m in overview.chats] == [("D7", (), (), ())]
    with store.transaction() as tx:
        assert tx.chats.find("demo", "D7") is None


async def test_shared_chats_beyond_the_limit_are_counted(home, store):
    with store.transaction() as tx:
        for n in range(MAX_SHARED_CHATS + 3):
            tx.chats.ensure("demo", f"C{100 + n}", kind="group")
    overview = await home.overview(OWN, with_shared=True)
    assert (len(overview.chats), overview.more) == (1 + MAX_SHARED_CHATS, 3)


async def test_adding_an_alert_follows_the_commands_rule_and_words(home, world, store):
    refused = await home.add_alert(CHANNEL, "markets", kind="group", may_change=not_admin)
    bad = await home.add_alert(OWN, "-sports", kind="private", may_change=never_asked)
    again = await home.add_alert(OWN, "storm", kind="private", may_change=never_asked)
    added = await home.add_alert(CHANNEL, "markets", kind="group", may_change=admin)
    new_chat = await home.add_alert(ChatRef("demo", "D8"), "rain", kind="private", may_change=never_asked)
    full = [await home.add_alert(OWN, words, kind="private", may_change=never_asked) for words in ("a", "b")]
    assert (refused.ok, refused.text) == (False, NOT_ADMIN)
    assert not bad.ok and "only excludes" in bad.text
    assert (again.ok, again.text) == (False, "This chat already has an alert for storm.")
    assert added.ok and added.text.startswith("Alert set for markets")
    assert new_chat.ok
    assert [f.ok for f in full] == [True, False] and "the most a chat can have (2)" in full[1].text
    with store.transaction() as tx:
        assert [s.display for s in tx.chats.subscriptions(tx.chats.find("demo", "C1").id)] == ["markets"]
        assert tx.chats.find("demo", "D8").kind == "private"
