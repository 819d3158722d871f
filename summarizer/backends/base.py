"""What every backend returns for an article."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from summarizer.prepare import Prepared


@dataclass(frozen=True)
class Selection:
    points: list[str]  # in reading order
    salience: list[int]  # indexes into points, most salient first
    notice: str | None = None
    headline: str | None = None  # written by the backend (llm); None: the title, else from the first point
    backend: str | None = None  # the backend that made this selection, when not the configured one
    fallback: str | None = None  # why it was not the configured one
    extra: dict = field(default_factory=dict)  # counts for metrics (llm: "points_dropped")


class Backend(Protocol):
    name: str

    def select(self, documents: list[Prepared], count: int, language: str | None = None) -> list[Selection]:
        """`count` points for each document, for the whole batch at once. `language` (an ISO 639-1
        code) asks for points in that language; backends that pick the article's sentences ignore it."""
        ...
