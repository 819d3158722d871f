"""Briefs of news articles: a headline and a few key points, made offline.

    from summarizer import Summarizer, SummarizerConfig, ArticleText
    briefs = Summarizer(SummarizerConfig()).summarize([ArticleText(text=...)])
"""

from summarizer.backends.llm import ChatModel, LlmUnavailable
from summarizer.core import Summarizer, get_summarizer
from summarizer.types import ArticleText, BackendName, Brief, SummarizerConfig, SummarizerError

__all__ = ["ArticleText", "BackendName", "Brief", "ChatModel", "LlmUnavailable", "Summarizer", "SummarizerConfig",
           "SummarizerError", "get_summarizer"]
