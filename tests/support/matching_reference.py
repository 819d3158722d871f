r"""A naive reference for keyword matching, and a synthetic workload (shared by tests and bench/matching.py).

The reference checks every (subscription, text) pair with regular expressions of its own, on the
normalised text: it shares only parsing and normalisation with bot.domain.matching, not the
tokenizer, the token positions or the index. Word boundaries are Python's `\w` (minus `_`); that
agrees with the tokenizer for the workload below (Latin with precomposed accents, Cyrillic, Greek,
Han, Kana, Hangul, every word set apart by a space or punctuation). It does not model combining
marks, nor a Latin word written directly against a CJK character.
"""

from __future__ import annotations

import itertools
import random
import re

from bot.domain.matching import Query, Term, normalize_text, parse_query

_UNSPACED_CHAR = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _term_pattern(term: Term) -> str:
    parts = []
    for token in term.tokens:
        literal = re.escape(token)
        if _UNSPACED_CHAR.fullmatch(token):
            parts.append(literal)  # no word boundaries in unspaced scripts
        else:
            # Not inside a longer word on either side. The left check is a lookbehind placed after the
            # literal, so every pattern starts with a literal and the regex engine can scan for it fast.
            parts.append(f"{literal}(?<![^\\W_]{literal})(?![^\\W_])")
    return r"[\W_]*".join(parts)  # adjacent tokens: only separators in between


class RegexQuery:
    """One query as regular expressions, checked against each text separately (the naive approach)."""

    def __init__(self, query: Query) -> None:
        self.required = [re.compile(_term_pattern(t)) for t in query.required]
        self.excluded = [re.compile(_term_pattern(t)) for t in query.excluded]

    def matches(self, normalized_text: str) -> bool:
        return all(p.search(normalized_text) for p in self.required) and \
            not any(p.search(normalized_text) for p in self.excluded)


def naive_match(subscriptions: list[tuple[int, Query]], texts: list[str]) -> list[set[int]]:
    compiled = [(sub_id, RegexQuery(query)) for sub_id, query in subscriptions]
    results = []
    for text in texts:
        normal = normalize_text(text)
        results.append({sub_id for sub_id, regex in compiled if regex.matches(normal)})
    return results


# ----- workload ----------------------------------------------------------------------------------

_SPECIAL_WORDS = [
    "café", "Zürich", "São", "Paulo", "Москва", "Киев", "выборы", "Αθήνα", "ΣΟΦΟΚΛΗΣ", "Straße", "naïve",
    "東京", "京都", "大阪", "トヨタ", "서울", "art", "party", "artist", "North", "Korea", "premier", "league",
    "COVID-19", "AI", "climate", "policy", "sports", "betting", "energy", "election", "market", "bank",
]
_PUNCTUATION = [", ", ". ", "; ", " - ", ": ", " (", ") ", " “", "” ", "! ", "'s "]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnoprstuvwyz"
    made = {"".join(rng.choice(letters) for _ in range(rng.randint(2, 9))) for _ in range(size)}
    return _SPECIAL_WORDS + sorted(made)


def make_workload(subscriptions: int = 10_000, texts: int = 100, seed: int = 7
                  ) -> tuple[list[tuple[int, Query]], list[str]]:
    """News-like texts (Zipf-distributed words, punctuation, some capitals) and subscriptions of 1-3 terms:
    words (mostly topical, i.e. not the most frequent ones), phrases lifted from the texts, exclusions."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng, 4000)
    zipf = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(vocabulary))))

    def text_word() -> str:
        return rng.choices(vocabulary, cum_weights=zipf)[0]

    def topic_word() -> str:
        return rng.choice(vocabulary) if rng.random() < 0.8 else text_word()

    documents = []
    for _ in range(texts):
        parts = []
        for _ in range(rng.randint(60, 180)):
            token = text_word()
            parts.append(token.upper() if rng.random() < 0.05 else token.capitalize() if rng.random() < 0.1
                         else token)
            parts.append(rng.choice(_PUNCTUATION) if rng.random() < 0.12 else " ")
        documents.append("".join(parts))

    subs = []
    for sub_id in range(subscriptions):
        terms = []
        for _ in range(rng.choices([1, 2, 3], [5, 3, 1])[0]):
            if rng.random() < 0.2:  # a phrase that really occurs somewhere
                words = re.findall(r"\S+", rng.choice(documents))
                start = rng.randrange(len(words) - 2)
                phrase = " ".join(words[start:start + rng.choice([2, 3])])
                terms.append('"' + re.sub("[\"“”]", "", phrase) + '"')
            else:
                terms.append(topic_word())
        if rng.random() < 0.3:
            terms.append("-" + text_word())
        try:
            subs.append((sub_id, parse_query(" ".join(terms))))
        except ValueError:  # e.g. a term both wanted and excluded: people get an error, the workload a retry
            subs.append((sub_id, parse_query(topic_word())))
    return subs, documents
