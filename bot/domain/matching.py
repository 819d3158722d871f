"""Keyword alert subscriptions: a small query language and an index that matches many queries at once.

Query syntax (what people type after /subscribe):
    climate                  a word; whole words only ("art" does not match "party")
    north korea              several terms: all must appear (AND), anywhere
    "North Korea"            a phrase: the words in this order, adjacent
    North-Korea              punctuation inside a term makes it a phrase too (= "north korea")
    -sports  -"premier league"  exclusions: no alert if the text has them (also NOT sports)
Case-insensitive, NFKC-normalised ("ｆｕｌｌ" = "full", "ﬁ" = "fi", "Straße" = "strasse"); accents count
unless the index is built with fold_accents=True ("zurich" then matches "Zürich").
Chinese, Japanese, Korean, Thai, Lao, Khmer, Myanmar and Tibetan are written without spaces between
words, so there each character is a token and a term matches as a substring: "東京" matches "東京都".
Smart quotes from phone keyboards count as quotes; an unclosed quote runs to the end of the text.
Uppercase OR is refused (subscribe twice instead); uppercase AND is redundant and ignored.

Text and queries are split into tokens the same way: runs of letters and digits (with their
combining marks), split at everything else. Matching works on tokens, never on raw substrings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import chain, groupby
from typing import Generic, TypeVar

from bot.i18n import lazy

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
# The canonical form is what gets stored; NFKC can expand characters (one "ﷺ" becomes 18), so it is capped too.
MAX_NORMALIZED_LENGTH = 500

K = TypeVar("K", bound=Hashable)

# Scripts written without spaces between words: one token per character (with its marks).
_UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u0f00-\u0fff"  # Tibetan
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3005-\u3007\u3021-\u3029\u3038-\u303b"  # ideographic iteration marks and numerals
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31f0-\u31ff"  # Katakana extensions
    "\u3400-\u4dbf\u4e00-\u9fff"  # CJK ideographs
    "\ua960-\ua97f\uac00-\ud7ff"  # Hangul
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B-H
)
_QUOTES = "\"“”„‟«»❝❞"
_DASHES = "-−–—"  # a leading one of these excludes the term


@cache
def _token_pattern() -> re.Pattern[str]:
    """Letters/digits with their combining marks; unspaced scripts one character at a time.

    Built on first use: listing the combining marks scans the Unicode database once (a few hundredths of a second).
    """
    codes = [c for c in chain(range(0x20000), range(0xE0100, 0xE01F0)) if unicodedata.category(chr(c))[0] == "M"]
    ranges = []
    for _, run in groupby(enumerate(codes), lambda pair: pair[1] - pair[0]):  # consecutive code points
        members = [code for _, code in run]
        ranges.append(f"{re.escape(chr(members[0]))}-{re.escape(chr(members[-1]))}")
    mark = f"[{''.join(ranges)}]"
    unspaced_char = f"(?=[^\\W_])[{_UNSPACED}]"
    word_char = f"(?![{_UNSPACED}])[^\\W_]"
    return re.compile(f"{unspaced_char}{mark}*|{word_char}(?:{word_char}|{mark})*")


_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")


def normalize_text(text: str, fold_accents: bool = False) -> str:
    """NFKC + casefold (+ accents removed when asked): the form both queries and texts are compared in."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    if fold_accents:
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize("NFC", "".join(c for c in decomposed if not "\u0300" <= c <= "\u036f"))
    return text


def tokenize(text: str, fold_accents: bool = False) -> list[str]:
    return _token_pattern().findall(normalize_text(text, fold_accents))


class QueryError(ValueError):
    """A query that cannot be used; the message is meant for the person who typed it."""


@dataclass(frozen=True, order=True)
class Term:
    """A word (one token) or a phrase (several adjacent tokens), normalised."""

    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        """Tokens joined by spaces, except between characters of unspaced scripts ("東京", "north korea")."""
        out = self.tokens[0]
        for before, token in zip(self.tokens, self.tokens[1:], strict=False):
            glue = "" if _UNSPACED_CHAR.match(before[-1]) and _UNSPACED_CHAR.match(token[0]) else " "
            out += glue + token
        return out

    @property
    def canonical(self) -> str:
        return f'"{self.text}"' if " " in self.text else self.text

    def contains(self, other: Term) -> bool:
        n = len(other.tokens)
        return any(self.tokens[i:i + n] == other.tokens for i in range(len(self.tokens) - n + 1))


