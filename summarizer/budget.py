"""Headlines and the length budget of a brief."""

from __future__ import annotations

HEADLINE_MAX_CHARS = 110
ELLIPSIS = "…"


def headline_from(sentence: str, limit: int = HEADLINE_MAX_CHARS) -> str:
    """A one-line headline from a sentence: cut at a clause break that falls late enough, else at a word."""
    line = " ".join(sentence.split()).rstrip(".;:, ")
    if len(line) <= limit:
        return line
    window = line[:limit]
    for mark in (" - ", " – ", " — ", "; ", ": ", ", ", " as ", " after ", " because ", " while ", " when "):
        cut = window.rfind(mark)
        if cut >= limit // 2:
            return line[:cut].rstrip(".;:, ")
    return shorten(line, limit)


def shorten(text: str, limit: int) -> str:
    """Text cut to at most `limit` characters on a word boundary, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 0)
    cut = text[:room + 1]
    if not cut[-1:].isspace() and " " in cut:
        cut = cut[:cut.rfind(" ")]
    cut = _without_trailing_punctuation(cut[:room])
    return f"{cut}{ELLIPSIS}" if cut else text[:room] + ELLIPSIS


def _without_trailing_punctuation(text: str) -> str:
    # A loop, not re.sub(r"[\s,;:-]+$"): that pattern rescans a long run of spaces from each of them.
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in ",;:-–—"):
        end -= 1
    return text[:end]


def fit_budget(headline: str, points: list[str], salience: list[int], max_chars: int) -> tuple[str, list[str]]:
    """Headline and points whose lengths add up to at most `max_chars`.

    Whole points go first, least salient first (`salience` lists point indexes, most salient first); then
    the last remaining point is shortened on a word boundary. The headline keeps at most half the budget.
    """
    headline = shorten(headline, max(max_chars // 2, 1))
    room = max_chars - len(headline)
    kept = list(range(len(points)))
    drop_order = [index for index in reversed(salience) if index in kept]
    while len(kept) > 1 and sum(len(points[i]) for i in kept) > room:
        kept.remove(drop_order.pop(0))
    fitted = [points[i] for i in kept]
    if fitted and sum(map(len, fitted)) > room:
        fitted[-1] = shorten(fitted[-1], room - sum(map(len, fitted[:-1])))
    return headline, [point for point in fitted if point.strip(ELLIPSIS)]
