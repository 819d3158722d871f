"""/schedule: the daily digest's time and time zone, turning it off, and what a quiet day sends."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.domain.models import ChatSettings, Message
from bot.domain.schedule import ScheduleError, next_run, parse_local_time, parse_timezone
from bot.i18n import Translator, lazy, translator
from bot.i18n.dates import clock, weekday_date
from bot.runtime.clock import utcnow
from bot.services.actions import schedule_buttons
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply, unless_bare

USAGE = lazy("Use /schedule HH:MM [Area/City], for example /schedule 07:30 Europe/Berlin.")


async def schedule(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    tr = incoming.tr
    parts = incoming.args.split()
    if not parts:
        return [await asyncio.to_thread(listing, tools, chat.id, language=tr.language)]
    first = parts[0].lower()
    if first == "off":
        return reply(tr.gettext("Daily digest turned off.") if await asyncio.to_thread(_turn_off, tools, chat.id)
                     else tr.gettext("There was no daily digest to turn off."))
    if first == "empty":
        return await _empty_day(tools, chat, parts[1].lower() if len(parts) > 1 else "", tr)
    if len(parts) > 2:
        return reply(tr.gettext(USAGE))
    try:
        local = parse_local_time(parts[0])
        zone = parse_timezone(parts[1]) if len(parts) == 2 else parse_timezone(chat.timezone)
    except ScheduleError as exc:
        return reply(tr.explain(exc))
    first_run = next_run(local, zone, utcnow())
    at = local.strftime("%H:%M")
    followed = await asyncio.to_thread(_plan, tools, chat.id, at, zone.key, first_run, incoming.chat.thread_id)
    text = tr.gettext("Daily digest set for {time} {zone}; the next one comes {day}.",
                      time=clock(local, tr.language), zone=zone.key,
                      day=weekday_date(first_run, tr.language, zone.key, year=False))
    if not followed:
        text += " " + tr.gettext("Until this chat follows a feed there is nothing to send: add one with /sources "
                                 "add <feed url>.")
    return reply(text)


def describe(chat: ChatSettings, tr: Translator) -> str:
    if chat.digest_time is None:
        return tr.gettext("No daily digest yet. Set one with /schedule 07:30 Europe/Berlin.")
    return tr.gettext("Daily digest at {time} {zone}. /schedule off stops it.",
                      time=clock(parse_local_time(chat.digest_time), tr.language), zone=chat.digest_timezone)


def listing(tools: Tools, chat_pk: int, *, buttons: bool = True, language: str | None = None) -> Message:
    """The chat's digest time, with buttons for a few times, Off and what a quiet day sends unless
    `buttons` is False; in `language` (default: the chat's own)."""
    with tools.store.transaction() as tx:
        chat = tx.chats.settings(chat_pk)
        rows = schedule_buttons(tx, chat_pk) if buttons else ()
        language = language or tx.chat_language.resolved([chat_pk]).get(chat_pk)
    return Message(kind="reply", text=describe(chat, translator(language)), buttons=rows, language=language)


async def _empty_day(tools: Tools, chat: ChatSettings, choice: str, tr: Translator) -> list[Message]:
    if choice not in {"say", "skip"}:
        return reply(tr.gettext("Use /schedule empty say (post a short note on a quiet day) or /schedule empty "
                                "skip."))
    await asyncio.to_thread(_set_empty_day, tools, chat.id, choice)
    return reply(tr.gettext("On a quiet day I will say so.") if choice == "say"
                 else tr.gettext("On a quiet day I will stay silent."))


def _set_empty_day(tools: Tools, chat_id: int, choice: str) -> None:
    with tools.store.transaction() as tx:
        tx.chats.set_empty_digest(chat_id, choice)


def _turn_off(tools: Tools, chat_id: int) -> bool:
    with tools.store.transaction() as tx:
        removed = tx.chats.clear_schedule(chat_id)
    tools.reschedule(chat_id)
    return removed


def _plan(tools: Tools, chat_id: int, local_time: str, zone: str, first: datetime, thread_id: str | None) -> bool:
    """Store the schedule and plan its job; whether the chat follows any feed."""
    with tools.store.transaction() as tx:
        tx.chats.plan_digest(chat_id, local_time=local_time, timezone=zone, next_run_at=first, thread_id=thread_id)
        followed = bool(tx.sources.followed_by(chat_id))
    tools.reschedule(chat_id)
    return followed


SCHEDULE = Command(
    "schedule", lazy("/schedule HH:MM [Area/City] | off | empty say|skip"),
    lazy("the daily digest time in this chat's time zone; what an empty day sends"),
    lazy("Daily digest time, e.g. /schedule 07:30 Europe/Berlin"), schedule,
    examples=("/schedule 07:30 Europe/Berlin", "/schedule off", "/schedule empty say"),
    changes_settings=unless_bare)
