"""Reading a model's answer: the JSON brief it was asked for, wherever it put it.

Servers without structured output wrap JSON in prose or code fences, reasoning models think aloud in
<think> blocks first, and an answer cut at the token limit ends mid-string: the complete points are
kept from that. An answer with no JSON at all is read as a bulleted list.
"""

from __future__ import annotations

import json
import re

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_ITEM = re.compile(r'[\s,]*"((?:[^"\\]|\\.)*)"')
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+(.+)$")
_MARKDOWN = re.compile(r"\*\*|__|`")
POINT_KEYS = ("points", "key_points", "bullets", "summary", "highlights")
HEADLINE_KEYS = ("headline", "title")


class ReplyError(ValueError):
    """The answer holds no brief."""


def parse_reply(text: str) -> tuple[str | None, list[str]]:
    """(headline or None, points) from a model's answer; ReplyError when there are no points."""
    text = _THINK.sub("", text or "").strip()
    for candidate in _json_objects(text):
        brief = _from_object(candidate)
        if brief is not None:
            return brief
    salvaged = _salvage_truncated(text)
    if salvaged is not None:
        return salvaged
    bullets = [_clean(match.group(1)) for line in text.splitlines() if (match := _BULLET.match(line))]
    bullets = [point for point in bullets if point]
    if bullets:
        return None, bullets
    raise ReplyError("the answer holds no JSON brief and no list of points")


def _json_objects(text: str):
    """Every JSON object that parses, starting at each "{" in turn (prose and fences around it are skipped)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            yield value


def _from_object(value: dict) -> tuple[str | None, list[str]] | None:
    points = next((value[key] for key in POINT_KEYS if isinstance(value.get(key), list)), None)
    if points is None:
        return None
    cleaned = [_clean(_point_text(point)) for point in points]
    cleaned = [point for point in cleaned if point]
    if not cleaned:
        return None
    headline = next((value[key] for key in HEADLINE_KEYS if isinstance(value.get(key), str)), None)
    return (_clean(headline) or None) if headline else None, cleaned


def _point_text(point: object) -> str:
    if isinstance(point, str):
        return point
    if isinstance(point, dict):  # {"text": ...} or {"point": ...}
        return next((str(v) for k, v in point.items() if k in ("text", "point", "content") and isinstance(v, str)), "")
    return ""


def _salvage_truncated(text: str) -> tuple[str | None, list[str]] | None:
    """The complete strings of a "points" array whose answer was cut off before the array closed."""
    start = re.search(r'"(?:%s)"\s*:\s*\[' % "|".join(POINT_KEYS), text)
    if start is None:
        return None
    points = []
    position = start.end()
    while match := _ITEM.match(text, position):  # an unterminated last string does not match
        try:
            points.append(_clean(json.loads(f'"{match.group(1)}"')))
        except ValueError:
            break
        position = match.end()
    headline_match = re.search(r'"(?:headline|title)"\s*:\s*"((?:[^"\\]|\\.)*)"', text)
    headline = None
    if headline_match:
        try:
            headline = _clean(json.loads(f'"{headline_match.group(1)}"')) or None
        except ValueError:
            headline = None
    points = [point for point in points if point]
    return (headline, points) if points else None


def _clean(text: str) -> str:
    text = _MARKDOWN.sub("", text)
    text = re.sub(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+", "", text)
    return " ".join(text.split())
