"""Summarizing off the event loop, and turning stored briefs into what people see."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from bot.domain.models import BriefItem, Link
from bot.runtime.metrics import Metrics
from bot.store.articles import StoredBrief
from summarizer import ArticleText, Brief, Summarizer, SummarizerConfig, SummarizerError, get_summarizer

if TYPE_CHECKING:
    from bot.runtime.llm_client import LlmClient
    from bot.settings import Settings


class BriefMaker:
    """Runs the summarizer in one worker thread: the model is CPU-bound and not worth running twice at once.
    The digests' embeddings come from the same model, on the same thread. (The llm backend sends a batch's
    requests to its server from threads of its own, `LLM_CONCURRENCY` at once.)"""

    def __init__(self, summarizer: Summarizer, *, metrics: Metrics | None = None, llm: LlmClient | None = None) -> None:
        self.summarizer = summarizer
        self.metrics = metrics
        self.llm = llm  # the llm backend's client, when that backend is configured
        self._warm = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="summarizer")

    @classmethod
    def from_settings(cls, settings: Settings, *, metrics: Metrics | None = None) -> BriefMaker:
        """The configured backend; for `llm`, with its client of the LLM server (and extractive as fallback)."""
        config = settings.summarizer_config()
        if config.backend != "llm":
            return cls(get_summarizer(config), metrics=metrics)
        summarizer, llm = llm_summarizer(settings, config, metrics=metrics)
        return cls(summarizer, metrics=metrics, llm=llm)

    async def warm_up(self) -> None:
        """Load the model now rather than on the first request."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, lambda: self.summarizer.backend)
        self._warm = True

    def ready(self) -> bool:
        return self._warm

    def llm_status(self) -> dict:
        """The readiness of the llm backend: "degraded" while extractive briefs stand in for it."""
        return self.llm.status() if self.llm is not None else {"ok": True}

    async def summarize(self, articles: list[ArticleText], *, max_chars: int | None = None,
                        language: str | None = None) -> list[Brief]:
        """Briefs in order; raises SummarizerError when an article cannot be summarized."""
        outcomes = await self.summarize_each(articles, max_chars=max_chars, language=language)
        for outcome in outcomes:
            if isinstance(outcome, SummarizerError):
                raise outcome
        return outcomes

    async def summarize_each(self, articles: list[ArticleText], *, max_chars: int | None = None,
                             language: str | None = None) -> list[Brief | SummarizerError]:
        """Briefs in order; an article that cannot be summarized gets its SummarizerError in its place.
        `language`: an ISO 639-1 code for the briefs (llm backend), default the configured one."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._summarize, articles, max_chars, language)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length embeddings of these texts, made on the summarizer's thread; blocks until they are
        done. For code already off the event loop (the digests run in threads of their own)."""
        return self._executor.submit(self.summarizer.embed, texts).result()

    def _summarize(self, articles: list[ArticleText], max_chars: int | None,
                   language: str | None) -> list[Brief | SummarizerError]:
        # Timed inside the worker: waiting behind another batch is not summarizer latency.
        started = time.perf_counter()
        outcomes = self.summarizer.summarize_each(articles, max_chars=max_chars, language=language)
        if self.metrics is not None:
            briefs = [outcome for outcome in outcomes if not isinstance(outcome, SummarizerError)]
            self.metrics.brief_made(time.perf_counter() - started, count=len(briefs))
            if self.llm is not None:
                for brief in briefs:
                    if brief.fallback or "points_dropped" in brief.extra:  # a brief the LLM was asked for
                        self.metrics.llm_brief(fallback=brief.fallback,
                                               points_dropped=brief.extra.get("points_dropped", 0))
        self._warm = True
        return outcomes

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def llm_summarizer(settings: Settings, config: SummarizerConfig, *,
                   metrics: Metrics | None = None) -> tuple[Summarizer, LlmClient]:
    """A summarizer of the llm backend and its client of the server named in the LLM_* settings."""
    from bot.runtime.llm_client import LlmClient

    if not (settings.llm_base_url and settings.llm_model):
        raise ValueError("SUMMARIZER_BACKEND=llm needs LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1) and LLM_MODEL")
    llm = LlmClient(base_url=settings.llm_base_url, model=settings.llm_model,
                    api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
                    timeout_s=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
                    concurrency=settings.llm_concurrency, requests_per_hour=settings.llm_requests_per_hour,
                    context_tokens=settings.llm_context_tokens, max_output_tokens=settings.llm_max_output_tokens,
                    structured_output=settings.llm_structured_output, pause_s=settings.llm_pause_s, metrics=metrics)
    if metrics is not None:
        metrics.llm_backend()
    return Summarizer(config, chat_model=llm), llm


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