@dataclass(frozen=True)
class Query:
    """Terms that must all appear, and terms that must not. Equal queries have equal `normalized`."""

    required: tuple[Term, ...]  # sorted, distinct
    excluded: tuple[Term, ...]  # sorted, distinct
    display: str = field(compare=False)  # as typed, tidied: original case and order

    @cached_property
    def normalized(self) -> str:
        """The canonical string: stored, and compared by /unsubscribe. parse_query() of it gives this query."""
        return " ".join([t.canonical for t in self.required] + [f"-{t.canonical}" for t in self.excluded])

    def matches(self, text: str, fold_accents: bool = False) -> bool:
        """This one query against one text; use SubscriptionIndex for many queries."""
        compiled = _CompiledQuery.of(self, fold_accents)
        return compiled.matches(_Document(tokenize(text, fold_accents)))

    def __str__(self) -> str:
        return self.display


def normalized(query: str | Query) -> str:
    """The canonical form of a query (parsed first when given as text)."""
    return (parse_query(query) if isinstance(query, str) else query).normalized


def parse_query(text: str) -> Query:
    """Parse what someone typed; raise QueryError with an explanation when it cannot be used."""
    text = text.strip()
    if not text:
        raise QueryError(lazy('The query is empty. Give at least one word to look for, e.g. climate or "North Korea".'))
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(lazy("The query is too long ({length} characters); at most {limit}, please.",
                              length=len(text), limit=MAX_QUERY_LENGTH))

    required: dict[Term, str] = {}
    excluded: dict[Term, str] = {}
    shown: list[str] = []
    negate_next = False
    for surface, quoted, negated in _split_terms(text):
        if not quoted and not negated and surface == "OR":
            raise QueryError(lazy("OR is not supported: all words must match. Subscribe to each alternative "
                                  "separately."))
        if not quoted and not negated and surface in ("AND", "NOT"):
            negate_next = surface == "NOT"
            continue
        negated, negate_next = negated or negate_next, False
        tokens = tuple(tokenize(surface))
        if not tokens:
            continue  # punctuation only
        term = Term(tokens)
        target = excluded if negated else required
        if term in target:
            continue
        target[term] = surface
        written = f'"{surface}"' if quoted or (len(tokens) > 1 and " " in surface) else surface
        shown.append(f"-{written}" if negated else written)

    if not required:
        if excluded:
            raise QueryError(lazy("The query only excludes words (-word). Add at least one word to look for."))
        raise QueryError(lazy("The query has no words to look for (only punctuation?)."))
    if len(required) + len(excluded) > MAX_TERMS:
        raise QueryError(lazy("The query has {count} terms; at most {limit}, please.",
                              count=len(required) + len(excluded), limit=MAX_TERMS))
    for term in excluded:
        clash = next((r for r in required if r.contains(term)), None)
        if clash is not None:
            raise QueryError(lazy('"{term}" is both wanted (in "{wanted}") and excluded, so the query could never '
                                  "match.", term=excluded[term], wanted=required[clash]))
    query = Query(tuple(sorted(required)), tuple(sorted(excluded)), " ".join(shown))
    if len(query.normalized) > MAX_NORMALIZED_LENGTH:
        raise QueryError(lazy("The query is too long once normalised (some characters expand); please shorten it."))
    return query


def _split_terms(text: str) -> Iterable[tuple[str, bool, bool]]:
    """(surface, quoted, negated) for each term, in order."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negated = text[i] in _DASHES and i + 1 < n and not text[i + 1].isspace()
        if negated:
            i += 1
        if text[i] in _QUOTES:
            end = next((j for j in range(i + 1, n) if text[j] in _QUOTES), n)  # lenient: unclosed runs to the end
            yield text[i + 1:end].strip(), True, negated
            i = end + 1
        else:
            end = next((j for j in range(i, n) if text[j].isspace()), n)
            yield text[i:end], False, negated
            i = end


# ----- matching ------------------------------------------------------------------------------------

class _Document:
    """A text tokenized once: its set of tokens, and where each occurs (to test phrases quickly)."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.positions: dict[str, list[int]] = defaultdict(list)
        for position, token in enumerate(tokens):
            self.positions[token].append(position)
        self.words = set(self.positions)

    def lookup_keys(self) -> set[str | tuple[str, str]]:
        """Every token and every adjacent pair: what the index looks subscriptions up by."""
        return self.words | set(zip(self.tokens, self.tokens[1:], strict=False))

    def has_phrase(self, tokens: tuple[str, ...]) -> bool:
        n = len(tokens)
        return any(tuple(self.tokens[p:p + n]) == tokens for p in self.positions.get(tokens[0], ()))


