"""The command service: one place that turns an `Incoming` into answers, for every platform.

It decides what a message without a command means, who may change a chat's settings, how long a
command waits for a locked database, how many commands a chat may have waiting, and what is said
when something breaks; the commands themselves live in their own modules (catalog.py lists them).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.domain.models import ChatSettings, Message
from bot.services.briefs import BriefMaker
from bot.services.chat_io import Incoming
from bot.services.commands import alerts, schedule, sources
from bot.services.commands.catalog import COMMANDS
from bot.services.commands.help import unknown_text
from bot.services.commands.registry import Command, Registry, Tools, reply
from bot.services.commands.summary import SUMMARY
from bot.services.feeds import FeedService
from bot.services.pages import PageService
from bot.services.pending import ChatBusy, PendingCommands
from bot.store.store import Store, StoreBusy

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = "Sorry, something went wrong on my side. Please try again in a minute."
TEXT_COMMAND = SUMMARY.name  # what a message without a command asks for: a plain text or a bare link
# The listings a button press can leave out of date (bot.services.actions.View), shown again without buttons.
LISTINGS = {"sources": sources.listing, "alerts": alerts.listing, "schedule": schedule.listing}


def something_went_wrong() -> list[Message]:
    """The answer when a command failed in a way nobody foresaw (adapters use it as their last resort)."""
    return reply(SOMETHING_WENT_WRONG)


class CommandService:
    def __init__(self, *, store: Store, briefs: BriefMaker, feeds: FeedService, pages: PageService,
                 digests, scheduler=None, default_timezone: str = "UTC", max_chars: int = 600,
                 max_alerts_per_chat: int = 100, db_wait_s: float = 5.0,
                 max_pending_per_chat: int = 20, commands: Registry = COMMANDS) -> None:
        self.store = store
        self.commands = commands
        self.tools = Tools(store=store, briefs=briefs, feeds=feeds, pages=pages, digests=digests,
                           scheduler=scheduler, registry=commands, max_chars=max_chars,
                           max_alerts_per_chat=max_alerts_per_chat)
        self.default_timezone = default_timezone
        self.db_wait_s = db_wait_s  # how long a command waits for a database locked elsewhere
        # Per chat, commands being answered; an adapter that queues updates per chat itself counts there.
        self.pending = PendingCommands(max_pending_per_chat)

    async def handle(self, incoming: Incoming) -> list[Message]:
        if incoming.command is None:  # no command typed: a plain text or a bare link is for its summary
            incoming = replace(incoming, command=TEXT_COMMAND)
        command = self.commands.get(incoming.command)
        if command is None:
            return reply(unknown_text(self.commands, incoming))
        key = (incoming.chat.platform, incoming.chat.chat_id)
        try:
            self.pending.enter(key)
        except ChatBusy as busy:
            return reply(busy.text()) if busy.first else []
        try:
            return await self._run(command, incoming)
        finally:
            self.pending.leave(key)

    async def _run(self, command: Command, incoming: Incoming) -> list[Message]:
        # Store work runs in threads (the event loop serves every chat) and waits a bounded time for a lock.
        try:
            with self.store.waiting_at_most(self.db_wait_s):
                chat = await asyncio.to_thread(self._ensure_chat, incoming) if command.needs_chat else None
                if command.changes_settings(incoming.args, incoming.attachment) and not await _may_change(incoming):
                    return reply(self._admins_only())
                messages = await command.handler(self.tools, incoming, chat)
            zone = chat.timezone if chat else None  # dates in briefs are shown in the chat's time zone
            return [replace(m, timezone=m.timezone or zone) for m in messages]
        except StoreBusy as exc:
            log.warning("command /%s: %s", command.name, exc)
            return reply(f"The database is busy (it stayed locked for {exc.waited_s:g} s). "
                         "Nothing was changed; please try again in a minute.")
        except Exception:
            log.exception("command /%s failed", command.name)
            return something_went_wrong()

    def listing(self, chat_pk: int, view: str) -> Message | None:
        """What /sources, /alerts or /schedule (`view`) shows now, without its buttons: the text of a
        message whose buttons were pressed, brought up to date. None for a view it does not know."""
        show = LISTINGS.get(view)
        return None if show is None else show(self.tools, chat_pk, buttons=False)

    def _admins_only(self) -> str:
        everyone = [f"/{c.name}" for c in self.commands.listed() if not c.for_admins]
        listed = ", ".join(everyone[:-1]) + " and " + everyone[-1] if len(everyone) > 1 else "".join(everyone)
        return ("Only the admins of this chat can change its sources, alerts and schedule. "
                f"Everyone can use {listed}.")

    def _ensure_chat(self, incoming: Incoming) -> ChatSettings:
        with self.store.transaction() as tx:
            return tx.chats.ensure_settings(incoming.chat.platform, incoming.chat.chat_id, kind=incoming.chat_kind,
                                            title=incoming.chat_title, timezone=self.default_timezone)


async def _may_change(incoming: Incoming) -> bool:
    return incoming.chat_kind == "private" or await incoming.is_admin()
