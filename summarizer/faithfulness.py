"""The faithfulness guard: a line a model wrote may only state numbers, dates, names and quotes that
the article itself has.

Everything is compared normalized: case folded, diacritics removed, thousands separators and leading
zeros ignored ("1,500", "1.500" and "1 500" are one number; "3,5" and "3.5" another), English number
words and month names count as their numbers. A line that fails is not repaired, it is dropped.
Links, @handles, #hashtags and markup are never accepted from a model, whatever the article says.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Languages that capitalize every noun: there a capital letter alone does not mark a name.
NOUN_CAPITALIZING = {"de", "lb"}

_NUMBER = re.compile(r"\d+(?:(?:[.,'’]\d+)|(?:[ \u00a0\u202f]\d{3}(?!\d)))*")
_DATE = re.compile(r"\b\d{1,4}([./-])\d{1,2}\1\d{1,4}\b")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;]\s+|[\"“„«»(\[]\s*)$")
_QUOTES = [re.compile(pattern) for pattern in (r"“([^”]{2,}?)”", r"„([^“”]{2,}?)[“”]", r"«\s*([^»]{2,}?)\s*»",
                                               r"»([^«]{2,}?)«", r"\"([^\"]{2,}?)\"", r"(?<!\w)‘([^’]{2,}?)’(?!\w)")]
_FORBIDDEN = re.compile(r"https?://|www\.|\b[\w.-]+\.(?:com|org|net|io|ly)\b|(?<!\w)[@#][\w-]|<|>|\]\(", re.I)

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
}
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]


def fold(text: str) -> str:
    """Case folded, without diacritics, compatibility forms unified (ﬁ -> fi, full-width digits)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def number_readings(token: str) -> set[str]:
    """The values a written number can mean: "1,500" is 1500 (thousands) or 1.5 (a decimal comma)."""
    parts = re.split(r"[.,'’ \u00a0\u202f]", token)
    readings = set()
    if len(parts) == 1 or all(len(part) == 3 for part in parts[1:]):
        readings.add(_canonical("".join(parts)))
    if len(parts) > 1:
        readings.add(_canonical("".join(parts[:-1]) + "." + parts[-1]))
    return readings


def _canonical(number: str) -> str:
    whole, _, fraction = number.partition(".")
    whole = whole.lstrip("0") or "0"
    fraction = fraction.rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


@dataclass(frozen=True)
class ArticleFacts:
    """What the guard compares against, computed once per article."""

    words: frozenset[str]
    text: str  # folded words joined by single spaces, for quotes and compound words
    numbers: frozenset[str]

    @classmethod
    def of(cls, article: str) -> ArticleFacts:
        folded = fold(article)
        words = _WORD.findall(folded)
        numbers: set[str] = set()
        for match in _DATE.finditer(folded):  # 4.3.2025 is also 4 March 2025
            numbers |= {_canonical(part) for part in re.split(r"\D+", match.group(0))}
        for match in _NUMBER.finditer(folded):
            numbers |= number_readings(match.group(0))
            if re.search(r"[ \u00a0\u202f]", match.group(0)):  # "in 2024 200 people" may be two numbers
                numbers |= {_canonical(part) for part in re.split(r"\D+", match.group(0))}
        for word in words:
            if word in _NUMBER_WORDS:
                numbers.add(str(_NUMBER_WORDS[word]))
            if word in _MONTHS:
                numbers.add(str(_MONTHS.index(word) + 1))
        return cls(words=frozenset(words), text=" " + " ".join(_plain_words(folded)) + " ",
                   numbers=frozenset(numbers))


def unsupported(line: str, facts: ArticleFacts, *, language: str | None = None) -> list[str]:
    """What in `line` the article does not support (empty when the line may be shown)."""
    problems = []
    if _FORBIDDEN.search(line):
        problems.append("a link, handle or markup")
    problems += [f"number {number}" for number in _numbers_of(line) if not _supported_number(number, facts)]
    problems += [f"name {name}" for name in _names_of(line, language) if not _supported_word(fold(name), facts)]
    problems += [f"quote {quote!r}" for quote in _quotes_of(line) if not _supported_quote(quote, facts)]
    return problems


def _numbers_of(line: str) -> list[str]:
    """Each number in the line; a date like 4.3.2025 or 2025-03-04 as its three parts."""
    found: list[str] = []
    rest = line
    for match in _DATE.finditer(line):
        found += re.split(r"\D+", match.group(0))
        rest = rest.replace(match.group(0), " ")
    return found + [match.group(0) for match in _NUMBER.finditer(fold(rest))]


def _supported_number(number: str, facts: ArticleFacts) -> bool:
    return bool(number_readings(number) & facts.numbers)


def _names_of(line: str, language: str | None) -> list[str]:
    """Words that look like names: capitalized away from a sentence's start, or an acronym or a
    mixed-case word anywhere. Where every noun is capitalized (German), a lone capitalized word is
    no sign of a name: only runs of two or more, acronyms and mixed-case words count there."""
    candidates: list[tuple[int, int, str, bool]] = []  # (start, end, word, strong sign)
    for match in _WORD.finditer(line):
        word = match.group(0)
        letters = [ch for ch in word if ch.isalpha()]
        if len(letters) < 2 or not letters[0].isupper():
            continue
        strong = sum(ch.isupper() for ch in letters) > 1  # NASA, McDonald, iPhone's "P" aside
        if not strong and _SENTENCE_START.search(line[:match.start()]):
            continue
        candidates.append((match.start(), match.end(), word, strong))
    if language not in NOUN_CAPITALIZING:
        return [word for _, _, word, _ in candidates]
    names = []
    for index, (start, end, word, strong) in enumerate(candidates):
        before = candidates[index - 1] if index else None
        after = candidates[index + 1] if index + 1 < len(candidates) else None
        in_run = (before is not None and line[before[1]:start].strip() == "") or \
                 (after is not None and line[end:after[0]].strip() == "")
        if strong or in_run:
            names.append(word)
    return names


def _supported_word(word: str, facts: ArticleFacts) -> bool:
    if word in facts.words:
        return True
    # Inflected (Merkels, Berliner) or part of a compound word of the article (Regierung, Bundesregierung).
    if len(word) >= 4 and f" {word}" in facts.text or (len(word) >= 5 and word in facts.text):
        return True
    return any(word[:cut] in facts.words for cut in range(max(4, len(word) - 3), len(word)))


def _quotes_of(line: str) -> list[str]:
    return [match.group(1) for pattern in _QUOTES for match in pattern.finditer(line)]


def _supported_quote(quote: str, facts: ArticleFacts) -> bool:
    words = _plain_words(fold(quote))
    return not words or f" {' '.join(words)} " in facts.text


def _plain_words(folded: str) -> list[str]:
    return re.findall(r"\w+", folded)
