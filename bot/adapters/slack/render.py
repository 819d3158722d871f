"""A neutral `Message` as Slack Block Kit messages ("parts"), within Slack's limits.

Every outside string (headings, headlines, points, feed names, what people typed) is escaped (its
formatting characters too: see markup.escape_formatting), and
every mrkdwn text object is `verbatim`, so Slack neither parses a mention nor auto-links anything in
it: the only links are the `<url|label>` ones written here. A message too big for one Slack message
becomes several parts, each with a plain `text` fallback for notifications and old clients.
`Message.buttons` become `actions` blocks of buttons in its last part; each button's value is its token
and its action_id starts with `ACTION_PREFIX`, which is how the press listener (buttons.py) knows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.adapters.slack.markup import escape, escape_formatting, escape_text, link, split_text, truncate
from bot.domain.actions import ButtonRows
from bot.domain.models import BriefItem, Message
from bot.domain.render import published_label

MAX_BLOCKS = 50  # blocks in one message
MAX_SECTION_CHARS = 3000  # text of a section block or a context element
MAX_HEADER_CHARS = 150  # plain text of a header block
# Slack rejects messages whose blocks hold much more text than this (msg_blocks_too_long); stay under it.
MAX_PART_CHARS = 12_000
MAX_FALLBACK_CHARS = 3000
MAX_ACTIONS_ELEMENTS = 25  # buttons in one actions block
MAX_BUTTON_CHARS = 75  # a button's label
MAX_BUTTON_BLOCKS = 20  # actions blocks under one message: more rows are packed together
ACTION_PREFIX = "briefbot:"  # every button of ours: "briefbot:<row>.<column>", unique in the message


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


def button_blocks(rows: ButtonRows, *, prefix: str = ACTION_PREFIX) -> list[dict[str, Any]]:
    """An `actions` block per row of buttons (rows longer than Slack allows are split); when there are
    more rows than MAX_BUTTON_BLOCKS, rows are packed together so every button stays under the message.
    A button that asks for text ("Add a feed") is left out: Slack adds through the App Home's forms."""
    rows = tuple(kept for kept in (tuple(b for b in row if not b.asks) for row in rows) if kept)
    if len(rows) > MAX_BUTTON_BLOCKS:
        flat = [button for row in rows for button in row]
        rows = tuple(tuple(flat[i:i + MAX_ACTIONS_ELEMENTS]) for i in range(0, len(flat), MAX_ACTIONS_ELEMENTS))
        rows = rows[:MAX_BUTTON_BLOCKS]
    blocks = []
    for number, row in enumerate(rows):
        for start in range(0, len(row), MAX_ACTIONS_ELEMENTS):
            elements = []
            for column, button in enumerate(row[start:start + MAX_ACTIONS_ELEMENTS], start=start):
                label = " ".join(button.label.split())
                if len(label) > MAX_BUTTON_CHARS:
                    label = label[:MAX_BUTTON_CHARS - 1] + "…"
                element = {"type": "button", "action_id": f"{prefix}{number}.{column}",
                           "text": {"type": "plain_text", "text": label, "emoji": True}, "value": button.token}
                if button.style != "default":
                    element["style"] = button.style
                elements.append(element)
            blocks.append({"type": "actions", "elements": elements})
    return blocks[:MAX_BUTTON_BLOCKS * 2]  # rows split in two count twice: at most 40 of a message's 50


def is_our_button_block(block: dict[str, Any]) -> bool:
    return block.get("type") == "actions" and any(
        str(element.get("action_id", "")).startswith(ACTION_PREFIX) for element in block.get("elements", []))


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
    buttons = button_blocks(message.buttons)
    if buttons:
        if not parts or len(parts[-1]["blocks"]) + len(buttons) > MAX_BLOCKS:
            # Buttons alone in a part: Slack still wants a text for notifications.
            parts.append({"text": truncate(parts[-1]["text"], MAX_HEADER_CHARS) if parts else "…", "blocks": []})
        parts[-1]["blocks"] += buttons
    return parts
