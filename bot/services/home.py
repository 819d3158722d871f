"""What one person manages, for an app's home screen: their own chat with the bot and, for workspace
admins, each shared chat the bot serves there; and adding a feed or an alert to one of them from a form.

The home screen is a picture of the store, with the same buttons the listings carry (bot.services.actions),
so a press there is checked and done like any other. Adding goes through the same feed service and
alert logic as /sources add and /subscribe, under the same rule: in a shared chat, admins only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.domain.actions import ButtonRows
from bot.domain.models import ChatRef
from bot.i18n import translator
from bot.services.actions import NOT_ADMIN, alerts_buttons, schedule_buttons, sources_buttons
from bot.services.chat_io import ChatKind
from bot.services.commands.alerts import add_alert
from bot.services.commands.sources import said
from bot.services.feeds import FeedService, Followed
from bot.runtime.clock import Clock, utcnow
from bot.store.chats import StoredChat
from bot.store.home import shared_chats
from bot.store.store import Store, Tx

MAX_SHARED_CHATS = 20  # a home screen has room for so many; the rest are named by their count


@dataclass(frozen=True)
class ManagedFeed:
    position: int  # as /sources numbers it
    name: str
    url: str
    paused: bool


@dataclass(frozen=True)
class ManagedChat:
    chat: ChatRef
    kind: ChatKind
    title: str | None
    feeds: tuple[ManagedFeed, ...] = ()
    alerts: tuple[str, ...] = ()  # each alert's words, as /alerts shows them
    digest: str | None = None  # "08:00 Europe/Berlin"; None: no daily digest
    feed_buttons: ButtonRows = ()  # Pause/Resume n and Remove n per feed
    alert_buttons: ButtonRows = ()  # Stop n per alert
    schedule_buttons: ButtonRows = ()  # digest times, Off, what an empty day sends


@dataclass(frozen=True)
class Overview:
    chats: tuple[ManagedChat, ...]  # the person's own chat first
    more: int = 0  # shared chats left out (over MAX_SHARED_CHATS)


@dataclass(frozen=True)
class Added:
    ok: bool
    text: str  # what to tell the person: what was added, or why nothing was


class HomeService:
    def __init__(self, *, store: Store, feeds: FeedService, max_alerts_per_chat: int = 100,
                 default_timezone: str = "UTC", db_wait_s: float = 5.0, clock: Clock = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.feeds = feeds
        self.max_alerts_per_chat = max_alerts_per_chat
        self.default_timezone = default_timezone
        self.db_wait_s = db_wait_s

    async def overview(self, own: ChatRef, *, with_shared: bool) -> Overview:
        """`own`: the person's private chat with the bot; `with_shared`: they are a workspace admin."""
        with self.store.waiting_at_most(self.db_wait_s):
            return await asyncio.to_thread(self._overview, own, with_shared)

    def _overview(self, own: ChatRef, with_shared: bool) -> Overview:
        now = self.clock()
        with self.store.transaction() as tx:
            row = tx.chats.find(own.platform, own.chat_id)
            chats = [_managed(tx, row, now) if row is not None else ManagedChat(own, "private", None)]
            more = 0
            if with_shared:
                shared = shared_chats(tx, own.platform)
                more = max(0, len(shared) - MAX_SHARED_CHATS)
                chats += [_managed(tx, chat, now) for chat in shared[:MAX_SHARED_CHATS]]
        return Overview(tuple(chats), more)

    async def add_feed(self, chat: ChatRef, url: str, *, kind: ChatKind,
                       may_change: Callable[[], Awaitable[bool]], language: str | None = None) -> Added:
        """`language`: the one to tell the person in (English by default)."""
        tr = translator(language)
        if kind != "private" and not await may_change():
            return Added(False, tr.gettext(NOT_ADMIN))
        chat_pk = await self._ensure(chat, kind)
        result = await self.feeds.add(chat_pk, url.strip(), thread_id=chat.thread_id)
        return Added(isinstance(result, Followed), said(result, tr))

    async def add_alert(self, chat: ChatRef, words: str, *, kind: ChatKind,
                        may_change: Callable[[], Awaitable[bool]], language: str | None = None) -> Added:
        tr = translator(language)
        if kind != "private" and not await may_change():
            return Added(False, tr.gettext(NOT_ADMIN))
        chat_pk = await self._ensure(chat, kind)
        ok, text = await add_alert(self.store, chat_pk, words, thread_id=chat.thread_id,
                                   max_alerts=self.max_alerts_per_chat, tr=tr)
        return Added(ok, text)

    async def _ensure(self, chat: ChatRef, kind: ChatKind) -> int:
        def ensure() -> int:
            with self.store.transaction() as tx:
                return tx.chats.ensure(chat.platform, chat.chat_id, kind=kind, timezone=self.default_timezone).id

        with self.store.waiting_at_most(self.db_wait_s):
            return await asyncio.to_thread(ensure)


def _managed(tx: Tx, chat: StoredChat, now: datetime) -> ManagedChat:
    followed = tx.sources.followed_by(chat.id)
    subscriptions = tx.chats.subscriptions(chat.id)
    schedule = tx.chats.schedule(chat.id)
    return ManagedChat(
        chat=ChatRef(chat.platform, chat.chat_key), kind=chat.kind, title=chat.title,
        feeds=tuple(ManagedFeed(f.position, f.source.title or f.source.url, f.source.url, f.paused) for f in followed),
        alerts=tuple(s.display for s in subscriptions),
        digest=f"{schedule.local_time} {schedule.timezone}" if schedule else None,
        # The Home tab has add forms of its own: no asking buttons.
        feed_buttons=sources_buttons(tx, chat.id, followed, now=now, add=False) if followed else (),
        alert_buttons=alerts_buttons(tx, chat.id, subscriptions, now=now, add=False) if subscriptions else (),
        schedule_buttons=schedule_buttons(tx, chat.id, now=now))
