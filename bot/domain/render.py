"""Plain-text rendering of a neutral message (the console; fallback text for richer platforms)."""

from __future__ import annotations

from bot.domain.models import BriefItem, Message


def item_lines(item: BriefItem) -> list[str]:
    lines = [item.headline]
    lines += [f"  • {point}" for point in item.points]
    lines += [f"  {link.label}: {link.url}" for link in item.links]
    return lines


def plain_text(message: Message) -> str:
    blocks: list[str] = []
    if message.heading:
        blocks.append(message.heading)
    if message.text:
        blocks.append(message.text)
    blocks += ["\n".join(item_lines(item)) for item in message.items]
    if message.footer:
        blocks.append(message.footer)
    return "\n\n".join(blocks)
