"""Plain-text rendering of a neutral message (a terminal; fallback text for richer platforms), and the
one way every platform writes a brief's publication date."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time

from bot.domain.models import BriefItem, Message

DATE_LOCALE = "en"  # one language for now; a chat's own locale comes with translations


def published_label(published: date | datetime | None, timezone: str | None = None,
                    locale: str = DATE_LOCALE) -> str | None:
    """"Mar 3, 2026, 7:30 AM" in the chat's zone, or "Mar 3, 2026" when only the day is known.

    Only the day is known for a `date`, and for a datetime at exactly midnight UTC: that is how the
    store keeps a day without a time (pages and feeds that give a date alone). A day is never moved
    into another zone, where it could become the day before."""
    if published is None:
        return None
    if not isinstance(published, datetime):
        return format_date(published, "medium", locale=locale)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published.utcoffset() == UTC.utcoffset(None) and published.time() == time(0):
        return format_date(published.date(), "medium", locale=locale)
    local = published.astimezone(_zone(timezone))
    pattern = Locale.parse(locale).datetime_formats["medium"]  # "{1}, {0}" in English
    return pattern.format(format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):  # a zone the stored chat had but this system lacks
        return ZoneInfo("UTC")


def item_lines(item: BriefItem, timezone: str | None = None) -> list[str]:
    lines = [item.headline]
    lines += [f"  • {point}" for point in item.points]
    lines += [f"  {link.label}: {link.url}" for link in item.links]
    label = published_label(item.published, timezone)
    if label:
        lines.append(f"  {label}")
    return lines


def message_text(message: Message) -> str:
    blocks: list[str] = []
    if message.heading:
        blocks.append(message.heading)
    if message.text:
        blocks.append(message.text)
    blocks += ["\n".join(item_lines(item, message.timezone)) for item in message.items]
    if message.footer:
        blocks.append(message.footer)
    return "\n\n".join(blocks)
