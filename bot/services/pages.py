"""`/summary <link>`: fetch a page through the safe fetcher, summarize it once, keep the brief."""

from __future__ import annotations

import asyncio

from bot.domain.dedupe import canonical_url, content_fingerprint
from bot.runtime.clock import Clock, utcnow
from bot.services.briefs import BriefMaker
from bot.sources.fetcher import FetchError, SafeFetcher
from bot.sources.pages import PageError, extract_page
from bot.store.articles import NewArticle, StoredBrief
from bot.store.store import Store
from summarizer import ArticleText, SummarizerError


class PageProblem(Exception):
    """Why a link could not be summarized, in words for the person who sent it."""


class PageService:
    def __init__(self, *, store: Store, fetcher: SafeFetcher, briefs: BriefMaker, max_chars: int,
                 clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.fetcher = fetcher
        self.briefs = briefs
        self.max_chars = max_chars

    async def brief_for_url(self, url: str) -> StoredBrief:
        try:
            canonical = canonical_url(url)
        except ValueError as exc:
            raise PageProblem(f"That link does not look right: {exc}") from exc
        known = await asyncio.to_thread(self._known, canonical)  # the store's work: off the event loop
        if known is not None:
            return known
        try:
            result = await self.fetcher.fetch(url, kind="page")
        except FetchError as exc:
            raise PageProblem(f"I could not fetch that page: {exc}") from exc
        try:
            page = await asyncio.to_thread(extract_page, result.content, url=result.url,
                                              content_type=result.content_type)
        except PageError as exc:
            raise PageProblem(f"I could not find an article on that page: {exc}") from exc
        final_url = canonical_url(page.canonical_url or result.url)
        try:
            [brief] = await self.briefs.summarize(
                [ArticleText(text=page.text, title=page.title, url=final_url, published=page.date)],
                max_chars=self.max_chars)
        except SummarizerError as exc:
            raise PageProblem(str(exc)) from exc
        return await asyncio.to_thread(self._store, page, final_url, brief)

    def _store(self, page, final_url: str, brief) -> StoredBrief:
        now = self.clock()
        with self.store.transaction() as tx:
            article_id, _ = tx.articles.add(NewArticle(
                fingerprint=content_fingerprint(page.title, page.text), text=page.text, url=final_url,
                title=page.title, published_at=page.date), now=now)
            if tx.articles.brief_for_article(article_id) is None:
                tx.articles.save_brief(article_id, headline=brief.headline, points=brief.points,
                                       backend=brief.backend, now=now)
            stored = tx.articles.brief_for_article(article_id)
        assert stored is not None
        return stored

    def _known(self, canonical: str) -> StoredBrief | None:
        with self.store.transaction() as tx:
            return tx.articles.brief_for_url(canonical)
