"""Buttons: the rows under the bot's answers, and what a press of one does.

A button holds only a token; what it means lives in the store (bot.store.actions). A press is checked
again when it arrives: the token must be known and unexpired, made for the chat it is pressed in, the
presser allowed to change that chat (admins in groups and channels), and its target still there. Each
change is made by a conditional write (an UPDATE or DELETE that finds nothing the second time) inside a
transaction that holds the chat's row, so a double tap, or two processes handling two taps at once,
changes things once; the other tap is told it was already done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from bot.domain.actions import Button, ButtonRows, ButtonStyle, is_token
from bot.domain.models import ChatRef, Message
from bot.domain.schedule import ScheduleError, next_run, parse_local_time, parse_timezone
from bot.i18n import SUPPORTED, Translator, chat_language, lazy, translator
from bot.i18n.dates import clock, weekday_date
from bot.runtime.clock import Clock, utcnow
from bot.services.chat_io import ChatKind
from bot.store.actions import ActionSpec, StoredAction
from bot.store.sources import FollowedSource
from bot.store.store import Store, StoreBusy, Tx

log = logging.getLogger(__name__)

# Action kinds, as stored with each token.
FEED_PAUSE, FEED_RESUME, FEED_REMOVE = "feed_pause", "feed_resume", "feed_remove"  # /sources rows
FEED_MUTE, FEED_UNMUTE = "feed_mute", "feed_unmute"  # under a digest or feed brief
ALERT_STOP = "alert_stop"  # /alerts rows, and under an alert (args["group"] set)
SCHEDULE_SET, SCHEDULE_OFF, EMPTY_DAYS = "schedule_set", "schedule_off", "empty_days"  # /schedule
FEED_ADD, ALERT_ADD = "feed_add", "alert_add"  # last row of /sources and /alerts: ask for the words (Ask)

SCHEDULE_TIMES = (("06:00", "07:00", "08:00", "09:00"), ("12:00", "18:00", "21:00"))
MAX_ROWS = 20  # platforms show 25 to 100 buttons under a message: the first ones
ALERTS_PER_ROW = 4
MAX_TOAST_CHARS = 200  # the shortest toast limit among the platforms

View = Literal["sources", "alerts", "schedule"]

EXPIRED = lazy("This button has expired. Send the command again for fresh buttons.")
FORGED = lazy("This button is not for this chat.")
NOT_ADMIN = lazy("Only the admins of this chat can change its feeds, alerts and schedule.")
BUSY = lazy("The database is busy. Nothing was changed; please try again in a minute.")
FAILED = lazy("Sorry, something went wrong on my side. Nothing was changed; please try again in a minute.")

ADD_FEED_LABEL, ADD_ALERT_LABEL = lazy("Add a feed"), lazy("Add an alert")
ADD_FEED_PROMPT = lazy("Reply to this message with the address of the feed to follow.")
ADD_FEED_PLACEHOLDER = "https://example.com/feed.xml"
ADD_ALERT_PROMPT = lazy("Reply to this message with the words to watch for, e.g. climate -sports")
ADD_ALERT_PLACEHOLDER = "climate -sports"


@dataclass(frozen=True)
class Ask:
    """A press that asks the presser to type something: the `prompt` (with a `placeholder` for the
    input field) and the command their answer becomes, `command` with `args` before the answer
    ("sources", "add": /sources add <answer>), checked and answered as if they had typed it.
    `usage`: the command to type where a platform cannot ask."""

    prompt: str
    placeholder: str
    command: str
    args: str
    usage: str

    def incoming_args(self, answer: str) -> str:
        return f"{self.args} {answer.strip()}".strip()

    def in_language(self, tr: Translator) -> Ask:
        return replace(self, prompt=tr.gettext(self.prompt))


ASKS = {FEED_ADD: Ask(ADD_FEED_PROMPT, ADD_FEED_PLACEHOLDER, "sources", "add", "/sources add <feed url>"),
        ALERT_ADD: Ask(ADD_ALERT_PROMPT, ADD_ALERT_PLACEHOLDER, "subscribe", "", "/subscribe <keywords>")}


def asked_by(prompt: str) -> Ask | None:
    """The Ask whose prompt, in any language the bot speaks, is exactly `prompt`: how a platform that
    keeps no state knows an answer (the chat's language may have changed since it asked)."""
    prompt = prompt.strip()
    return next((ask for ask in ASKS.values()
                 if any(translator(code).gettext(ask.prompt) == prompt for code in SUPPORTED)), None)


@dataclass(frozen=True)
class PressResult:
    """How to answer a press: a toast always; new buttons for the pressed message when `buttons` is not
    None (an empty tuple removes them). `view` names the listing the message shows (/sources, /alerts,
    /schedule): after a change its text is out of date too, and the caller may render it again."""

    toast: str
    changed: bool = False
    buttons: ButtonRows | None = None
    view: View | None = None
    # The listing `view` names as it stands now, with `buttons` (when the service was given `views`):
    # what the pressed message should show instead of its text.
    message: Message | None = None
    # The presser is to be asked for text (an "Add a feed" press): the platform shows `ask.prompt`, and
    # their answer is the command `ask` names. Nothing was changed yet.
    ask: Ask | None = None

    def __post_init__(self) -> None:
        if len(self.toast) > MAX_TOAST_CHARS:
            object.__setattr__(self, "toast", self.toast[:MAX_TOAST_CHARS - 1] + "…")

    @property
    def edits(self) -> bool:
        return self.buttons is not None


class Rescheduler(Protocol):
    def reschedule_chat(self, chat_pk: int) -> None: ...


# (chat row id, view) -> the listing's message without buttons (CommandService.listing); None: no such view.
Views = Callable[[int, View], Message | None]


class ActionService:
    def __init__(self, *, store: Store, scheduler: Rescheduler | None = None, views: Views | None = None,
                 db_wait_s: float = 5.0, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.scheduler = scheduler  # told when a chat's schedule changes
        self.views = views  # renders a pressed listing again (PressResult.message)
        self.db_wait_s = db_wait_s  # a press waits this long at most for a database locked elsewhere

    async def press(self, chat: ChatRef, token: str, *, presser_is_admin: Callable[[], Awaitable[bool]],
                    chat_kind: ChatKind, presser_locale: str | None = None) -> PressResult:
        """Do what the button `token`, pressed in `chat`, stands for; always an answer, never an exception.
        Toasts and labels are in the chat's language (`presser_locale`: the presser's, as the platform
        reports it, for a toast said before the chat is known)."""
        tr = translator(chat_language(chat_kind, None, presser_locale))
        try:
            with self.store.waiting_at_most(self.db_wait_s):
                found = await asyncio.to_thread(self._resolve, chat, token, tr)
                if isinstance(found, PressResult):
                    return found
                action, tr = found
                # Asked after the token checks (a forged press costs no platform call), outside any transaction.
                if chat_kind != "private" and not await presser_is_admin():
                    return PressResult(tr.gettext(NOT_ADMIN))
                result = await asyncio.to_thread(self._perform, action, chat.thread_id, tr)
        except StoreBusy as exc:
            log.warning("button press: %s", exc)
            return PressResult(tr.gettext(BUSY))
        except Exception:
            log.exception("button press failed")
            return PressResult(tr.gettext(FAILED))
        return await self._with_listing(result, action.chat_pk)

    async def _with_listing(self, result: PressResult, chat_pk: int) -> PressResult:
        """The pressed listing's text again, in its new state. What was done is done: if the listing
        cannot be shown, the buttons alone are updated."""
        if result.view is None or result.buttons is None or self.views is None:
            return result
        try:
            with self.store.waiting_at_most(self.db_wait_s):
                listing = await asyncio.to_thread(self.views, chat_pk, result.view)
        except Exception:
            log.warning("could not show the %s listing again after a press", result.view, exc_info=True)
            return result
        return result if listing is None else replace(result, message=replace(listing, buttons=result.buttons))

    def prune(self, now: datetime | None = None) -> int:
        """Forget expired tokens of every chat (minting already forgets those of the chat it mints for)."""
        with self.store.transaction() as tx:
            return tx.actions.prune(now=now or self.clock())

    def _resolve(self, chat: ChatRef, token: str, tr: Translator) -> tuple[StoredAction, Translator] | PressResult:
        """The action and the chat's translator, or the answer to a press that does nothing."""
        if not is_token(token):
            return PressResult(tr.gettext(EXPIRED))
        with self.store.transaction() as tx:
            action = tx.actions.resolve(token, now=self.clock())
            if action is None:
                return PressResult(tr.gettext(EXPIRED))
            row = tx.chats.find(chat.platform, chat.chat_id)
            if row is None or row.id != action.chat_pk:
                log.warning("a %s button of chat row %s was pressed in %s:%s", action.kind, action.chat_pk,
                            chat.platform, chat.chat_id)
                return PressResult(tr.gettext(FORGED))
            return action, _chat_tr(tx, row.id)

    def _perform(self, action: StoredAction, thread_id: str | None, tr: Translator) -> PressResult:
        perform = _PERFORM.get(action.kind)
        if perform is None:
            log.warning("a button of an unknown kind %r was pressed", action.kind)
            return PressResult(tr.gettext(EXPIRED))
        with self.store.transaction() as tx:
            if not tx.chats.lock(action.chat_pk):  # the chat row went while the press was checked
                return PressResult(tr.gettext(EXPIRED))
            result = perform(tx, action, thread_id, self.clock())
        if action.kind in {SCHEDULE_SET, SCHEDULE_OFF} and result.changed and self.scheduler is not None:
            self.scheduler.reschedule_chat(action.chat_pk)
        return result


def _chat_tr(tx: Tx, chat_pk: int) -> Translator:
    """The chat's language (bot.i18n.chat_language of what the store knows of it): toasts and labels."""
    return translator(tx.chat_language.resolved([chat_pk]).get(chat_pk))


# What each kind does, inside the transaction that holds the chat's row.

def _feed_name(tx: Tx, source_id: int | None) -> str | None:
    source = tx.sources.get(source_id) if source_id is not None else None
    return (source.title or source.url) if source else None


def _pause(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    return _switch_feed(tx, action, now, paused=True,
                        done=lazy("Paused {feed}: no briefs from it here until you resume it."),
                        already=lazy("{feed} is already paused."))


def _resume(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    return _switch_feed(tx, action, now, paused=False, done=lazy("Resumed {feed}."),
                        already=lazy("{feed} is not paused."))


def _mute(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    return _switch_feed(tx, action, now, paused=True, done=lazy("Muted {feed} in this chat; /sources can resume it."),
                        already=lazy("{feed} is already muted."))


def _unmute(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    return _switch_feed(tx, action, now, paused=False, done=lazy("Unmuted {feed}."),
                        already=lazy("{feed} is not muted."))


def _switch_feed(tx: Tx, action: StoredAction, now: datetime, *, paused: bool, done: str,
                 already: str) -> PressResult:
    chat_pk, source_id = action.chat_pk, action.target_id
    tr, name = _chat_tr(tx, chat_pk), _feed_name(tx, source_id)
    if name is None or not tx.sources.follows(chat_pk, source_id):
        toast, changed = tr.gettext("That feed was already removed."), False
    elif tx.sources.set_paused(chat_pk, source_id, paused):
        toast, changed = tr.gettext(done, feed=name), True
    else:
        toast, changed = tr.gettext(already, feed=name), False
    if "group" in action.args:  # under a brief: its own buttons again, in their new state
        rows = feed_brief_buttons(tx, chat_pk, _sources(tx, action.args["group"]), now=now)
        return PressResult(toast, changed, rows)
    return PressResult(toast, changed, sources_buttons(tx, chat_pk, now=now), "sources")


def _remove(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    tr, name = _chat_tr(tx, action.chat_pk), _feed_name(tx, action.target_id)
    if name is not None and tx.sources.unfollow(action.chat_pk, action.target_id):
        toast, changed = tr.gettext("Stopped following {name}.", name=name), True
    else:
        toast, changed = tr.gettext("That feed was already removed."), False
    return PressResult(toast, changed, sources_buttons(tx, action.chat_pk, now=now), "sources")


def _stop_alert(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    chat_pk, tr = action.chat_pk, _chat_tr(tx, action.chat_pk)
    subscription = next((s for s in tx.chats.subscriptions(chat_pk) if s.id == action.target_id), None)
    if subscription is not None and tx.chats.unsubscribe(chat_pk, subscription.query):
        toast, changed = tr.gettext("Alert for {query} stopped.", query=subscription.display), True
    else:
        toast, changed = tr.gettext("That alert was already stopped."), False
    if "group" in action.args:
        group = set(action.args["group"])
        left = [s for s in tx.chats.subscriptions(chat_pk) if s.id in group]
        return PressResult(toast, changed, alert_brief_buttons(tx, chat_pk, left, now=now))
    return PressResult(toast, changed, alerts_buttons(tx, chat_pk, now=now), "alerts")


def _ask(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    return PressResult("", ask=ASKS[action.kind].in_language(_chat_tr(tx, action.chat_pk)))


def _set_schedule(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    chat_pk, local_time, tr = action.chat_pk, action.args["time"], _chat_tr(tx, action.chat_pk)
    chat, existing = tx.chats.chat(chat_pk), tx.chats.schedule(chat_pk)
    try:
        zone = parse_timezone(chat.timezone)
    except ScheduleError:
        zone = parse_timezone("UTC")
    if existing is not None and existing.local_time == local_time:
        return PressResult(tr.gettext("The daily digest is already at {time} {zone}.",
                                      time=clock(parse_local_time(local_time), tr.language), zone=existing.timezone),
                           False, schedule_buttons(tx, chat_pk, now=now), "schedule")
    first = next_run(parse_local_time(local_time), zone, now)
    tx.chats.set_schedule(chat_pk, local_time=local_time, timezone=zone.key, next_run_at=first,
                          thread_id=existing.thread_id if existing else thread_id,
                          covered_until=existing.covered_until if existing else None)
    toast = tr.gettext("Daily digest set for {time} {zone}; the next one comes {day}.",
                       time=clock(parse_local_time(local_time), tr.language), zone=zone.key,
                       day=weekday_date(first, tr.language, zone.key, year=False))
    return PressResult(toast, True, schedule_buttons(tx, chat_pk, now=now), "schedule")


def _schedule_off(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    removed, tr = tx.chats.clear_schedule(action.chat_pk), _chat_tr(tx, action.chat_pk)
    toast = tr.gettext("Daily digest turned off.") if removed else tr.gettext("The daily digest is already off.")
    return PressResult(toast, removed, schedule_buttons(tx, action.chat_pk, now=now), "schedule")


def _empty_days(tx: Tx, action: StoredAction, thread_id: str | None, now: datetime) -> PressResult:
    choice, tr = action.args["choice"], _chat_tr(tx, action.chat_pk)
    chat = tx.chats.chat(action.chat_pk)
    changed = chat.empty_digest != choice
    if changed:
        tx.chats.set_empty_digest(chat.id, choice)
    if choice == "say":
        said = tr.gettext("On a quiet day I will say so.") if changed else tr.gettext("Already so: on a quiet day I "
                                                                                       "will say so.")
    else:
        said = (tr.gettext("On a quiet day I will stay silent.") if changed
                else tr.gettext("Already so: on a quiet day I will stay silent."))
    return PressResult(said, changed, schedule_buttons(tx, action.chat_pk, now=now), "schedule")


_PERFORM: dict[str, Callable[[Tx, StoredAction, str | None, datetime], PressResult]] = {
    FEED_PAUSE: _pause, FEED_RESUME: _resume, FEED_REMOVE: _remove, FEED_MUTE: _mute, FEED_UNMUTE: _unmute,
    ALERT_STOP: _stop_alert, SCHEDULE_SET: _set_schedule, SCHEDULE_OFF: _schedule_off, EMPTY_DAYS: _empty_days,
    FEED_ADD: _ask, ALERT_ADD: _ask,
}


# Builders: the rows to attach to an answer (Message.buttons), their tokens minted in the caller's transaction.

class _SourceLike(Protocol):
    id: int
    title: str | None
    url: str


class _SubscriptionLike(Protocol):
    id: int
    display: str


def _rows(tx: Tx, chat_pk: int, rows: list[list[tuple[str, ButtonStyle, ActionSpec]]],
          now: datetime | None, *, batch: bool = False) -> ButtonRows:
    specs = [spec for row in rows for _, _, spec in row]
    tokens = iter(tx.actions.mint(chat_pk, specs, now=now or utcnow(), batch=batch))
    return tuple(tuple(Button(label, next(tokens), style, asks=spec.kind in ASKS) for label, style, spec in row)
                 for row in rows if row)


def sources_buttons(tx: Tx, chat_pk: int, followed: Sequence[FollowedSource] | None = None, *,
                    now: datetime | None = None, add: bool = True) -> ButtonRows:
    """A row per feed, numbered as /sources numbers them: Pause n (or Resume n) and Remove n; then Add a
    feed unless `add` is False (a view with a form of its own)."""
    followed = tx.sources.followed_by(chat_pk) if followed is None else followed
    tr, rows = _chat_tr(tx, chat_pk), []
    for item in followed[:MAX_ROWS]:
        n, source_id = item.position, item.source.id
        switch = ((tr.gettext("Resume {n}", n=n), "primary", ActionSpec(FEED_RESUME, source_id)) if item.paused
                  else (tr.gettext("Pause {n}", n=n), "default", ActionSpec(FEED_PAUSE, source_id)))
        rows.append([switch, (tr.gettext("Remove {n}", n=n), "danger", ActionSpec(FEED_REMOVE, source_id))])
    if add:
        rows.append([(tr.gettext(ADD_FEED_LABEL), "default", ActionSpec(FEED_ADD))])
    return _rows(tx, chat_pk, rows, now)


def alerts_buttons(tx: Tx, chat_pk: int, subscriptions: Sequence[_SubscriptionLike] | None = None, *,
                   now: datetime | None = None, add: bool = True) -> ButtonRows:
    """Stop n for each alert, numbered as /alerts numbers them, a few to a row; then Add an alert unless
    `add` is False."""
    subscriptions = tx.chats.subscriptions(chat_pk) if subscriptions is None else subscriptions
    tr = _chat_tr(tx, chat_pk)
    buttons = [(tr.gettext("Stop {n}", n=n), "danger", ActionSpec(ALERT_STOP, s.id))
               for n, s in enumerate(subscriptions[:MAX_ROWS * ALERTS_PER_ROW], start=1)]
    rows = [buttons[i:i + ALERTS_PER_ROW] for i in range(0, len(buttons), ALERTS_PER_ROW)]
    if add:
        rows.append([(tr.gettext(ADD_ALERT_LABEL), "default", ActionSpec(ALERT_ADD))])
    return _rows(tx, chat_pk, rows, now)


def schedule_buttons(tx: Tx, chat_pk: int, *, now: datetime | None = None) -> ButtonRows:
    """A few digest times and Off (the current one marked), then what an empty day sends."""
    schedule, chat, tr = tx.chats.schedule(chat_pk), tx.chats.chat(chat_pk), _chat_tr(tx, chat_pk)
    current = schedule.local_time if schedule else None
    times = [[(t, "primary" if t == current else "default", ActionSpec(SCHEDULE_SET, args={"time": t}))
              for t in row] for row in SCHEDULE_TIMES]
    times[-1].append((tr.gettext("Off"), "primary" if current is None else "default", ActionSpec(SCHEDULE_OFF)))
    labels = {"say": tr.gettext("Empty days: say"), "skip": tr.gettext("Empty days: skip")}
    empty = [(labels[choice], "primary" if chat.empty_digest == choice else "default",
              ActionSpec(EMPTY_DAYS, args={"choice": choice})) for choice in ("say", "skip")]
    return _rows(tx, chat_pk, [*times, empty], now)


def alert_brief_buttons(tx: Tx, chat_pk: int, subscriptions: Sequence[_SubscriptionLike], *,
                        now: datetime | None = None, batch: bool = False, language: str | None = None) -> ButtonRows:
    """Under an alert: Stop this alert (or, for a story several alerts matched, Stop: <words> for each).
    `batch`: minted for many chats at once (bot.store.actions.ActionRepo.mint). `language`: the chat's,
    when the caller knows it (else it is read)."""
    group = [s.id for s in subscriptions]
    tr = translator(language) if language else _chat_tr(tx, chat_pk)
    if len(subscriptions) == 1:
        labels = [tr.gettext("Stop this alert")]
    else:
        labels = [tr.gettext("Stop: {query}", query=s.display) for s in subscriptions]
    return _rows(tx, chat_pk, [[(label, "danger", ActionSpec(ALERT_STOP, s.id, {"group": group}))
                                for label, s in zip(labels, subscriptions[:ALERTS_PER_ROW])]], now, batch=batch)


def feed_brief_buttons(tx: Tx, chat_pk: int, sources: Sequence[_SourceLike], *,
                       now: datetime | None = None) -> ButtonRows:
    """Under a digest or feed brief: Mute this feed (Mute <feed> for each of several); a feed already
    muted offers Unmute. A feed the chat no longer follows gets no button."""
    followed = {item.source.id: item.paused for item in tx.sources.followed_by(chat_pk)}
    shown = [s for s in sources if s.id in followed][:MAX_ROWS]
    group, tr = [s.id for s in shown], _chat_tr(tx, chat_pk)
    rows = []
    for source in shown:
        one = len(shown) == 1
        name = source.title or source.url
        if followed[source.id]:
            label = tr.gettext("Unmute this feed") if one else tr.gettext("Unmute {feed}", feed=name)
            rows.append([(label, "primary", ActionSpec(FEED_UNMUTE, source.id, {"group": group}))])
        else:
            label = tr.gettext("Mute this feed") if one else tr.gettext("Mute {feed}", feed=name)
            rows.append([(label, "default", ActionSpec(FEED_MUTE, source.id, {"group": group}))])
    return _rows(tx, chat_pk, rows, now)


def _sources(tx: Tx, source_ids: list[int]) -> list:
    return [source for source in (tx.sources.get(i) for i in source_ids) if source is not None]
