"""The real bot process with SUMMARIZER_BACKEND=llm: alerts to the console chat carry the LLM's briefs
while the stand-in server answers, and extractive briefs once it is gone; /readyz says so, and the API
key never reaches the log."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy import func, select

from bot.domain.matching import parse_query
from bot.store.store import Store
from bot.store.tables import Article, BriefRow, Delivery
from tests.support.bot_process import START_DEADLINE_S, BotProcess
from tests.support.databases import sqlite_url
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items
from tests.support.standins.openai import OpenAIStandIn
from tests.services.test_llm_briefs import careful_model

pytestmark = pytest.mark.slow

API_KEY = "sk-process-test-0123456789abcdef"


def wait_for(what: str, condition, bot: BotProcess, timeout: float = START_DEADLINE_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        assert bot.process.poll() is None, "the bot exited:\n" + "\n".join(bot.lines[-20:])
        time.sleep(0.3)
    raise AssertionError(f"never {what}:\n" + "\n".join(bot.lines[-20:]))


def briefs_by_backend(url: str) -> dict[str, str]:
    store = Store.open(url)
    try:
        with store.transaction() as tx:
            return dict(tx.session.execute(select(Article.title, BriefRow.backend).join(BriefRow)).all())
    finally:
        store.close()


def sent_count(url: str) -> int:
    store = Store.open(url)
    try:
        with store.transaction() as tx:
            return tx.session.scalar(select(func.count()).select_from(Delivery).where(Delivery.status == "sent"))
    finally:
        store.close()


def test_the_bot_posts_llm_briefs_then_extractive_ones_when_the_server_stops(tmp_path):
    url = sqlite_url(tmp_path / "data")
    with FeedServer() as feeds, OpenAIStandIn("ollama") as llm:
        llm.respond_with(careful_model)
        first, later = story_items(range(2)), story_items(range(2, 4))
        feeds.serve("/feed", rss(first), content_type="application/rss+xml")
        store = Store.open(url)
        with store.transaction() as tx:
            chat = tx.chats.ensure("console", "local")
            tx.sources.follow(chat.id, tx.sources.ensure(feeds.url("/feed")).id)
            query = parse_query("approves")  # in every title
            tx.chats.subscribe(chat.id, query.normalized, query.display)
        store.close()
        with BotProcess(tmp_path, SUMMARIZER_BACKEND="llm", LLM_BASE_URL=llm.base_url, LLM_MODEL=llm.model,
                        LLM_API_KEY=API_KEY, LLM_MAX_RETRIES="0", LLM_PAUSE_S="0", LLM_TIMEOUT_S="3",
                        ALLOW_PRIVATE_NETWORKS="1", POLL_INTERVAL_MINUTES="0.05", NEW_FEED_ITEMS="5") as bot:
            port = bot.port()
            made = wait_for("made the LLM's briefs", lambda: len(briefs_by_backend(url)) == 2 and briefs_by_backend(url),
                            bot)
            assert set(made.values()) == {"llm"}
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).json()
            assert ready["checks"]["llm"] == {"ok": True} and "degraded" not in ready

            llm.stop()
            feeds.serve("/feed", rss(first + later), content_type="application/rss+xml")
            made = wait_for("made the fallback's briefs", lambda: len(briefs_by_backend(url)) == 4 and
                            briefs_by_backend(url), bot)
            assert [made[item["title"]] for item in later] == ["extractive", "extractive"]
            wait_for("sent four alerts", lambda: sent_count(url) == 4, bot)
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert ready.status_code == 200 and ready.json()["degraded"] == ["llm"]
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            assert 'briefbot_llm_fallbacks_total{reason="unavailable"} 2.0' in metrics
            assert bot.stop() == 0
        shown = " ".join(re.sub(r"[│╭╮╰╯─]", " ", bot.process.stdout.read()).split())
    for item in first:  # the LLM's points, as the careful model wrote them
        town = item["title"].split(" approves ")[0]
        assert f"{town} will spend" in shown
    for item in later:  # the article's own opening sentence
        assert item["body"].split(". ")[0] in shown
    assert API_KEY not in bot.output()
