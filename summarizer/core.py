"""The summarizer's one entry point: articles in, briefs out."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from summarizer.backends.base import Backend, Selection
from summarizer.backends.llm import ChatModel
from summarizer.budget import fit_budget, headline_from
from summarizer.headline import lead_headline
from summarizer.prepare import Prepared, prepare
from summarizer.types import ArticleText, Brief, SummarizerConfig, SummarizerError


class Summarizer:
    """Turns articles into briefs with the configured backend. The backend (and its model) loads on first use."""

    def __init__(self, config: SummarizerConfig | None = None, *, backend: Backend | None = None,
                 chat_model: ChatModel | None = None) -> None:
        """`chat_model`: the client of an LLM server, which the `llm` backend needs (the bot builds it)."""
        self.config = config or SummarizerConfig()
        self._backend = backend
        self._chat_model = chat_model
        self._loading = threading.Lock()

    @property
    def backend(self) -> Backend:
        with self._loading:
            if self._backend is None:
                self._backend = _build_backend(self.config, self._chat_model)
            return self._backend

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length MiniLM embeddings, shape (len(texts), 384), from the model the extractive backend
        uses (loaded once per process). Dot products are cosine similarities: what grouping briefs by
        story needs."""
        from summarizer.encoder import get_encoder

        return get_encoder().encode(list(texts))

    def summarize(self, articles: Sequence[ArticleText], *, max_chars: int | None = None,
                  sentences: int | None = None, language: str | None = None) -> list[Brief]:
        """One brief per article, in order. Raises SummarizerError if any article has nothing to summarize."""
        briefs = self.summarize_each(articles, max_chars=max_chars, sentences=sentences, language=language)
        for outcome in briefs:
            if isinstance(outcome, SummarizerError):
                raise outcome
        return briefs  # type: ignore[return-value]

    def summarize_each(self, articles: Sequence[ArticleText], *, max_chars: int | None = None,
                       sentences: int | None = None, language: str | None = None) -> list[Brief | SummarizerError]:
        """Like summarize, but an article that cannot be summarized gets its SummarizerError in its place.

        `language`: an ISO 639-1 code the briefs should be written in, or "article" (the article's own);
        default: the configured one. Only the llm backend writes in another language than the article's.
        """
        count = sentences or self.config.sentences
        language = language or self.config.language
        budget = max_chars or self.config.max_chars
        prepared: list[Prepared | SummarizerError] = []
        for article in articles:
            try:
                prepared.append(prepare(article))
            except SummarizerError as exc:
                prepared.append(exc)
        summarizable = [item for item in prepared if isinstance(item, Prepared) and not item.too_short]
        selections = iter(self.backend.select(summarizable, count, language) if summarizable else [])
        outcomes: list[Brief | SummarizerError] = []
        for item in prepared:
            if isinstance(item, SummarizerError):
                outcomes.append(item)
            elif item.too_short:
                shown = Selection(points=item.sentences, salience=list(range(len(item.sentences))))
                outcomes.append(self._brief(item, shown, budget))
            else:
                outcomes.append(self._brief(item, next(selections), budget))
        return outcomes

    def _brief(self, item: Prepared, selection: Selection, budget: int) -> Brief:
        points, salience = selection.points, selection.salience
        # Without a title, the earliest chosen sentence (not one opening "But ..."): news leads with its key
        # fact, later points are often quotes or details that make poor headlines.
        lead = lead_headline(points) if points else item.sentences[0]
        headline = selection.headline or item.title or headline_from(lead)
        if not (selection.headline or item.title) and item.article.url and len(points) > 1 and lead in points:
            # A page without a usable title: its headline sentence is not shown twice. (Pasted text keeps
            # every chosen point: its brief is read as the text's summary.)
            index = points.index(lead)
            points = points[:index] + points[index + 1:]
            salience = [rank - (rank > index) for rank in salience if rank != index]
        fitted_headline, fitted = fit_budget(headline, points, salience, budget)
        if len(fitted) < 2 <= len(points) and not item.too_short:
            fitted = _two_that_fit(item.sentences, points, salience, budget - len(fitted_headline)) or fitted
        headline, points = fitted_headline, fitted
        notices = [notice for notice in (item.notice, selection.notice) if notice]
        return Brief(headline=headline, points=points, title=item.title, url=item.article.url,
                     published=item.published, backend=selection.backend or self.backend.name,
                     notice=" ".join(notices) or None, fallback=selection.fallback, extra=dict(selection.extra))


def _two_that_fit(sentences: list[str], points: list[str], salience: list[int], room: int) -> list[str] | None:
    """Whole sentences that fit the budget, at least two, when the chosen ones are too long to keep two: the
    chosen points most salient first, then the article's other opening sentences, in reading order."""
    pool = [points[index] for index in salience] + [s for s in sentences[:10] if s not in points]
    kept: list[str] = []
    for sentence in pool:
        if len(kept) < len(points) and sum(map(len, kept)) + len(sentence) <= room:
            kept.append(sentence)
    if len(kept) < 2:
        return None
    order = {sentence: index for index, sentence in enumerate(sentences)}
    return sorted(kept, key=lambda sentence: order.get(sentence, len(order)))


def _build_backend(config: SummarizerConfig, chat_model: ChatModel | None = None) -> Backend:
    if config.backend == "llm":
        if chat_model is None:
            raise ValueError("the llm backend needs the client of an LLM server: the bot builds it from "
                             "LLM_BASE_URL and LLM_MODEL (SUMMARIZER_BACKEND=llm)")
        from summarizer.backends.extractive import ExtractiveBackend
        from summarizer.backends.llm import LlmBackend
        from summarizer.encoder import get_encoder

        return LlmBackend(chat_model, fallback=ExtractiveBackend(get_encoder()))
    if config.backend == "lead":
        from summarizer.backends.lead import LeadBackend

        return LeadBackend()
    if config.backend == "abstractive":
        if not config.model:
            raise ValueError("the abstractive backend needs a model: a Hugging Face id or a local folder")
        from summarizer.backends.abstractive import AbstractiveBackend

        return AbstractiveBackend(config.model, device=config.device, batch_size=config.batch_size)
    from summarizer.backends.extractive import ExtractiveBackend
    from summarizer.encoder import get_encoder

    return ExtractiveBackend(get_encoder())


@lru_cache(maxsize=8)
def _cached(config_json: str) -> Summarizer:
    return Summarizer(SummarizerConfig.model_validate_json(config_json))


def get_summarizer(config: SummarizerConfig | None = None) -> Summarizer:
    """One Summarizer per distinct configuration in the process, so each model loads once."""
    return _cached((config or SummarizerConfig()).model_dump_json())

