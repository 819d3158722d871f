"""The main text of a web page, through the summarizer's page reader (the one every page takes).

    page = extract_page(result.content, url=result.url, content_type=result.content_type)
    page.title, page.date, page.text, page.canonical_url

Hostile HTML is bounded before parsing (scripts and styles cut out with a linear scan, the rest
capped: see `summarizer.page`); so is the main text kept (MAX_TEXT_CHARS), and invisible controls are
removed from it (bot.domain.neutral). Parsing is CPU work: an async caller should run it in a thread
(`await asyncio.to_thread(extract_page, ...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.neutral import neutral_text
from bot.sources.markup import http_url, link_tags
from summarizer.page import MAX_HTML_BYTES, read_page

MIN_TEXT_CHARS = 100
MAX_TEXT_CHARS = 200_000  # of the main text kept (and stored); a long article is 50,000


class PageError(Exception):
    """A page with no main text to read; `reason` is a short machine code, `str()` a message.

    Reasons: no_text.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PageContent:
    title: str | None  # the story's title, without the site's name; None when the page has only labels
    date: datetime | None  # publication time, UTC, aware (midnight UTC when only the day is known)
    text: str  # the main text, paragraphs separated by newlines
    canonical_url: str | None  # <link rel="canonical"> or og:url, absolute http(s)
    author: str | None = None
    site_name: str | None = None


def extract_page(html: bytes | str, *, url: str | None, content_type: str | None = None,
                 max_bytes: int = MAX_HTML_BYTES, min_chars: int = MIN_TEXT_CHARS) -> PageContent:
    """Extract a page's main text, title, date and canonical URL.

    Bytes are best: the character set is read from `content_type` (the HTTP header), the page itself, or
    detected. `url` is where the page was fetched from (None for a saved file). Raises PageError when there is no main text of at least `min_chars` characters (an empty
    page, a script-only shell, a cookie wall...).
    """
    raw = html.encode("utf-8") if isinstance(html, str) else html
    page = read_page(raw, url=url, content_type=content_type, max_bytes=max_bytes)
    text = neutral_text(page.text.strip())[:MAX_TEXT_CHARS]
    if len(text) < min_chars:
        raise PageError("no_text", "no article text found on the page" if not text
                        else f"the page's text is too short to be an article ({len(text)} characters)")
    return PageContent(title=_clean(page.title), date=page.published, text=text,
                       canonical_url=_canonical_url(raw[:max_bytes], url, page.url), author=_clean(page.author),
                       site_name=_clean(page.site_name))


def _canonical_url(page: bytes, url: str | None, metadata_url: str | None) -> str | None:
    """<link rel="canonical">, else og:url as trafilatura read it (it falls back on `url` itself)."""
    head = page[:1_000_000].decode("utf-8", "replace")
    for attrs in link_tags(head):
        if "canonical" in attrs.get("rel", "").lower().split() and (found := http_url(attrs.get("href"), url or "")):
            return found
    found = http_url(metadata_url, url or "")
    return found if found != url else None


def _clean(value: str | None) -> str | None:
    return neutral_text(" ".join(value.split()))[:500] or None if value else None
