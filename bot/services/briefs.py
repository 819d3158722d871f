"""Summarizing off the event loop, and turning stored briefs into what people see."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bot.domain.models import BriefItem, Link
from bot.metrics import Metrics
from bot.store.articles import StoredBrief
from summarizer import ArticleText, Brief, Summarizer


class BriefMaker:
    """Runs the summarizer in one worker thread: the model is CPU-bound and not worth running twice at once."""

    def __init__(self, summarizer: Summarizer, *, metrics: Metrics | None = None) -> None:
        self.summarizer = summarizer
        self.metrics = metrics
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summarizer")

    async def summarize(self, articles: list[ArticleText], *, max_chars: int | None = None) -> list[Brief]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._summarize, articles, max_chars)

    def _summarize(self, articles: list[ArticleText], max_chars: int | None) -> list[Brief]:
        # Timed inside the worker: waiting behind another batch is not summarizer latency.
        started = time.perf_counter()
        briefs = self.summarizer.summarize(articles, max_chars=max_chars)
        if self.metrics is not None:
            self.metrics.brief_made(time.perf_counter() - started, count=len(briefs))
        return briefs

    def ready(self) -> bool:
        return self.summarizer.ready()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def brief_item(brief: StoredBrief) -> BriefItem:
    """A stored brief as shown in a chat, linked to its article."""
    links = []
    if brief.url:
        label = brief.source_titles[0] if brief.source_titles else (urlsplit(brief.url).hostname or brief.url)
        links.append(Link(label=label, url=brief.url))
    return BriefItem(headline=brief.headline, points=list(brief.points), links=links,
                     published=brief.published_at, brief_id=brief.brief_id)


def fresh_item(brief: Brief) -> BriefItem:
    """A brief just made for a request (not stored)."""
    links = [Link(label=urlsplit(brief.url).hostname or brief.url, url=brief.url)] if brief.url else []
    published = brief.published if hasattr(brief.published, "hour") else None
    return BriefItem(headline=brief.headline, points=list(brief.points), links=links, published=published)
