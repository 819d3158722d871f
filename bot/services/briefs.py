"""Summarizing off the event loop, and turning stored briefs into what people see."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bot.domain.models import BriefItem, Link
from bot.metrics import Metrics
from bot.store.articles import StoredBrief
from summarizer import ArticleText, Brief, Summarizer, SummarizerError


class BriefMaker:
    """Runs the summarizer in one worker thread: the model is CPU-bound and not worth running twice at once."""

    def __init__(self, summarizer: Summarizer, *, metrics: Metrics | None = None) -> None:
        self.summarizer = summarizer
        self.metrics = metrics
        self._warm = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summarizer")

    async def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, lambda: self.summarizer.backend)
        self._warm = True

    def ready(self) -> bool:
        return self._warm

    async def summarize(self, articles: list[ArticleText], *, max_chars: int | None = None) -> list[Brief]:
        """Briefs in order; raises SummarizerError when an article cannot be summarized."""
        outcomes = await self.summarize_each(articles, max_chars=max_chars)
        for outcome in outcomes:
            if isinstance(outcome, SummarizerError):
                raise outcome
        return outcomes

    async def summarize_each(self, articles: list[ArticleText], *,
                             max_chars: int | None = None) -> list[Brief | SummarizerError]:
        """Briefs in order; an article that cannot be summarized gets its SummarizerError in its place."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._summarize, articles, max_chars)

    def _summarize(self, articles: list[ArticleText], max_chars: int | None) -> list[Brief | SummarizerError]:
        # Timed inside the worker: waiting behind another batch is not summarizer latency.
        started = time.perf_counter()
        outcomes = self.summarizer.summarize_each(articles, max_chars=max_chars)
        if self.metrics is not None:
            made = sum(not isinstance(outcome, SummarizerError) for outcome in outcomes)
            self.metrics.brief_made(time.perf_counter() - started, count=made)
        self._warm = True
        return outcomes

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def brief_item(brief: StoredBrief) -> BriefItem:
    """A stored brief as shown in a chat, linked to its article."""
    links = []
    if brief.url:
        label = brief.source_titles[0] if brief.source_titles else (urlsplit(brief.url).hostname or brief.url)
        links.append(Link(label=label, url=brief.url))
    return BriefItem(headline=brief.headline, points=_points_under(brief.headline, brief.points), links=links,
                     published=brief.published_at, brief_id=brief.brief_id)


def fresh_item(brief: Brief) -> BriefItem:
    """A brief just made for a request (not stored)."""
    links = [Link(label=urlsplit(brief.url).hostname or brief.url, url=brief.url)] if brief.url else []
    return BriefItem(headline=brief.headline, points=_points_under(brief.headline, brief.points), links=links,
                     published=brief.published)


def _points_under(headline: str, points: list[str]) -> list[str]:
    """The points to show under a headline: without a title, the headline is the lead sentence itself,
    which need not be said twice (a headline cut short keeps the whole sentence as a point)."""
    if len(points) > 1 and points[0].rstrip(".!?\"' ") == headline.rstrip(".!?\"' "):
        return list(points[1:])
    return list(points)
