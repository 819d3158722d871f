"""The Lead-N baseline: the opening sentences, which news writing fills with the key facts."""

from __future__ import annotations

from summarizer.backends.base import Selection
from summarizer.prepare import Prepared


class LeadBackend:
    name = "lead"

    def select(self, documents: list[Prepared], count: int, language: str | None = None) -> list[Selection]:
        return [Selection(points=document.sentences[:count], salience=list(range(min(count, len(document.sentences)))))
                for document in documents]
