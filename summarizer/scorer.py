"""The learned scorer: picks the set of candidate sentences a reference summary would most likely keep.

A linear model scores every set of `size` candidates at once: the sum of its sentences' features (position,
length, form, word statistics, MiniLM similarities and a 16-dimensional projection of the embedding) plus
features of the set (redundancy, total length). It was fitted by `bench/train_scorer.py` on ROUGE of every
candidate triple of the training articles; inference is numpy only. Sets holding two near-identical
sentences (a lead repeated as the next paragraph) are never chosen, whatever their score.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from summarizer.features import SENTENCE_FEATURES, SET_FEATURES, candidate_sets, sentence_features, set_features

WEIGHTS = Path(__file__).with_name("weights") / "scorer.npz"
# Candidates at least this similar say the same thing. The learned redundancy penalty alone does not stop a
# repeated lead from filling two points; on the dev set no chosen pair came within 0.85 of each other.
REPEAT_SIMILARITY = 0.9


@dataclass(frozen=True)
class SetScorer:
    candidates: int  # how many leading sentences compete
    max_tokens: int  # the sentence length (in tokens) the embeddings were made with
    projection_mean: np.ndarray  # (384,)
    projection: np.ndarray  # (k, 384): principal directions of candidate embeddings
    mean: np.ndarray  # standardisation of set features
    scale: np.ndarray
    weights: np.ndarray

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> SetScorer:
        with np.load(path, allow_pickle=False) as stored:
            names = [str(name) for name in stored["feature_names"]]
            scorer = cls(candidates=int(stored["candidates"]), max_tokens=int(stored["max_tokens"]),
                         projection_mean=stored["projection_mean"], projection=stored["projection"],
                         mean=stored["mean"], scale=stored["scale"], weights=stored["weights"])
        if names != scorer.feature_names():
            raise ValueError(f"{path} was trained on other features; retrain it with bench/train_scorer.py")
        return scorer

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, candidates=self.candidates, max_tokens=self.max_tokens,
                 projection_mean=self.projection_mean.astype(np.float32), projection=self.projection.astype(np.float32),
                 mean=self.mean, scale=self.scale, weights=self.weights, feature_names=np.array(self.feature_names()))

    def feature_names(self) -> list[str]:
        projected = [f"embedding component {i}" for i in range(len(self.projection))]
        return [*SENTENCE_FEATURES, *projected, *SET_FEATURES]

    def sentence_rows(self, sentences: list[str], embeddings: np.ndarray) -> np.ndarray:
        """Per-candidate features, projection included."""
        projected = (embeddings - self.projection_mean) @ self.projection.T
        return np.hstack([sentence_features(sentences, embeddings), projected])

    def set_rows(self, sets: np.ndarray, sentences: list[str], embeddings: np.ndarray,
                 rows: np.ndarray | None = None) -> np.ndarray:
        """Unstandardised features of each set (one row per set)."""
        rows = self.sentence_rows(sentences, embeddings) if rows is None else rows
        return np.hstack([rows[sets].sum(axis=1), set_features(sets, sentences, embeddings)])

    def choose(self, sentences: list[str], embeddings: np.ndarray, size: int) -> tuple[list[int], list[int]]:
        """The best set of `size` candidates, in reading order, and the same indexes most salient first."""
        rows = self.sentence_rows(sentences, embeddings)
        sets = distinct_sets(embeddings, size)
        scores = ((self.set_rows(sets, sentences, embeddings, rows) - self.mean) / self.scale) @ self.weights
        chosen = [int(index) for index in sets[int(np.argmax(scores))]]
        unary = (rows / self.scale[: rows.shape[1]]) @ self.weights[: rows.shape[1]]  # each sentence's own share
        return chosen, sorted(chosen, key=lambda index: (-unary[index], index))


def distinct_sets(embeddings: np.ndarray, size: int) -> np.ndarray:
    """Candidate sets of `size` with no two near-identical sentences; smaller sets when the article repeats
    itself so much that no such set exists (three sentences, two of them the same)."""
    similarity = embeddings @ embeddings.T
    for set_size in range(min(size, len(embeddings)), 1, -1):
        sets = candidate_sets(len(embeddings), set_size)
        left, right = (list(side) for side in zip(*combinations(range(set_size), 2)))
        distinct = sets[(similarity[sets[:, left], sets[:, right]] < REPEAT_SIMILARITY).all(axis=1)]
        if len(distinct):
            return distinct
    return candidate_sets(len(embeddings), 1)
