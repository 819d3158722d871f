"""Keyword alerts on a real SQLite file and the real PostgreSQL server."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain.matching import parse_query
from bot.domain.models import Message
from bot.services.alerts import AlertService, searchable_text
from bot.store.articles import NewArticle, StoredBrief
from bot.store.store import Store
from bot.store.tables import Delivery
from tests.support.databases import sqlite_url

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def sqlite_store(tmp_path):
    """For tests about matching rather than the database."""
    opened = Store.open(sqlite_url(tmp_path))
    yield opened
    opened.close()


def add_brief(tx, headline: str, points: list[str] | None = None, *, feeds: tuple[str, ...] = ("https://a.example/feed",),
              url: str | None = None) -> StoredBrief:
    url = url or f"https://news.example/{abs(hash(headline))}"
    article_id = None
    for number, feed in enumerate(feeds):
        source = tx.sources.ensure(feed, title=f"Feed {number}")
        article_id, _ = tx.articles.add(NewArticle(fingerprint=url[-60:], text=headline, url=url, title=headline),
                                        source_id=source.id, guid=f"{feed}#{url}")
    assert tx.articles.save_brief(article_id, headline=headline, points=points or [headline], backend="lead")
    return tx.articles.brief_for_article(article_id)


def chat_with(tx, key: str, *queries: str, thread_id: str | None = None):
    chat = tx.chats.ensure("telegram", key)
    for text in queries:
        query = parse_query(text)
        tx.chats.subscribe(chat.id, query.normalized, query.display, thread_id)
    return chat


def queued(tx) -> list[Delivery]:
    return list(tx.session.scalars(select(Delivery).order_by(Delivery.id)))


def test_each_matching_chat_is_alerted_once_per_story(store):
    service = AlertService(store=store, alerts_per_hour=10)
    with store.transaction() as tx:
        a = chat_with(tx, "1", "climate", "summit")  # two subscriptions match the same story
        b = chat_with(tx, "2", '"North Korea" missile', thread_id="7")
        c = chat_with(tx, "3", "climate -sports")
        gone = chat_with(tx, "4", "climate")
        tx.chats.deactivate(gone.id, "blocked")
        umlaut = chat_with(tx, "5", "Zürich")
        summit = add_brief(tx, "Climate summit opens in Bonn", feeds=("https://a.example/feed", "https://b.example/rss"))
        missile = add_brief(tx, "North Korea fires a missile", ["The missile fell into the sea."])
        sports = add_brief(tx, "Sports: a climate of fear in the league")
        party = add_brief(tx, "Art party in Zurich", ["Zürich's galleries open late."])
        assert service.on_new_briefs(tx, [summit, missile, sports, party], NOW) == 5
    with store.transaction() as tx:
        rows = {(d.chat_id, d.dedupe_key): d for d in queued(tx)}
        assert set(rows) == {(a.id, f"alert:{a.id}:{summit.brief_id}"), (a.id, f"alert:{a.id}:{sports.brief_id}"),
                             (b.id, f"alert:{b.id}:{missile.brief_id}"), (c.id, f"alert:{c.id}:{summit.brief_id}"),
                             (umlaut.id, f"alert:{umlaut.id}:{party.brief_id}")}
        missile_alert = Message.from_dict(rows[(b.id, f"alert:{b.id}:{missile.brief_id}")].payload)
        assert missile_alert.heading == 'Alert: "North Korea" missile'
        assert missile_alert.items[0].headline == "North Korea fires a missile"
        assert missile_alert.items[0].links[0].url == missile.url
        assert rows[(b.id, f"alert:{b.id}:{missile.brief_id}")].thread_id == "7"
        # Running the same batch again (a retried ingest) queues nothing.
        assert service.on_new_briefs(tx, [summit, missile, sports, party], NOW) == 0


def test_a_flood_is_folded_into_one_message_and_nothing_is_dropped(store):
    service = AlertService(store=store, alerts_per_hour=3)
    with store.transaction() as tx:
        chat = chat_with(tx, "1", "election")
        first = [add_brief(tx, f"Election news {n}", url=f"https://e.example/{n}") for n in range(5)]
        assert service.on_new_briefs(tx, first, NOW) == 4  # three alerts and one fold
    with store.transaction() as tx:
        later = [add_brief(tx, f"Election update {n}", url=f"https://e.example/u{n}") for n in range(2)]
        assert service.on_new_briefs(tx, later, NOW + timedelta(minutes=20)) == 1  # still within the hour
        after_an_hour = [add_brief(tx, "Election result", url="https://e.example/result")]
        assert service.on_new_briefs(tx, after_an_hour, NOW + timedelta(minutes=61)) == 1
        assert service.on_new_briefs(tx, first + later + after_an_hour, NOW + timedelta(minutes=62)) == 0
    with store.transaction() as tx:
        messages = [(d.dedupe_key, Message.from_dict(d.payload)) for d in queued(tx)]
    keys = [key for key, _ in messages]
    ids = [b.brief_id for b in first + later + after_an_hour]
    assert keys == [f"alert:{chat.id}:{ids[0]}", f"alert:{chat.id}:{ids[1]}", f"alert:{chat.id}:{ids[2]}",
                    f"alert-fold:{chat.id}:{ids[3]}", f"alert-fold:{chat.id}:{ids[5]}", f"alert:{chat.id}:{ids[7]}"]
    fold = messages[3][1]
    assert fold.heading == "2 more stories matched your alerts"
    assert [item.links[0].url for item in fold.items] == ["https://e.example/3", "https://e.example/4"]
    assert "at most 3 single alerts an hour" in fold.footer
    shown = [item.brief_id for _, message in messages for item in message.items]
    assert sorted(shown) == sorted(ids)  # every story exactly once, alone or folded


def test_alerts_are_queued_in_the_transaction_that_saved_the_briefs(store):
    service = AlertService(store=store)
    with store.transaction() as tx:
        chat_with(tx, "1", "storm")
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            brief = add_brief(tx, "Storm hits the coast")
            assert service.on_new_briefs(tx, [brief], NOW) == 1
            raise RuntimeError("the ingest transaction fails after saving")
    with store.transaction() as tx:
        assert queued(tx) == [] and tx.articles.recent_briefs() == []


def test_subscriptions_are_compiled_once_and_again_only_after_a_change(store):
    service = AlertService(store=store)
    with store.transaction() as tx:
        chat = chat_with(tx, "1", "storm")
    service.prepare()  # at start, outside any ingest transaction
    with store.transaction() as tx:
        compiled = service.index(tx)
        assert len(compiled) == 1 and service.index(tx) is compiled
        tx.chats.subscribe(chat.id, "flood", "flood")
        recompiled = service.index(tx)
        assert recompiled is not compiled and len(recompiled) == 2
        tx.chats.unsubscribe(chat.id, "storm")
        assert len(service.index(tx)) == 1
        brief = add_brief(tx, "Storm and flood warnings")
        assert service.on_new_briefs(tx, [brief], NOW) == 1


def test_matching_many_subscriptions_agrees_with_each_query_alone(sqlite_store):
    store = sqlite_store
    words = ["storm", "flood", "election", "bank", "rates", "vaccine", "rocket", "strike", "drought", "tariff",
             "summit", "court", "merger", "wildfire", "quake", "ceasefire", "budget", "oil", "chip", "Zürich"]
    rng = random.Random(7)
    texts = []
    for _ in range(200):
        picked = rng.sample(words, 4)
        texts.append(" ".join(picked[:3]) + (f" -{picked[3]}" if rng.random() < 0.3 else ""))
    service = AlertService(store=store)
    with store.transaction() as tx:
        for number, text in enumerate(texts):
            chat_with(tx, f"c{number}", text)
        briefs = [add_brief(tx, " ".join(rng.sample(words, 6)), url=f"https://m.example/{n}") for n in range(40)]
        per_chat = service.match(tx, briefs)
        expected = {}
        for subscription in tx.chats.all_subscriptions():
            query = parse_query(subscription.query)
            hits = [b.brief_id for b in briefs if query.matches(searchable_text(b))]
            if hits:
                expected[subscription.chat_pk] = hits
    assert {chat: [m.brief.brief_id for m in found] for chat, found in per_chat.items()} == expected
    assert expected  # the sample does match something
