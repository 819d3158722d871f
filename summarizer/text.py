"""From raw input (plain text, HTML, or the sample format) to clean body text, title and date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MAX_INPUT_CHARS = 100_000  # news is front-loaded: past this, an enormous input is cut, with a notice

_SAMPLE_HEADER = re.compile(r"^ date (\d{4}-\d{2}-\d{2})(?:[ \t]+|\n|$)")
_ANY_TAG = re.compile(r"</?(?:[a-z][a-z0-9]*)\b[^<>]*>", re.I)
_HTML_TAG = re.compile(r"<(?:!doctype|html|head|body|article|p|div|h[1-6]|section|main)\b", re.I)  # a page, not a snippet

# Boilerplate that news pages wrap around the story.
_DATELINE = re.compile(  # "(CNN)", "Washington (CNN) -- ", "Omaha, Nebraska (the Heartland Project)When"
    r"^[^()\n]{0,60}?\((?:CNN[^)]{0,20}|AP|Reuters|AFP|[^()\n]{1,40}(?=\)[A-Z]))\)\s*(?:--|—|-)?\s*"
)
_BYLINE = re.compile(
    r"^\s*By\s+\.?\s*(?:[A-Z][\w'’.-]*\s*){1,4}(?:(?:and|,)\s*(?:[A-Z][\w'’.-]*\s*){1,4})*"
    r"(?:\s*\.\s*|\s+)(?=PUBLISHED|UPDATED|Last updated|Daily Mail|for [A-Z]|\|)"
    r"|^\s*By\s+\.?\s*[A-Z][A-Za-z'’ .-]{2,60}?\s*\.\s+(?=[A-Z])",  # "By . John Smith . The story..."
)
_TIMESTAMP = r"\d{1,2}:\d{2}(?:\s*[AP]M)?(?:\s*[A-Z]{2,4})?,?\s*(?:on\s*)?\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]+\s+\d{4}"
_STAMPS = re.compile(
    rf"\b(?:PUBLISHED|UPDATED|Last updated at)\s*:?\s*\.?\s*{_TIMESTAMP}[\s.|]*"
)
_FOR_OUTLET = re.compile(r"^\s*(?:for (?:MailOnline|The Daily Mail|Daily Mail Australia)|Daily Mail Reporter)\s*\.?\s*")
_FURNITURE = re.compile(
    r"\b(?:Scroll (?:down|up) (?:for|to (?:see|watch)) (?:the )?(?:videos?|footage)\b\s*\.?"
    r"|(?:CLICK HERE|READ MORE|RELATED)\s*:[^.!?\n]*(?:[.!?]|(?=\n)|$))",
    re.I,
)
_FOLLOW_LINE = re.compile(r"^(?:Follow @\w+.*|Sources?:.*|Share this article.*)$", re.I | re.M)

_ENGLISH_WORDS = frozenset(
    "the of and to a in is was for on that with as by at he it from his has have are be said this an "
    "they were not but who after its their been had will more would when which or about out up".split()
)


@dataclass(frozen=True)
class Document:
    body: str
    title: str | None = None
    published: date | None = None
    truncated: bool = False  # the input was longer than MAX_INPUT_CHARS


def read_document(raw: str) -> Document:
    """Body, title and date of a plain-text, HTML or sample-format input, without page furniture."""
    raw = raw.replace("\r\n", "\n").replace("\xa0", " ").lstrip("\ufeff")
    published = None
    header = _SAMPLE_HEADER.match(raw)
    if header:
        published = _parse_date(header.group(1))
        raw = raw[header.end():]
    title = None
    if looks_like_page(raw):
        raw, title, found = html_to_text(raw)
        published = published or found
    elif _ANY_TAG.search(raw):
        raw = inline_to_text(raw)
    truncated = len(raw) > MAX_INPUT_CHARS
    if truncated:
        raw = raw[:MAX_INPUT_CHARS].rsplit(" ", 1)[0]
    return Document(body=strip_furniture(raw), title=title, published=published, truncated=truncated)


def looks_like_page(raw: str) -> bool:
    """An HTML page or page-like fragment (block elements), not plain text or a snippet with inline tags."""
    return bool(_HTML_TAG.search(raw[:5000]))


def html_to_text(html: str) -> tuple[str, str | None, date | None]:
    """The main text of a page, its title and publication time, through the page reader every page takes;
    else (a fragment too small for trafilatura, such as a feed item's HTML) every block of text through lxml."""
    from summarizer.page import read_page

    page = read_page(html)
    return page.text or _lxml_text(html), page.title, page.published


def _lxml_text(html: str) -> str:
    import lxml.html

    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for element in tree.xpath("//script|//style|//noscript|//nav|//header|//footer"):
        element.drop_tree()
    blocks = (" ".join(block.text_content().split()) for block in tree.xpath("//p|//h1|//h2|//h3|//li|//td"))
    text = "\n".join(block for block in blocks if block)
    return text or " ".join(tree.text_content().split())


def inline_to_text(markup: str) -> str:
    """Text with inline tags only (a feed description with <b>, <a>, <br>): the words, entities decoded."""
    import lxml.html

    try:
        fragment = lxml.html.fragment_fromstring(re.sub(r"<br\s*/?>", "\n", markup, flags=re.I), create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return _ANY_TAG.sub(" ", markup)
    for element in fragment.xpath(".//script|.//style"):  # code, never words of the story
        element.drop_tree()
    return "\n".join(" ".join(line.split()) for line in fragment.text_content().split("\n"))


def strip_furniture(text: str) -> str:
    """Removes datelines, bylines, time stamps and 'Scroll down for video'-style fragments."""
    text = _FOLLOW_LINE.sub("", text).strip()
    head, tail = text[:600], text[600:]  # bylines and datelines only ever open a story
    for _ in range(2):  # "By X . PUBLISHED: ... | UPDATED: ..." then "(CNN)"
        head = _BYLINE.sub("", head, count=1)
        head = _STAMPS.sub(" ", head)
        head = _FOR_OUTLET.sub("", head, count=1)
        head = _DATELINE.sub("", head.lstrip(" .|"), count=1)
    text = _FURNITURE.sub(" ", head + tail)
    return re.sub(r"[ \t]+", " ", text).strip()


def looks_english(text: str) -> bool:
    """A cheap check: English prose is written in Latin letters and dense in a few very common words."""
    sample = "".join(text[:3000].split())
    if not sample:
        return True
    if len(sample.encode("ascii", "ignore")) / len(sample) < 0.8:  # mostly another script
        return False
    words = re.findall(r"[^\W\d_]+", text[:3000].lower())
    if len(words) < 8:
        return True  # too little to judge
    return sum(word in _ENGLISH_WORDS for word in words) / len(words) >= 0.12


def language_of(text: str) -> str:
    """The text's language as an ISO 639-1 code: "en" for what looks English (a cheap check that keeps the
    English path fast), else py3langid's guess; "und" (undetermined) when too short to tell."""
    if looks_english(text):
        return "en"
    from summarizer.languages import detect

    return detect(text) or "und"


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
