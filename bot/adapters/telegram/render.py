"""A neutral `Message` as Telegram HTML, split into parts under Telegram's 4,096-character limit.

Every outside string (headlines, points, labels, URLs) is plain text that is escaped here, so the
markup is ours alone. Splitting works on that plain text *before* escaping: a cut can never land
inside a tag or an entity. Parts are measured as the HTML we send, in UTF-16 units: that is never
less than what Telegram counts (the text after entity parsing), so every part is accepted.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.domain.actions import ButtonRows
from bot.domain.models import BriefItem, Link, Message
from bot.domain.render import published_label

MAX_MESSAGE_CHARS = 4096
MAX_ANCHOR_URL_CHARS = 2048  # a longer "URL" is shown as text, never as a link
_WORDS = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class TelegramPart:
    """One Telegram message: HTML text, the link to preview (None: previews off), and the buttons under
    it (a message's buttons go under its last part)."""

    html: str
    preview_url: str | None = None
    buttons: ButtonRows = ()


@dataclass(frozen=True)
class Span:
    """Plain text, optionally bold, italic or a link; rendered escaped."""

    text: str
    tag: str | None = None  # "b" or "i"
    href: str | None = None

    def open(self) -> str:
        if self.href is not None:
            return f'<a href="{html.escape(self.href, quote=True)}">'
        return f"<{self.tag}>" if self.tag else ""

    def close(self) -> str:
        if self.href is not None:
            return "</a>"
        return f"</{self.tag}>" if self.tag else ""

    def render(self) -> str:
        return self.open() + html.escape(self.text, quote=True) + self.close()


Line = list[Span]
Paragraph = list[Line]


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc) and len(url) <= MAX_ANCHOR_URL_CHARS


# ----- message -> paragraphs of spans ----------------------------------------------------------

def _text_paragraphs(text: str, tag: str | None = None) -> list[Paragraph]:
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block.strip()]
    return [[[Span(line, tag)] for line in block.split("\n")] for block in blocks]


def _link_spans(links: list[Link]) -> Line:
    spans: Line = []
    for link in links:
        if spans:
            spans.append(Span(" · "))
        label = link.label.strip() or link.url
        if is_web_url(link.url):
            spans.append(Span(label, href=link.url))
        else:
            spans.append(Span(f"{label} ({link.url})" if link.url and link.url != label else label))
    return spans


def _item_paragraph(item: BriefItem, timezone: str | None, language: str | None = None) -> Paragraph:
    paragraph: Paragraph = [[Span(item.headline, "b")]]
    paragraph += [[Span(f"• {point}")] for point in item.points]
    last = _link_spans(item.links)
    if date := published_label(item.published, timezone, language):
        last += [Span(" · "), Span(date, "i")] if last else [Span(date, "i")]
    if last:
        paragraph.append(last)
    return paragraph


def paragraphs(message: Message) -> list[Paragraph]:
    result: list[Paragraph] = []
    if message.heading:
        result.append([[Span(message.heading, "b")]])
    if message.text:
        result += _text_paragraphs(message.text)
    result += [_item_paragraph(item, message.timezone, message.language) for item in message.items]
    if message.footer:
        result += _text_paragraphs(message.footer, "i")
    return result


def _render_line(line: Line) -> str:
    return "".join(span.render() for span in line)


def _render_paragraph(paragraph: Paragraph) -> str:
    return "\n".join(_render_line(line) for line in paragraph)


# ----- splitting -------------------------------------------------------------------------------

def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    """Greedily join rendered pieces (each within `limit`) into as few chunks as fit."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    gap = units(separator)
    for piece in pieces:
        piece_size = units(piece)
        if current and size + gap + piece_size <= limit:
            current.append(piece)
            size += gap + piece_size
        else:
            if current:
                chunks.append(separator.join(current))
            current, size = [piece], piece_size
    if current:
        chunks.append(separator.join(current))
    return chunks


def _escaped_units(text: str) -> int:
    return units(html.escape(text, quote=True))


def _split_span_text(span: Span, limit: int) -> list[Span]:
    """A span's text cut into spans that each render within `limit`: at spaces, else anywhere.

    Escaping works character by character, so the escaped size of a text is the sum of its pieces'.
    """
    if units(span.render()) <= limit:
        return [span]
    if span.href is not None and units(span.open() + span.close()) * 2 > limit:
        span = Span(f"{span.text} ({span.href})")  # absurdly long href: show it as text
    room = limit - units(span.open() + span.close())
    pieces: list[Span] = []
    current, size = "", 0
    for word in _WORDS.findall(span.text):
        for cut in _hard_cuts(word, room):
            cut_size = _escaped_units(cut)
            if current and size + cut_size > room:
                pieces.append(Span(current, span.tag, span.href))
                current, size = "", 0
            current, size = current + cut, size + cut_size
    if current:
        pieces.append(Span(current, span.tag, span.href))
    return pieces


def _hard_cuts(word: str, room: int) -> list[str]:
    """A word longer than the room, cut between characters (escaping happens per cut)."""
    if _escaped_units(word) <= room:
        return [word]
    cuts: list[str] = []
    current, size = "", 0
    for char in word:
        char_size = _escaped_units(char)
        if current and size + char_size > room:
            cuts.append(current)
            current, size = "", 0
        current, size = current + char, size + char_size
    return cuts + [current] if current else cuts


def _split_line(line: Line, limit: int) -> list[str]:
    rendered = _render_line(line)
    if units(rendered) <= limit:
        return [rendered]
    spans = [piece for span in line for piece in _split_span_text(span, limit)]
    return _pack([span.render() for span in spans], "", limit)


def _split_paragraph(paragraph: Paragraph, limit: int) -> list[str]:
    rendered = _render_paragraph(paragraph)
    if units(rendered) <= limit:
        return [rendered]
    lines = [piece for line in paragraph for piece in _split_line(line, limit)]
    return _pack(lines, "\n", limit)


def split_html(blocks: list[Paragraph], limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Paragraphs packed into parts within `limit`; an oversized paragraph is cut at lines, then words."""
    pieces = [piece for paragraph in blocks for piece in _split_paragraph(paragraph, limit)]
    return _pack(pieces, "\n\n", limit)


def _preview_url(message: Message) -> str | None:
    """Preview the article only when the message is about one story; a digest would get a random one."""
    if len(message.items) != 1:
        return None
    return next((link.url for link in message.items[0].links if is_web_url(link.url)), None)


def render_message(message: Message, limit: int = MAX_MESSAGE_CHARS) -> list[TelegramPart]:
    texts = split_html(paragraphs(message), limit)
    preview = _preview_url(message)
    last = len(texts) - 1
    return [TelegramPart(text, preview if index == 0 else None, message.buttons if index == last else ())
            for index, text in enumerate(texts)]
