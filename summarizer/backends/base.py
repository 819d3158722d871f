"""What every backend returns for an article."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from summarizer.prepare import Prepared


@dataclass(frozen=True)
class Selection:
    points: list[str]  # in reading order
    salience: list[int]  # indexes into points, most salient first
    notice: str | None = None


class Backend(Protocol):
    name: str

    def select(self, documents: list[Prepared], count: int) -> list[Selection]:
        """`count` points for each document, for the whole batch at once."""
        ...