@dataclass(frozen=True)
class _CompiledQuery:
    """A query split for speed: single words are checked as sets, phrases by position."""

    words: frozenset[str]
    phrases: tuple[tuple[str, ...], ...]
    excluded_words: frozenset[str]
    excluded_phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, query: Query, fold_accents: bool) -> _CompiledQuery:
        def fold(terms: tuple[Term, ...]) -> list[tuple[str, ...]]:
            if not fold_accents:
                return [t.tokens for t in terms]
            return [tuple(normalize_text(token, True) for token in t.tokens) for t in terms]

        required, excluded = fold(query.required), fold(query.excluded)
        return cls(frozenset(t[0] for t in required if len(t) == 1), tuple(t for t in required if len(t) > 1),
                   frozenset(t[0] for t in excluded if len(t) == 1), tuple(t for t in excluded if len(t) > 1))

    def decided_by(self, key: str | tuple[str, str]) -> bool:
        """True for a one-word query without exclusions: finding its word is the whole check."""
        return self.words == {key} and not (self.phrases or self.excluded_words or self.excluded_phrases)

    def matches(self, document: _Document) -> bool:
        return (
            self.words <= document.words
            and all(document.has_phrase(p) for p in self.phrases)
            and self.excluded_words.isdisjoint(document.words)
            and not any(document.has_phrase(p) for p in self.excluded_phrases)
        )

    def key(self) -> str | tuple[str, str]:
        """The lookup key least likely to be in an arbitrary text: an adjacent pair from a phrase when there
        is one, else the longest word. (Longer keys are rarer; the choice only affects speed, not results.)"""
        candidates: list[str | tuple[str, str]] = list(self.words)
        for tokens in self.phrases:
            candidates.extend(zip(tokens, tokens[1:], strict=False))

        def rarity(key: str | tuple[str, str]) -> tuple[int, str]:
            chars = len(key) if isinstance(key, str) else len(key[0]) + len(key[1]) + 3
            return chars, str(key)

        return max(candidates, key=rarity)


class SubscriptionIndex(Generic[K]):
    """Many subscriptions compiled once; `match(text)` tokenizes the text once and checks only candidates.

    Each distinct query is filed under one key (see _CompiledQuery.key); a text's tokens and token pairs
    select the queries worth checking. Subscriptions sharing a query are checked once.
    """

    def __init__(self, subscriptions: Iterable[tuple[K, Query]], *, fold_accents: bool = False) -> None:
        self.fold_accents = fold_accents
        self._queries: list[_CompiledQuery] = []
        self._subscribers: list[list[K]] = []
        # Per key: (query number, True when the key alone decides: a one-word query without exclusions).
        self._by_key: dict[str | tuple[str, str], list[tuple[int, bool]]] = defaultdict(list)
        number_of: dict[Query, int] = {}
        for sub_id, query in subscriptions:
            number = number_of.get(query)
            if number is None:
                number = number_of[query] = len(self._queries)
                compiled = _CompiledQuery.of(query, fold_accents)
                key = compiled.key()
                self._queries.append(compiled)
                self._subscribers.append([])
                self._by_key[key].append((number, compiled.decided_by(key)))
            self._subscribers[number].append(sub_id)
        self._size = sum(len(ids) for ids in self._subscribers)

    def __len__(self) -> int:
        return self._size

    def match(self, text: str) -> set[K]:
        """The ids of every subscription whose query matches `text`."""
        document = _Document(tokenize(text, self.fold_accents))
        matched: set[K] = set()
        by_key, queries, subscribers = self._by_key, self._queries, self._subscribers
        for key in document.lookup_keys():
            for number, key_decides in by_key.get(key, ()):
                if key_decides or queries[number].matches(document):
                    matched.update(subscribers[number])
        return matched
