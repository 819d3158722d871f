"""Button tokens and paused feeds in the store, on a real SQLite file and the real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import select, text

from bot.store.actions import ACTION_TTL, ActionSpec
from bot.store.articles import NewArticle
from bot.store.db import alembic_config, make_engine
from bot.store.store import Store
from bot.store.tables import Action

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_token_is_short_random_and_resolves_to_its_chat_kind_target_and_args(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "42")
        specs = [ActionSpec("feed_pause", 7), ActionSpec("schedule_set", args={"time": "07:00"})]
        tokens = tx.actions.mint(chat.id, specs, now=NOW)
    assert len(set(tokens)) == 2
    assert all(t.startswith("a:") and len(t.encode()) <= 16 for t in tokens)  # Telegram allows 64 bytes
    with store.transaction() as tx:
        pause, schedule = (tx.actions.resolve(t, now=NOW + timedelta(days=1)) for t in tokens)
        assert (pause.chat_pk, pause.kind, pause.target_id, pause.args) == (chat.id, "feed_pause", 7, {})
        assert (schedule.kind, schedule.target_id, schedule.args) == ("schedule_set", None, {"time": "07:00"})
        assert tx.actions.resolve("a:nosuchtoken", now=NOW) is None


def test_tokens_expire_and_are_pruned_by_the_next_mint_for_their_chat_or_by_prune(store):
    later = NOW + ACTION_TTL + timedelta(seconds=1)
    with store.transaction() as tx:
        one, two = tx.chats.ensure("telegram", "1"), tx.chats.ensure("telegram", "2")
        [old_one] = tx.actions.mint(one.id, [ActionSpec("feed_pause", 1)], now=NOW)
        [old_two] = tx.actions.mint(two.id, [ActionSpec("feed_pause", 1)], now=NOW)
    with store.transaction() as tx:
        assert tx.actions.resolve(old_one, now=NOW + ACTION_TTL - timedelta(seconds=1)) is not None
        assert tx.actions.resolve(old_one, now=later) is None
        [fresh] = tx.actions.mint(one.id, [ActionSpec("feed_remove", 1)], now=later)
    with store.transaction() as tx:
        assert set(tx.session.scalars(select(Action.token))) == {old_two, fresh}  # only chat one's expired one went
        assert tx.actions.prune(now=later) == 1
        assert list(tx.session.scalars(select(Action.token))) == [fresh]


def test_a_paused_feed_is_neither_polled_for_that_chat_nor_in_its_briefs(store):
    with store.transaction() as tx:
        chat, other = tx.chats.ensure("slack", "C1"), tx.chats.ensure("slack", "C2")
        shared = tx.sources.ensure("https://a.example/feed", title="A", now=NOW)
        own = tx.sources.ensure("https://b.example/feed", title="B", now=NOW)
        for source in (shared, own):
            tx.sources.follow(chat.id, source.id)
        tx.sources.follow(other.id, shared.id)
        for source, n in ((shared, 1), (own, 2)):
            article, _ = tx.articles.add(NewArticle(fingerprint=f"f{n}", text="t", url=f"https://x.example/{n}"),
                                         source_id=source.id, guid=str(n))
            tx.articles.save_brief(article, headline=f"H{n}", points=["p"], backend="lead")
    with store.transaction() as tx:
        assert tx.sources.set_paused(chat.id, own.id, True)
        assert not tx.sources.set_paused(chat.id, own.id, True)  # already paused: the UPDATE finds nothing
        assert tx.sources.set_paused(chat.id, shared.id, True)
        assert not tx.sources.set_paused(other.id, own.id, True)  # not followed there
    with store.transaction() as tx:
        assert [(f.source.title, f.paused) for f in tx.sources.followed_by(chat.id)] == [("A", True), ("B", True)]
        assert tx.articles.briefs_for_chat(chat.id) == []
        assert [b.headline for b in tx.articles.briefs_for_chat(other.id)] == ["H1"]
        due = tx.sources.claim_due(NOW + timedelta(days=1), limit=10, lease=timedelta(minutes=5))
        assert [s.url for s in due] == ["https://a.example/feed"]  # B's only follower paused it; A is still followed elsewhere
    with store.transaction() as tx:
        assert tx.sources.set_paused(chat.id, own.id, False) and not tx.sources.set_paused(chat.id, own.id, False)
        assert [b.headline for b in tx.articles.briefs_for_chat(chat.id)] == ["H2"]


def test_the_migration_keeps_existing_follows_running(database_url):
    engine = make_engine(database_url)
    config = alembic_config(engine)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0004")
            conn.execute(text("INSERT INTO chats (id, platform, chat_key, kind, timezone, empty_digest, active, "
                              "created_at) VALUES (1, 'telegram', '42', 'private', 'UTC', 'skip', true, :now)"),
                         {"now": NOW})
            conn.execute(text("INSERT INTO sources (id, url, created_at, next_poll_at, consecutive_failures, seeded) "
                              "VALUES (1, 'https://a.example/feed', :now, :now, 0, false)"), {"now": NOW})
            conn.execute(text("INSERT INTO chat_sources (id, chat_id, source_id, created_at) VALUES (1, 1, 1, :now)"),
                         {"now": NOW})
            command.upgrade(config, "head")
        store = Store(engine)
        with store.transaction() as tx:
            assert [f.paused for f in tx.sources.followed_by(1)] == [False]
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0004")
            assert "paused" not in {c for c in conn.execute(text("SELECT * FROM chat_sources")).keys()}
    finally:
        engine.dispose()
