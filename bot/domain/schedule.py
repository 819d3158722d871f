"""Daily digest times: parsing "HH:MM" and finding the next run in a chat's own time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.i18n import lazy

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.hH]([0-5]\d)$")


class ScheduleError(ValueError):
    """A time or zone a user typed that we cannot use; the message says how to fix it."""


def parse_local_time(text: str) -> time:
    match = _TIME.match(text.strip())
    if not match:
        raise ScheduleError(lazy("“{text}” is not a time of day. Use 24-hour HH:MM, for example 07:30.", text=text))
    return time(int(match.group(1)), int(match.group(2)))


def parse_timezone(name: str) -> ZoneInfo:
    """A zone like Europe/Berlin; also accepts any letter case ("europe/berlin"), UTC, and a city alone
    ("Berlin") when only one zone is named after it."""
    cleaned = name.strip()
    if cleaned.upper() in {"UTC", "GMT", "Z"}:
        return ZoneInfo("UTC")
    try:
        if "/" in cleaned and ".." not in cleaned:
            return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    zones = available_timezones()
    by_lower = {zone.lower(): zone for zone in zones}
    if cleaned.lower() in by_lower:
        return ZoneInfo(by_lower[cleaned.lower()])
    # A city alone ("Berlin", "new_york"): the zone, when exactly one ends with it.
    city = cleaned.lower().replace(" ", "_")
    matches = sorted(zone for zone in zones if "/" in zone and zone.lower().rsplit("/", 1)[1] == city)
    if len(matches) == 1:
        return ZoneInfo(matches[0])
    if matches:
        raise ScheduleError(lazy("“{name}” could be {zones}: send the whole name.", name=name,
                                 zones=" or ".join(matches)))
    raise ScheduleError(lazy("“{name}” is not a time zone I know. Use an Area/City name such as Europe/Berlin, "
                             "America/New_York or Asia/Tokyo.", name=name))


def next_run(local: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first moment strictly after `after` (aware) when the local clock in `zone` shows `local`, in UTC.

    A time skipped by a daylight-saving jump (02:30 on the spring-forward night) runs at the moment the
    clock jumps to; a time that happens twice (autumn) runs at its first occurrence.
    """
    day = after.astimezone(zone).date() - timedelta(days=1)
    for offset in range(4):
        candidate = _resolve(datetime.combine(day + timedelta(days=offset), local), zone)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a daily time occurs within four days")


def _resolve(naive: datetime, zone: ZoneInfo) -> datetime:
    as_utc = naive.replace(tzinfo=zone).astimezone(UTC)  # fold=0: the first of two ambiguous times
    if as_utc.astimezone(zone).replace(tzinfo=None) == naive:
        return as_utc
    # In a gap the wall-clock time does not exist, and as_utc already lies after the jump:
    # walk back to the instant the clock jumped forward.
    step = timedelta(minutes=1)
    while (as_utc - step).astimezone(zone).replace(tzinfo=None) > naive:
        as_utc -= step
    return as_utc
