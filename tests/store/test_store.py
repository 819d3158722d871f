"""The store on a real SQLite file and the real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect

from bot.store.articles import NewArticle
from bot.store.store import Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_migrations_create_every_table_and_are_idempotent(database_url):
    first = Store.open(database_url)
    second = Store.open(database_url)  # a second process starting on the same database
    tables = set(inspect(second.engine).get_table_names())
    first.close(), second.close()
    assert {"sources", "articles", "article_sources", "briefs", "chats", "chat_sources", "subscriptions",
            "digest_schedules", "deliveries", "alembic_version"} <= tables


def test_chat_is_created_once_and_reactivated(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "-100", kind="group", title="Newsroom")
        tx.chats.deactivate(chat.id, "Forbidden: bot was kicked")
    with store.transaction() as tx:
        again = tx.chats.ensure("telegram", "-100", kind="group")
        assert again.id == chat.id and again.active and again.deactivated_reason is None
        assert again.title == "Newsroom"


def test_duplicate_article_from_a_second_feed_is_one_article_with_two_links(store):
    with store.transaction() as tx:
        one = tx.sources.ensure("https://a.example/feed")
        two = tx.sources.ensure("https://b.example/rss")
        first, created = tx.articles.add(NewArticle(fingerprint="f1", text="Body", url="https://x.example/s"),
                                         source_id=one.id, guid="a-1")
        second, created_again = tx.articles.add(NewArticle(fingerprint="f1", text="Body", url=None),
                                                source_id=two.id, guid="b-7")
    assert created and not created_again and first == second
    with store.transaction() as tx:
        assert sorted(tx.articles.source_ids(first)) == sorted([one.id, two.id])
        assert tx.articles.known_guids(one.id, ["a-1", "a-2"]) == {"a-1"}


def test_brief_is_saved_once_and_shown_to_followers_only(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("slack", "C1")
        other = tx.chats.ensure("slack", "C2")
        source = tx.sources.ensure("https://a.example/feed", title="A News")
        assert tx.sources.follow(chat.id, source.id)
        assert not tx.sources.follow(chat.id, source.id)
        article_id, _ = tx.articles.add(NewArticle(fingerprint="f", text="t", url="https://a.example/1",
                                                   title="Title"), source_id=source.id, guid="1")
        assert [a.id for a in tx.articles.pending(10)] == [article_id]
        assert tx.articles.save_brief(article_id, headline="H", points=["p1", "p2"], backend="lead")
        assert tx.articles.save_brief(article_id, headline="H2", points=["x"], backend="lead") is None
    with store.transaction() as tx:
        assert tx.articles.pending(10) == []
        [brief] = tx.articles.briefs_for_chat(chat.id)
        assert (brief.headline, brief.points, brief.source_titles) == ("H", ["p1", "p2"], ("A News",))
        assert tx.articles.briefs_for_chat(other.id) == []


def test_due_sources_are_claimed_once_and_failures_back_off(store):
    interval = timedelta(minutes=15)
    with store.transaction() as tx:
        chat = tx.chats.ensure("console", "local")
        followed = tx.sources.ensure("https://a.example/feed", now=NOW)
        tx.sources.ensure("https://nobody.example/feed", now=NOW)  # followed by no chat: never polled
        tx.sources.follow(chat.id, followed.id)
    with store.transaction() as tx:
        due = tx.sources.claim_due(NOW + timedelta(days=1), limit=10, lease=timedelta(minutes=5))
        assert [s.url for s in due] == ["https://a.example/feed"]
    with store.transaction() as tx:
        assert tx.sources.claim_due(NOW + timedelta(days=1), limit=10, lease=timedelta(minutes=5)) == []
        tx.sources.record_failure(followed.id, now=NOW, interval=interval, reason="http_500", message="500")
        tx.sources.record_failure(followed.id, now=NOW, interval=interval, reason="http_500", message="500")
    with store.transaction() as tx:
        source = tx.sources.get(followed.id)
        assert source.consecutive_failures == 2 and source.last_error_reason == "http_500"
        assert source.next_poll_at == NOW + interval * 4
        tx.sources.record_success(followed.id, now=NOW, interval=interval, etag='"v1"', last_modified=None)
    with store.transaction() as tx:
        source = tx.sources.get(followed.id)
        assert (source.consecutive_failures, source.last_error, source.etag) == (0, None, '"v1"')


def test_subscriptions_and_schedules(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "42")
        assert tx.chats.subscribe(chat.id, "north korea", '"North Korea"')
        assert not tx.chats.subscribe(chat.id, "north korea", "north korea")
        assert tx.chats.subscribe(chat.id, "climate -sports", "climate -sports", thread_id="7")
        tx.chats.set_schedule(chat.id, local_time="08:00", timezone="Europe/Berlin", next_run_at=NOW,
                              thread_id=None, covered_until=None)
    with store.transaction() as tx:
        assert [s.display for s in tx.chats.subscriptions(chat.id)] == ['"North Korea"', "climate -sports"]
        assert tx.chats.unsubscribe(chat.id, "north korea") == 1
        assert tx.chats.unsubscribe(chat.id, None) == 1
        assert tx.chats.schedule(chat.id).timezone == "Europe/Berlin"
        assert tx.chats.clear_schedule(chat.id)
        assert tx.chats.schedules() == []


def test_outbox_enqueue_is_idempotent_and_claims_are_exclusive(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "42")
        assert tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key="alert:1:9", payload={"kind": "alert"},
                                 now=NOW)
        assert not tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key="alert:1:9",
                                     payload={"kind": "alert"}, now=NOW)
    lease = timedelta(seconds=30)
    with store.transaction() as tx:
        [claimed] = tx.outbox.claim(worker="w1", now=NOW, lease=lease, limit=10)
        assert (claimed.platform, claimed.chat_key, claimed.payload) == ("telegram", "42", {"kind": "alert"})
    with store.transaction() as tx:
        assert tx.outbox.claim(worker="w2", now=NOW, lease=lease, limit=10) == []
        # w1 crashed before sending: once its lease runs out another worker takes the row.
        [taken] = tx.outbox.claim(worker="w2", now=NOW + 2 * lease, lease=lease, limit=10)
        assert not tx.outbox.mark_sending(taken.id, worker="w1")
        assert tx.outbox.mark_sending(taken.id, worker="w2")
    with store.transaction() as tx:
        # A crash while sending: the row is not resent blindly, it becomes unknown.
        assert tx.outbox.recover_interrupted(now=NOW + 10 * lease) == {"telegram": 1}
        assert tx.outbox.counts() == {"unknown": 1}
        assert tx.outbox.depth() == 0


def test_naive_datetimes_are_refused(store):
    with pytest.raises(Exception, match="naive"):
        with store.transaction() as tx:
            chat = tx.chats.ensure("telegram", "1")
            tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key="k", payload={},
                              now=datetime(2026, 1, 1))


def test_the_migrated_schema_is_the_schema_the_models_describe(database_url):
    """A column or index added to tables.py without a migration would differ here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.tables import Base

    opened = Store.open(database_url)
    try:
        with opened.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                           Base.metadata)
            if opened.dialect == "sqlite":
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        opened.close()
    assert differences == []
