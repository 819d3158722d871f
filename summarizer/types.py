"""The summarizer's vocabulary: what goes in, what comes out, and how it is configured."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from summarizer.languages import check_language

BackendName = Literal["extractive", "abstractive", "lead", "llm"]


class SummarizerConfig(BaseModel):
    backend: BackendName = "extractive"
    model: str | None = None  # abstractive: Hugging Face id or local folder
    device: str = "auto"  # "auto" picks CUDA when present
    sentences: int = Field(3, ge=1, le=10)  # key points per brief
    max_chars: int = Field(600, ge=80)  # length budget of a brief (headline + points)
    batch_size: int = Field(64, ge=1)
    # llm: the language briefs are written in, an ISO 639-1 code ("de") or "article" (the article's own)
    language: str = "article"

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return check_language(value)


@dataclass(frozen=True)
class ArticleText:
    """One article to summarize. `text` may be plain text or HTML."""

    text: str
    title: str | None = None
    url: str | None = None
    published: date | datetime | None = None


@dataclass(frozen=True)
class Brief:
    headline: str  # one line
    points: list[str]  # key sentences, in reading order
    title: str | None = None
    url: str | None = None
    published: date | datetime | None = None
    backend: str = ""
    notice: str | None = None  # why the brief is thin (too short, not English...), when it is
    # Why the configured backend's brief was not used and `backend` made it instead (llm: "unfaithful",
    # "unavailable", "over_budget", "unreadable", "wrong_language"), when that happened
    fallback: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The brief's sentences, one per line."""
        return "\n".join(self.points)


class SummarizerError(ValueError):
    """Input that cannot be summarized (empty, no sentences...). The message is for users."""
