"""One chat must not starve the others: quotas on alerts, feeds, OPML entries and pending commands, and a
database locked by another process answered with "busy" within a bounded wait, all through the real
CommandService on a real store, while a ticker on the event loop measures how long it was held."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import timedelta

import pytest

from bot.domain.models import ChatRef
from bot.services.briefs import BriefMaker
from bot.services.chat_io import Attachment, Incoming
from bot.services.commands import CommandService
from bot.services.feeds import FeedService
from bot.services.ingest import Ingestor
from bot.services.pages import PageService
from bot.sources.fetcher import SafeFetcher
from bot.sources.opml import OpmlFeed, to_opml
from bot.store.store import Store
from bot.runtime.watchdog import waited_for_cpu_s
from summarizer import SummarizerConfig, get_summarizer
from tests.support.databases import sqlite_url

pytestmark = pytest.mark.hostile
MAX_LOOP_HOLD_S = 0.2  # the bound: no single hostile input holds the loop longer


class LoopTicker:
    """The longest the bot's own work held the event loop from running this ticker (as the watchdog counts it)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LoopTicker:
        async def tick() -> None:
            while True:
                before, waited = time.monotonic(), waited_for_cpu_s()
                await asyncio.sleep(0.01)
                # Time the loop's thread stood ready but without a CPU (a busy host) is not the bot's doing.
                held = time.monotonic() - before - 0.01 - (waited_for_cpu_s() - waited)
                self.worst = max(self.worst, held)

        self._task = asyncio.create_task(tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.sleep(0.05)  # a tick held back by a blocked loop records how late it woke
        self._task.cancel()


def build(store: Store, **limits) -> CommandService:
    fetcher = SafeFetcher(timeout_s=5, allow_private=True)
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15), new_feed_items=2)
    feeds = FeedService(store=store, fetcher=fetcher, ingestor=ingestor,
                        **{k: limits.pop(k) for k in ("max_feeds_per_chat", "max_opml_entries") if k in limits})
    pages = PageService(store=store, fetcher=fetcher, briefs=briefs, max_chars=600)
    return CommandService(store=store, briefs=briefs, feeds=feeds, pages=pages, digests=None, **limits)


def command(text: str, chat: str = "1", *, attachment=None) -> Incoming:
    name, _, args = text.lstrip("/").partition(" ")
    return Incoming(chat=ChatRef("telegram", chat), command=name, args=args, chat_kind="private",
                    attachment=attachment)


def text_of(messages) -> str:
    return "\n".join(m.text or "" for m in messages)


def opml_of(count: int) -> bytes:
    return to_opml([OpmlFeed(url=f"https://feeds{n}.example/rss", title=f"Feed {n}") for n in range(count)])


@pytest.fixture
def sqlite_store(tmp_path):
    opened = Store.open(sqlite_url(tmp_path))
    yield opened
    opened.close()


class WriteLock:
    """Another process's connection holding the SQLite file's write lock (as `sqlite3 .backup` or a
    long migration would)."""

    def __init__(self, store: Store) -> None:
        self.connection = sqlite3.connect(store.engine.url.database, isolation_level=None)

    def __enter__(self) -> WriteLock:
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


async def test_a_chat_has_at_most_100_alerts_by_default_and_the_refusal_says_so(store):
    commands = build(store)
    for n in range(100):
        assert "Alert set for" in text_of(await commands.handle(command(f"/subscribe topic{n}")))
    refused = text_of(await commands.handle(command("/subscribe one more")))
    elsewhere = text_of(await commands.handle(command("/subscribe one more", chat="2")))
    assert "100 alerts, the most a chat can have (100)" in refused and "/unsubscribe" in refused
    assert "Alert set for" in elsewhere  # another chat is not held to this chat's count
    with store.transaction() as tx:
        assert tx.chats.subscription_count(tx.chats.find("telegram", "1").id) == 100
    await commands.handle(command("/unsubscribe topic7"))
    assert "Alert set for" in text_of(await commands.handle(command("/subscribe one more")))


async def test_feeds_per_chat_and_opml_entries_are_capped_and_each_refusal_names_its_limit(store):
    commands = build(store, max_feeds_per_chat=3, max_opml_entries=500)
    imported = text_of(await commands.handle(command("/sources", attachment=Attachment("a.opml", opml_of(5)))))
    assert imported.startswith("Imported 3 feeds, 2 skipped") and imported.count("up to 3 feeds") == 2
    big = text_of(await commands.handle(command("/sources", chat="2", attachment=Attachment("b.opml", opml_of(501)))))
    assert "lists 501 feeds; I import up to 500 at a time" in big
    with store.transaction() as tx:
        assert len(tx.sources.followed_by(tx.chats.find("telegram", "1").id)) == 3
        assert tx.sources.followed_by(tx.chats.find("telegram", "2").id) == []  # refused whole, nothing half-done
    full = text_of(await commands.handle(command("/sources add https://feeds9.example/rss")))
    assert "A chat can follow up to 3 feeds; this one follows 3." in full


async def test_an_opml_file_of_10000_entries_never_holds_the_event_loop(sqlite_store):
    commands = build(sqlite_store, max_feeds_per_chat=10_000, max_opml_entries=10_000)
    content = opml_of(10_000)
    async with LoopTicker() as ticker:
        answer = text_of(await commands.handle(command("/sources", attachment=Attachment("big.opml", content))))
    assert answer == "Imported 10,000 feeds."
    assert ticker.worst < MAX_LOOP_HOLD_S, f"the loop was held {ticker.worst:.2f} s"


async def test_a_locked_database_gets_a_busy_answer_within_the_bounded_wait_and_help_still_answers(sqlite_store):
    commands = build(sqlite_store, db_wait_s=0.5)
    await commands.handle(command("/alerts"))  # the chat row exists before the lock
    with WriteLock(sqlite_store):
        async with LoopTicker() as ticker:
            started = time.monotonic()
            busy, help_ = await asyncio.gather(commands.handle(command("/subscribe climate")),
                                               commands.handle(command("/help", chat="2")))
            waited = time.monotonic() - started
    assert "The database is busy (it stayed locked for 0.5 s). Nothing was changed" in text_of(busy)
    assert "/subscribe" in text_of(help_)
    assert waited < 5, f"the command waited {waited:.1f} s for the lock"  # the default wait is 30 s
    assert ticker.worst < MAX_LOOP_HOLD_S, f"the loop was held {ticker.worst:.2f} s"
    assert "Alert set for climate" in text_of(await commands.handle(command("/subscribe climate")))


async def test_a_chat_flooding_commands_is_told_once_it_is_busy_and_other_chats_are_not_held(sqlite_store):
    commands = build(sqlite_store, db_wait_s=1, max_pending_per_chat=3)
    with WriteLock(sqlite_store):  # every command of the flood waits for the lock
        flood = [asyncio.create_task(commands.handle(command(f"/subscribe word{n}"))) for n in range(10)]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        help_ = await commands.handle(command("/help", chat="2"))
        help_took = time.monotonic() - started
        answers = [text_of(a) for a in await asyncio.gather(*flood)]
    assert "/subscribe" in text_of(help_) and help_took < 1
    assert sum("The database is busy" in a for a in answers) == 3  # the three admitted ones
    [told] = [a for a in answers if "I'm busy" in a]
    assert "3 are waiting, and a chat can have up to 3 at a time" in told
    assert answers.count("") == 6  # refused without an answer each: that would be a flood of its own
    assert "Alert set for" in text_of(await commands.handle(command("/subscribe again")))  # drained: admitted
