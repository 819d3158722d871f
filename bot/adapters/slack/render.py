"""A neutral `Message` as Slack Block Kit messages ("parts"), within Slack's limits.

Every outside string (headings, headlines, points, feed names, what people typed) is escaped (its
formatting characters too: see markup.escape_formatting), and
every mrkdwn text object is `verbatim`, so Slack neither parses a mention nor auto-links anything in
it: the only links are the `<url|label>` ones written here. A message too big for one Slack message
becomes several parts, each with a plain `text` fallback for notifications and old clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.markup import escape, escape_formatting, escape_text, link, split_text, truncate
from bot.domain.models import BriefItem, Message
from bot.domain.render import published_label

MAX_BLOCKS = 50  # blocks in one message
MAX_SECTION_CHARS = 3000  # text of a section block or a context element
MAX_HEADER_CHARS = 150  # plain text of a header block
# Slack rejects messages whose blocks hold much more text than this (msg_blocks_too_long); stay under it.
MAX_PART_CHARS = 12_000
MAX_FALLBACK_CHARS = 3000


@dataclass(frozen=True)
class _Block:
    block: dict[str, Any]
    text: str  # its mrkdwn, for the fallback and the size budget


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _header(heading: str) -> _Block:
    text = truncate(escape(" ".join(heading.split())), MAX_HEADER_CHARS)
    return _Block({"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}},
                  f"*{escape_formatting(text)}*")  # plain_text formats nothing; the mrkdwn fallback would


def _sections(text: str) -> list[_Block]:
    return [_Block({"type": "section", "text": _mrkdwn(piece)}, piece)
            for piece in split_text(text, MAX_SECTION_CHARS)]


def _contexts(text: str) -> list[_Block]:
    return [_Block({"type": "context", "elements": [_mrkdwn(piece)]}, piece)
            for piece in split_text(text, MAX_SECTION_CHARS)]


def item_mrkdwn(item: BriefItem, timezone: str | None = None, language: str | None = None) -> str:
    lines = [f"*{escape_text(item.headline)}*"]
    lines += [f"• {escape_text(point)}" for point in item.points]
    last = [link(entry.url, entry.label) for entry in item.links]
    if date := published_label(item.published, timezone, language):
        last.append(f"_{escape(date)}_")
    if last:
        lines.append(" · ".join(last))
    return "\n".join(lines)


def _blocks(message: Message) -> list[_Block]:
    blocks: list[_Block] = []
    if message.heading:
        blocks.append(_header(message.heading))
    if message.text:
        blocks += _sections(escape_text(message.text))
    for item in message.items:
        blocks += _sections(item_mrkdwn(item, message.timezone, message.language))
    if message.footer:
        blocks += _contexts(escape_text(message.footer))
    return blocks


def _part(blocks: list[_Block]) -> dict[str, Any]:
    fallback = truncate("\n\n".join(b.text for b in blocks), MAX_FALLBACK_CHARS)
    return {"text": fallback, "blocks": [b.block for b in blocks]}


def render_message(message: Message) -> list[dict[str, Any]]:
    """The Slack messages (`{"text", "blocks"}`, ready for chat.postMessage) this message becomes."""
    parts: list[dict[str, Any]] = []
    current: list[_Block] = []
    size = 0
    for block in _blocks(message):
        if current and (len(current) == MAX_BLOCKS or size + len(block.text) > MAX_PART_CHARS):
            parts.append(_part(current))
            current, size = [], 0
        current.append(block)
        size += len(block.text)
    if current:
        parts.append(_part(current))
    return parts
