"""Plain-text rendering of a neutral message (a terminal; fallback text for richer platforms), and the
one way every platform writes a brief's publication date."""

from __future__ import annotations

from datetime import date, datetime

from bot.domain.models import BriefItem, Message
from bot.i18n import dates


def published_label(published: date | datetime | None, timezone: str | None = None,
                    locale: str | None = None) -> str | None:
    """"Mar 3, 2026, 7:30 AM" in the chat's zone, or "Mar 3, 2026" when only the day is known; in the
    chat's language (`locale`, English by default) as bot.i18n.dates writes it.

    Only the day is known for a `date`, and for a datetime at exactly midnight UTC: that is how the
    store keeps a day without a time (pages and feeds that give a date alone). A day is never moved
    into another zone, where it could become the day before."""
    return dates.published_label(published, locale, timezone)


def item_lines(item: BriefItem, timezone: str | None = None, locale: str | None = None) -> list[str]:
    lines = [item.headline]
    lines += [f"  • {point}" for point in item.points]
    lines += [f"  {link.label}: {link.url}" for link in item.links]
    label = published_label(item.published, timezone, locale)
    if label:
        lines.append(f"  {label}")
    return lines


def message_text(message: Message) -> str:
    blocks: list[str] = []
    if message.heading:
        blocks.append(message.heading)
    if message.text:
        blocks.append(message.text)
    blocks += ["\n".join(item_lines(item, message.timezone, message.language)) for item in message.items]
    if message.footer:
        blocks.append(message.footer)
    return "\n\n".join(blocks)
