"""Digests: grouping, ranking, empty days, and one digest per chat and day, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from bot.domain.digest import DigestBrief, digest_message, group_stories
from bot.domain.models import Message
from bot.services.digests import DigestService
from bot.store.articles import NewArticle
from bot.store.tables import Delivery

DUE = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
GRACE = timedelta(hours=3)


@pytest.fixture(scope="module")
def embed():
    from summarizer import get_summarizer

    return get_summarizer().embed


def add_story(store, feed: str, headline: str, points: list[str], url: str, at: datetime) -> None:
    with store.transaction() as tx:
        source = tx.sources.ensure(feed, title=feed.split("//")[1].split("/")[0], now=at)
        article_id, _ = tx.articles.add(NewArticle(fingerprint=url, text=headline, url=url, title=headline),
                                        source_id=source.id, guid=url, now=at)
        tx.articles.save_brief(article_id, headline=headline, points=points, backend="lead", now=at)


def chat_with_schedule(store, *feeds: str, empty: str = "skip", covered_until: datetime | None = None) -> int:
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "42", timezone="Europe/Berlin")
        tx.chats.set_empty_digest(chat.id, empty)
        for feed in feeds:
            tx.sources.follow(chat.id, tx.sources.ensure(feed).id)
        tx.chats.set_schedule(chat.id, local_time="07:30", timezone="Europe/Berlin", thread_id=None,
                              next_run_at=DUE, covered_until=covered_until or DUE - timedelta(days=1))
        return chat.id


def digests(store) -> list[tuple[str, Message]]:
    with store.transaction() as tx:
        rows = tx.session.scalars(select(Delivery).where(Delivery.kind == "digest").order_by(Delivery.id))
        return [(row.dedupe_key, Message.from_dict(row.payload)) for row in rows]


def test_a_story_told_by_several_feeds_is_one_entry_and_ranks_first(store, embed):
    chat_id = chat_with_schedule(store, "https://a.example/feed", "https://b.example/rss", "https://c.example/atom")
    evening = DUE - timedelta(hours=10)
    add_story(store, "https://a.example/feed", "ECB cuts interest rates by a quarter point",
              ["The ECB lowered its deposit rate to 2.5% on Thursday, citing slowing inflation."],
              "https://a.example/ecb", evening)
    add_story(store, "https://b.example/rss", "Local bakery wins national bread award",
              ["The bakery in Kiel was named the best in Germany."], "https://b.example/bread", evening + timedelta(hours=2))
    add_story(store, "https://c.example/atom", "ECB cuts its deposit rate to 2.5% as inflation slows",  # a wire copy
              ["The ECB lowered its deposit rate to 2.5% on Thursday, citing slowing inflation in the euro zone."],
              "https://c.example/rates",
              evening + timedelta(hours=1))
    add_story(store, "https://a.example/feed", "Old news before the last digest", ["Already covered."],
              "https://a.example/old", DUE - timedelta(days=2))
    service = DigestService(store=store, embed=embed)
    run = service.run_due(chat_id, DUE + timedelta(minutes=1), grace=GRACE)
    assert run.outcome == "sent" and run.next_run_at == DUE + timedelta(days=1)
    [(key, message)] = digests(store)
    assert key == f"digest:{chat_id}:2026-03-03"
    assert message.heading == "Your digest for Tuesday 3 March 2026"
    assert [item.headline for item in message.items] == ["ECB cuts interest rates by a quarter point",
                                                         "Local bakery wins national bread award"]
    assert [link.url for link in message.items[0].links] == ["https://a.example/ecb", "https://c.example/rates"]
    with store.transaction() as tx:
        schedule = tx.chats.schedule(chat_id)
        assert schedule.covered_until == DUE + timedelta(minutes=1) and schedule.next_run_at == run.next_run_at


def test_the_digest_command_composes_without_moving_the_schedule(store, embed):
    chat_id = chat_with_schedule(store, "https://a.example/feed")
    add_story(store, "https://a.example/feed", "Storm closes the harbour", ["Ferries are cancelled."],
              "https://a.example/storm", DUE - timedelta(hours=2))
    service = DigestService(store=store, embed=embed)
    message = service.compose(chat_id, DUE - timedelta(hours=1))
    assert [item.headline for item in message.items] == ["Storm closes the harbour"]
    assert digests(store) == []
    with store.transaction() as tx:
        assert tx.chats.schedule(chat_id).next_run_at == DUE
    # 14 minutes later: nothing new, and the story the chat got is not told again, unless asked for.
    quiet = service.compose(chat_id, DUE - timedelta(minutes=46))
    assert quiet.items == [] and quiet.text == "No new stories since 06:30 today."
    recap = service.compose(chat_id, DUE - timedelta(minutes=45), recap=True)
    assert [item.headline for item in recap.items] == ["Storm closes the harbour"]
    assert recap.text == ("Recap of every story in the last 24 hours (since 06:45 yesterday), "
                          "those already sent included.")
    # Nor does the scheduled digest repeat what /digest showed.
    assert service.run_due(chat_id, DUE, grace=GRACE).outcome == "empty" and digests(store) == []


def test_the_first_digest_covers_the_day_before_it(store, embed):
    # A schedule set a minute before its time must not send a digest of that one minute.
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "42", timezone="Europe/Berlin")
        tx.chats.set_empty_digest(chat.id, "say")
        tx.sources.follow(chat.id, tx.sources.ensure("https://a.example/feed").id)
        tx.chats.set_schedule(chat.id, local_time="07:30", timezone="Europe/Berlin", thread_id=None,
                              next_run_at=DUE, covered_until=None)
        chat_id = chat.id
    add_story(store, "https://a.example/feed", "Storm closes the harbour", ["Ferries are cancelled."],
              "https://a.example/storm", DUE - timedelta(hours=20))
    add_story(store, "https://a.example/feed", "Older than a day", ["Not in the first digest."],
              "https://a.example/old", DUE - timedelta(hours=30))
    service = DigestService(store=store, embed=embed)
    assert [item.headline for item in service.compose(chat_id, DUE - timedelta(minutes=1), recap=True).items] == [
        "Storm closes the harbour"]
    assert service.run_due(chat_id, DUE, grace=GRACE).outcome == "sent"
    [(_, message)] = digests(store)
    assert [item.headline for item in message.items] == ["Storm closes the harbour"]
    assert message.text == "New in the last 24 hours (since 07:30 yesterday):"
    quiet = service.compose(chat_id, DUE + timedelta(hours=1))  # now a digest came before
    assert quiet.text == "No new stories since 07:30 today."


def test_an_empty_first_digest_says_it_looked_at_the_last_day(store, embed):
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "42", timezone="Europe/Berlin")
        tx.chats.set_schedule(chat.id, local_time="07:30", timezone="Europe/Berlin", thread_id=None,
                              next_run_at=DUE, covered_until=None)
        chat_id = chat.id
    assert DigestService(store=store, embed=embed).compose(chat_id, DUE).text == (
        "No new stories in the last 24 hours (since 07:30 yesterday).")


@pytest.mark.parametrize("empty", ["skip", "say"])
def test_an_empty_day_sends_nothing_or_says_so(store, embed, empty):
    chat_id = chat_with_schedule(store, "https://a.example/feed", empty=empty)
    run = DigestService(store=store, embed=embed).run_due(chat_id, DUE, grace=GRACE)
    sent = digests(store)
    if empty == "skip":
        assert run.outcome == "empty" and sent == []
    else:
        assert run.outcome == "sent" and [m.text for _, m in sent] == ["No new stories since 07:30 yesterday."]
    with store.transaction() as tx:
        assert tx.chats.schedule(chat_id).next_run_at == DUE + timedelta(days=1)


def test_never_two_digests_for_one_chat_and_day(store, embed):
    chat_id = chat_with_schedule(store, "https://a.example/feed", empty="say")
    service = DigestService(store=store, embed=embed)
    assert service.run_due(chat_id, DUE, grace=GRACE).outcome == "sent"
    assert service.run_due(chat_id, DUE, grace=GRACE).outcome == "not_due"  # a second scheduler, same moment
    # /schedule moves the time later the same day: that day's digest went already.
    later = DUE + timedelta(hours=2)
    with store.transaction() as tx:
        tx.chats.set_schedule(chat_id, local_time="09:30", timezone="Europe/Berlin", thread_id=None,
                              next_run_at=later, covered_until=DUE)
    run = service.run_due(chat_id, later, grace=GRACE)
    assert run.outcome == "duplicate" and run.next_run_at == later + timedelta(days=1)
    assert [key for key, _ in digests(store)] == [f"digest:{chat_id}:2026-03-03"]


def test_ranking_and_truncation_without_a_model():
    at = datetime(2026, 3, 3, tzinfo=UTC)
    briefs = [DigestBrief(1, "Lone story", ["p"], "https://x.example/1", at + timedelta(hours=5), ("X",)),
              DigestBrief(2, "Big story", ["p"], "https://x.example/2", at, ("X",)),
              DigestBrief(3, "Big story again", ["p"], "https://y.example/3", at + timedelta(hours=1), ("Y",)),
              DigestBrief(4, "Newer lone story", ["p"], "https://z.example/4", at + timedelta(hours=6), ("Z",))]
    vectors = np.array([[1, 0, 0], [0, 1, 0], [0, 0.96, 0.28], [0, 0, 1]], dtype=float)
    stories = group_stories(briefs, vectors, threshold=0.9)
    assert [[b.brief_id for b in s.briefs] for s in stories] == [[2, 3], [4], [1]]
    message = digest_message(stories, heading="Digest", max_items=2, say_when_empty=False, period="since 07:30 today")
    assert [item.headline for item in message.items] == ["Big story", "Newer lone story"]
    assert message.footer == "1 more story not shown; /summary lists the latest."
    assert digest_message([], heading="Digest", max_items=2, say_when_empty=False, period="since 07:30") is None
    with pytest.raises(ValueError):
        group_stories(briefs, vectors[:2])



def test_a_later_copy_of_a_story_already_sent_is_not_told_again(store, embed):
    chat_id = chat_with_schedule(store, "https://a.example/feed", "https://c.example/atom")
    add_story(store, "https://a.example/feed", "ECB cuts interest rates by a quarter point",
              ["The ECB lowered its deposit rate to 2.5% on Thursday, citing slowing inflation."],
              "https://a.example/ecb", DUE - timedelta(hours=3))
    service = DigestService(store=store, embed=embed)
    assert [item.headline for item in service.compose(chat_id, DUE - timedelta(hours=2)).items] == [
        "ECB cuts interest rates by a quarter point"]
    # An hour later another feed carries the same event, and a different story arrives.
    add_story(store, "https://c.example/atom", "ECB cuts its deposit rate to 2.5% as inflation slows",
              ["The ECB lowered its deposit rate to 2.5% on Thursday, citing slowing inflation in the euro zone."],
              "https://c.example/rates", DUE - timedelta(hours=1))
    add_story(store, "https://a.example/feed", "Storm closes the harbour", ["Ferries are cancelled."],
              "https://a.example/storm", DUE - timedelta(minutes=50))
    later = service.compose(chat_id, DUE - timedelta(minutes=30))
    assert [item.headline for item in later.items] == ["Storm closes the harbour"]
    assert later.text == "New since 05:30 today:"  # Berlin time of the last digest


def test_the_digests_embeddings_come_from_the_summarizer_on_its_one_thread(store):
    from summarizer import Summarizer

    from bot.services.briefs import BriefMaker

    threads: list[str] = []

    class Watched(Summarizer):
        def embed(self, texts):
            threads.append(threading.current_thread().name)
            return super().embed(texts)

    briefs = BriefMaker(Watched())
    try:
        chat_id = chat_with_schedule(store, "https://a.example/feed")
        add_story(store, "https://a.example/feed", "Ferry goes electric", ["The ferry runs on batteries."],
                  "https://a.example/1", DUE - timedelta(hours=2))
        DigestService(store=store, embed=briefs.embed).compose(chat_id, DUE)
    finally:
        briefs.close()
    assert len(threads) == 1 and threads[0].startswith("summarizer")
