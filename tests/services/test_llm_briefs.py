"""End to end: feeds polled over HTTP into a real SQLite store, briefs made by the configured llm backend
(BriefMaker.from_settings: the real openai client against the stand-in, the real extractive fallback),
and what /readyz and /metrics say when the LLM server goes away."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.runtime.health import make_health_routes
from bot.runtime.http_server import HttpServer
from bot.runtime.metrics import Metrics
from bot.services.briefs import BriefMaker
from bot.services.ingest import Ingestor
from bot.settings import Settings
from bot.sources.fetcher import SafeFetcher
from bot.store.store import Store
from tests.support.databases import sqlite_url
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items
from tests.support.standins.openai import OpenAIStandIn

pytestmark = pytest.mark.slow  # loads the MiniLM model for the fallback


def careful_model(params: dict) -> str:
    """A well-behaved model: two points built from the article's own words, in a new form."""
    article = re.search(r"<article>\n(.*)\n</article>", params["messages"][1]["content"], re.S).group(1)
    sentences = re.split(r"(?<=\.) ", article.split("\n\n", 1)[-1])
    council = re.match(r"The council of (.+?) approved the (.+?) on Monday at a cost of (\d+) million euros", sentences[0])
    town, project, cost = council.groups()
    return json.dumps({"headline": f"{town} says yes to {project}", "points": [
        f"{town} will spend {cost} million euros on the {project}.", sentences[2]]})


def llm_settings(url: str, model: str, folder) -> Settings:
    return Settings(_env_file=None, data_dir=folder, summarizer_backend="llm", llm_base_url=url, llm_model=model,
                    llm_timeout_s=2.0, llm_max_retries=0, llm_pause_s=0.0)


async def readyz(briefs: BriefMaker, metrics: Metrics) -> tuple[int, dict, str]:
    http = HttpServer("127.0.0.1", 0)
    for route in make_health_routes({"model": briefs.ready, "llm": briefs.llm_status}, metrics, lambda: 0):
        http.route(*route)
    await http.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{http.port}/readyz") as response:
                status, body = response.status, await response.json()
            async with session.get(f"http://127.0.0.1:{http.port}/metrics") as response:
                exposition = await response.text()
    finally:
        await http.stop()
    return status, body, exposition


def metric(exposition: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise KeyError(name)


def stored_briefs(store: Store) -> dict[str, tuple[str, list[str], str]]:
    from sqlalchemy import select

    from bot.store.tables import Article, BriefRow

    with store.transaction() as tx:
        rows = tx.session.execute(select(Article.title, BriefRow.headline, BriefRow.points, BriefRow.backend)
                                  .join(BriefRow, BriefRow.article_id == Article.id)).all()
    return {title: (headline, list(points), backend) for title, headline, points, backend in rows}


async def test_briefs_come_from_the_llm_and_extractive_ones_keep_coming_when_it_stops(tmp_path):
    store = Store.open(sqlite_url(tmp_path))
    fetcher = SafeFetcher(timeout_s=5, allow_private=True)
    metrics = Metrics()
    llm = OpenAIStandIn("ollama").start()
    llm.respond_with(careful_model)
    briefs = BriefMaker.from_settings(llm_settings(llm.base_url, llm.model, tmp_path), metrics=metrics)
    assert briefs.llm is not None
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15),
                        new_feed_items=10, batch_size=4, metrics=metrics)
    try:
        with FeedServer() as feeds:
            items = story_items(range(3))
            feeds.serve("/feed", rss(items), content_type="application/rss+xml")
            with store.transaction() as tx:
                chat = tx.chats.ensure("slack", "C1")
                tx.sources.follow(chat.id, tx.sources.ensure(feeds.url("/feed")).id)
            await briefs.warm_up()
            report = await ingestor.poll()
            assert (report.new_articles, report.briefs) == (3, 3)
            made = stored_briefs(store)
            for item in items:
                headline, points, backend = made[item["title"]]
                assert backend == "llm"
                assert points == json.loads(careful_model({"messages": [{}, {"content": (
                    f"<article>\n{item['title']}\n\n{item['body']}\n</article>")}]}))["points"]
            assert len(llm.calls("chat.completions")) == 3
            status, body, exposition = await readyz(briefs, metrics)
            assert status == 200 and "degraded" not in body
            assert metric(exposition, "briefbot_llm_requests_total", outcome="ok") == 3
            assert metric(exposition, "briefbot_llm_tokens_total", kind="completion") > 0

            llm.stop()  # the server goes away; new stories keep arriving
            more = story_items(range(3, 6), start=datetime(2026, 2, 1, tzinfo=UTC))
            feeds.serve("/feed", rss(items + more), content_type="application/rss+xml")
            from sqlalchemy import update

            from bot.store.tables import Source

            with store.transaction() as tx:
                tx.session.execute(update(Source).values(next_poll_at=datetime(2000, 1, 1, tzinfo=UTC)))
            report = await ingestor.poll()
            assert (report.new_articles, report.briefs) == (3, 3)
            made = stored_briefs(store)
            for item in more:
                headline, points, backend = made[item["title"]]
                assert backend == "extractive" and headline == item["title"]
                assert all(point in item["body"] for point in points)  # the article's own sentences
            status, body, exposition = await readyz(briefs, metrics)
            assert status == 200 and body["degraded"] == ["llm"]
            assert "extractive briefs" in body["checks"]["llm"]["degraded"]
            assert metric(exposition, "briefbot_llm_fallbacks_total", reason="unavailable") == 3
    finally:
        llm.stop()
        briefs.close()
        await fetcher.aclose()
        store.close()
