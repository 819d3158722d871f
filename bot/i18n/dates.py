"""Dates and times as each language writes them (Babel's CLDR data), in the chat's time zone.

English keeps the forms the bot has always written ("Monday 2 March", "07:30"); the other languages
get their own ("Montag, 2. März", "lundi 2 mars", "2 марта")."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time

from bot.i18n.languages import DEFAULT_LANGUAGE, negotiate

# A weekday, the day and the month (CLDR's skeletons shorten the weekday, so the patterns are written out).
_WEEKDAY_DATE = {
    "en": ("EEEE d MMMM", "EEEE d MMMM y"),
    "de": ("EEEE, d. MMMM", "EEEE, d. MMMM y"),
    "es": ("EEEE, d 'de' MMMM", "EEEE, d 'de' MMMM 'de' y"),
    "fr": ("EEEE d MMMM", "EEEE d MMMM y"),
    "pt": ("EEEE, d 'de' MMMM", "EEEE, d 'de' MMMM 'de' y"),
    "ru": ("EEEE, d MMMM", "EEEE, d MMMM y\u202f'г'."),  # CLDR's narrow no-break space before "г."
}
_CLOCK = {"en": "HH:mm"}  # the others: the language's own short time


def zone(name: str | None) -> ZoneInfo:
    """A chat's zone; UTC for None or a zone this system lacks."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_date(value: date | datetime, locale: str | None, tz: str | None = None, *, form: str = "medium") -> str:
    """"Mar 2, 2026", "02.03.2026", "2 мар. 2026 г." ("medium"); `form` also "short", "long", "full".
    A datetime is first moved into `tz`."""
    return babel_date(_local(value, tz), form, locale=_language(locale))


def format_time(value: datetime | time, locale: str | None, tz: str | None = None, *, form: str = "short") -> str:
    """"7:30 AM", "07:30" ("short"): CLDR's time of the language."""
    return babel_time(_local(value, tz), form, locale=_language(locale))


def format_datetime(value: datetime, locale: str | None, tz: str | None = None) -> str:
    """"Mar 2, 2026, 7:30 AM", "02.03.2026, 07:30": the date and time joined as the language joins them."""
    language = _language(locale)
    local = _local(value, tz)
    pattern = Locale.parse(language).datetime_formats["medium"]  # "{1}, {0}" in English, "{1} {0}" in Portuguese
    return pattern.format(babel_time(local, "short", locale=language), babel_date(local, "medium", locale=language))


def weekday_date(value: date | datetime, locale: str | None, tz: str | None = None, *, year: bool = True) -> str:
    """"Monday 2 March 2026", "Montag, 2. März 2026", "понедельник, 2 марта 2026 г."; without the year
    when `year` is False (the digest's period, the next scheduled digest)."""
    language = _language(locale)
    return babel_date(_local(value, tz), _WEEKDAY_DATE[language][year], locale=language)


def clock(value: datetime | time, locale: str | None, tz: str | None = None) -> str:
    """The time of day on a 24-hour clock where the language uses one: "07:30"; Spanish "7:30"."""
    language = _language(locale)
    return babel_time(_local(value, tz), _CLOCK.get(language, "short"), locale=language)


def published_label(published: date | datetime | None, locale: str | None, tz: str | None = None) -> str | None:
    """A brief's publication date in the chat's language and zone (as bot.domain.render.published_label
    in English): only the day for a `date`, and for a datetime at exactly midnight UTC, the store's way
    of keeping a day without a time; a day is never moved into another zone."""
    if published is None:
        return None
    if not isinstance(published, datetime):
        return format_date(published, locale)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    if published.utcoffset() == UTC.utcoffset(None) and published.time() == time(0):
        return format_date(published.date(), locale)
    return format_datetime(published, locale, tz)


def _language(locale: str | None) -> str:
    return negotiate(locale) or DEFAULT_LANGUAGE


def _local(value, tz: str | None):
    """A datetime in the chat's zone (a naive one is taken as UTC); a date or a time as it is."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone(tz))
    return value
