"""Features of candidate sentences and of sets of them, shared by the runtime scorer and its training.

Only the first few sentences of an article are candidates (news puts its key facts first, and encoding
fewer sentences is what makes the backend fast); the whole article still informs the word statistics.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import combinations

import numpy as np

from summarizer.sentences import ends_like_sentence

CONTEXT_SENTENCES = 60  # word statistics look this far into the article

_STOP = frozenset(
    "the of and to a in is was for on that with as by at he it from his has have are be said this an they were "
    "not but who after its their been had will more would when which or about out up her she i you we one all "
    "also there what than so".split()
)
_DANGLING = frozenset("He She It They But And This That These Those".split())  # leans on an earlier sentence
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|according)\b")
_WORD = re.compile(r"[a-z0-9]+")

SENTENCE_FEATURES = (
    "position=0", "position=1", "position=2", "position=3", "position=4", "position=5-7", "log position",
    "relative position", "log words", "under 8 words", "over 35 words", "caption (no closing punctuation)",
    "opens with a quote", "has a quote", "question", "has a digit", "opens with a pronoun or conjunction",
    "word frequency in article", "similarity to candidates' centroid", "similarity to first sentence",
    "mean similarity to other candidates", "log sentences in article", "capitalised word share", "log numbers",
    "word cosine to rest of article", "word overlap with first sentence", "attribution verb", "over 250 chars",
)
SET_FEATURES = ("max pair similarity", "pairs sharing a trigram", "words / 100", "(words / 100)^2")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def trigrams(text: str) -> set[tuple[str, str, str]]:
    tokens = words(text)
    return set(zip(tokens, tokens[1:], tokens[2:]))


def sentence_features(sentences: list[str], embeddings: np.ndarray) -> np.ndarray:
    """One row of SENTENCE_FEATURES per candidate; `embeddings` (unit rows) are the first candidates'."""
    count = len(embeddings)
    total = len(sentences)
    context = [[word for word in words(sentence) if word not in _STOP] for sentence in sentences[:CONTEXT_SENTENCES]]
    sentence_frequency = Counter(word for sentence_words in context for word in set(sentence_words))
    article_counts = Counter(word for sentence_words in context for word in sentence_words)
    article_norm = math.sqrt(sum(value * value for value in article_counts.values())) or 1.0
    first_words = set(context[0]) if context else set()
    centroid = embeddings.mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    similarity = embeddings @ embeddings.T
    rows = []
    for index in range(count):
        sentence = sentences[index]
        content = context[index] if index < len(context) else []
        tokens = sentence.split()
        n_words = len(words(sentence))
        counts = Counter(content)
        norm = math.sqrt(sum(value * value for value in counts.values())) or 1.0
        rest_dot = sum(value * (article_counts[word] - value) for word, value in counts.items())
        rows.append([
            index == 0, index == 1, index == 2, index == 3, index == 4, 5 <= index < 8, math.log1p(index),
            index / max(total, 1), math.log1p(n_words), n_words < 8, n_words > 35, not ends_like_sentence(sentence),
            sentence.lstrip()[:1] in "\"“'‘", '"' in sentence or "“" in sentence, "?" in sentence,
            any(char.isdigit() for char in sentence), bool(tokens) and tokens[0] in _DANGLING,
            float(np.mean([math.log(sentence_frequency[word]) for word in content])) if content else 0.0,
            float(embeddings[index] @ centroid), float(embeddings[index] @ embeddings[0]),
            float((similarity[index].sum() - similarity[index, index]) / max(count - 1, 1)), math.log1p(total),
            sum(token[:1].isupper() for token in tokens[1:]) / max(len(tokens) - 1, 1),
            math.log1p(len(re.findall(r"\d+", sentence))), rest_dot / (norm * article_norm),
            len(set(content) & first_words) / max(len(set(content)), 1) if index else 1.0,
            bool(_ATTRIBUTION.search(sentence)), len(sentence) > 250,
        ])
    return np.asarray(rows, dtype=np.float64).reshape(count, len(SENTENCE_FEATURES))


def candidate_sets(count: int, size: int) -> np.ndarray:
    """Every set of `size` candidates out of `count`, as rows of indexes in reading order."""
    return np.asarray(list(combinations(range(count), min(size, count))), dtype=np.int64)


def set_features(sets: np.ndarray, sentences: list[str], embeddings: np.ndarray) -> np.ndarray:
    """One row of SET_FEATURES per set: redundancy (meaning and wording) and length."""
    count = len(embeddings)
    similarity = embeddings @ embeddings.T
    grams = [trigrams(sentence) for sentence in sentences[:count]]
    shared = np.array([[bool(grams[a] & grams[b]) for b in range(count)] for a in range(count)], dtype=np.float64)
    lengths = np.array([len(words(sentence)) for sentence in sentences[:count]], dtype=np.float64)
    pairs = list(combinations(range(sets.shape[1]), 2))
    if pairs:
        left = sets[:, [a for a, _ in pairs]]
        right = sets[:, [b for _, b in pairs]]
        max_similarity = similarity[left, right].max(axis=1)
        shared_pairs = shared[left, right].sum(axis=1)
    else:
        max_similarity = shared_pairs = np.zeros(len(sets))
    total = lengths[sets].sum(axis=1) / 100
    return np.column_stack([max_similarity, shared_pairs, total, total ** 2])
