"""Small, linear-time readings of untrusted HTML: its text, its <link> tags, absolute http(s) URLs.

Each pattern also matches up to the end of the input when the closing part is missing, so that
a hostile run of unclosed tags is consumed in one pass instead of rescanned from every "<"
(Python's html.parser takes minutes on such input).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

_HIDDEN = re.compile(r"<(script|style|template)\b.*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE)
_TAG = re.compile(r"<[^>]*(?:>|\Z)")
_LINK_TAG = re.compile(r"<link\b[^>]*(?:>|\Z)", re.IGNORECASE)
# A name starts only where a run of name characters starts: without the look-behind, a long run with no
# "=" would be rescanned from each of its characters (quadratic: 100,000 characters took a minute).
_ATTRIBUTE = re.compile(r"""(?<![\w:-])([\w:-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
_SPACE = re.compile(r"\s+")
MAX_URL_CHARS = 2048


def plain_text(markup: str | None) -> str:
    """Text of a snippet of HTML or text: tags, scripts and styles removed, entities decoded,
    whitespace folded."""
    if not markup:
        return ""
    text = _TAG.sub(" ", _HIDDEN.sub(" ", markup)) if "<" in markup else markup
    return _SPACE.sub(" ", html.unescape(text)).strip()


def link_tags(page: str) -> Iterator[dict[str, str]]:
    """The attributes (names lower-cased, values unescaped) of each <link> tag, in page order."""
    for tag in _LINK_TAG.finditer(page):
        yield {name.lower(): html.unescape(value.strip("\"'")) for name, value in _ATTRIBUTE.findall(tag.group(0))}


def http_url(value: object, base: str) -> str | None:
    """`value` made absolute against `base`, when it is an http(s) URL of sane length; else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(absolute) > MAX_URL_CHARS:
        return None
    return absolute
