"""The default backend: MiniLM embeddings and a learned scorer choose the key sentences, in reading order."""

from __future__ import annotations

import numpy as np

from summarizer.backends.base import Selection
from summarizer.encoder import SentenceEncoder
from summarizer.prepare import Prepared
from summarizer.scorer import SetScorer


class ExtractiveBackend:
    name = "extractive"

    def __init__(self, encoder: SentenceEncoder, scorer: SetScorer | None = None) -> None:
        self.encoder = encoder
        self.scorer = scorer or SetScorer.load()

    def select(self, documents: list[Prepared], count: int, language: str | None = None) -> list[Selection]:
        candidates = [document.sentences[: self.scorer.candidates] for document in documents]
        # One encoder call for the whole batch: it sorts by length and pads little.
        embeddings = self.encoder.encode([sentence for head in candidates for sentence in head],
                                         max_tokens=self.scorer.max_tokens)
        offsets = np.cumsum([0, *map(len, candidates)])
        selections = []
        for document, start, end in zip(documents, offsets, offsets[1:]):
            chosen, by_salience = self.scorer.choose(document.sentences, embeddings[start:end], count)
            selections.append(Selection(points=[document.sentences[index] for index in chosen],
                                        salience=[chosen.index(index) for index in by_salience]))
        return selections
