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
from bot.i18n import chat_language, translator
from bot.i18n.messages import ADMINS_ONLY, DATABASE_BUSY, SOMETHING_WENT_WRONG
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

TEXT_COMMAND = SUMMARY.name  # what a message without a command asks for: a plain text or a bare link
# How long an answer that needs no chat row (/help, an unknown command) waits to read the chat's language.
LANGUAGE_READ_WAIT_S = 0.2
# The listings a button press can leave out of date (bot.services.actions.View), shown again without buttons.
LISTINGS = {"sources": sources.listing, "alerts": alerts.listing, "schedule": schedule.listing}


def something_went_wrong(language: str | None = None) -> list[Message]:
    """The answer when a command failed in a way nobody foresaw (adapters use it as their last resort)."""
    return [replace(m, language=language) for m in reply(translator(language).gettext(SOMETHING_WENT_WRONG))]


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
            incoming = await self._in_chat_language(incoming)
            return _in(incoming, reply(unknown_text(self.commands, incoming)))
        key = (incoming.chat.platform, incoming.chat.chat_id)
        try:
            self.pending.enter(key)
        except ChatBusy as busy:
            if not busy.first:
                return []
            incoming = await self._in_chat_language(incoming)
            return _in(incoming, reply(busy.text(incoming.tr)))
        try:
            return await self._run(command, incoming)
        finally:
            self.pending.leave(key)

    async def _run(self, command: Command, incoming: Incoming) -> list[Message]:
        # Store work runs in threads (the event loop serves every chat) and waits a bounded time for a lock.
        # Until the store says the chat's language, a failure is told in the sender's own.
        incoming = replace(incoming, language=chat_language(incoming.chat_kind, None, incoming.user_locale))
        try:
            with self.store.waiting_at_most(self.db_wait_s):
                if command.needs_chat:
                    chat, language = await asyncio.to_thread(self._ensure_chat, incoming)
                    incoming = replace(incoming, language=language)
                else:
                    chat, incoming = None, await self._in_chat_language(incoming)
                if command.changes_settings(incoming.args, incoming.attachment) and not await _may_change(incoming):
                    return _in(incoming, reply(self._admins_only(incoming)))
                messages = await command.handler(self.tools, incoming, chat)
            zone = chat.timezone if chat else None  # dates in briefs are shown in the chat's time zone
            return [replace(m, timezone=m.timezone or zone, language=m.language or incoming.language)
                    for m in messages]
        except StoreBusy as exc:
            log.warning("command /%s: %s", command.name, exc)
            return _in(incoming, reply(incoming.tr.gettext(DATABASE_BUSY, seconds=format(exc.waited_s, "g"))))
        except Exception:
            log.exception("command /%s failed", command.name)
            return something_went_wrong(incoming.language)

    def listing(self, chat_pk: int, view: str) -> Message | None:
        """What /sources, /alerts or /schedule (`view`) shows now, without its buttons: the text of a
        message whose buttons were pressed, brought up to date (in the chat's language). None for a
        view it does not know."""
        show = LISTINGS.get(view)
        return None if show is None else show(self.tools, chat_pk, buttons=False)

    def _admins_only(self, incoming: Incoming) -> str:
        tr = incoming.tr
        everyone = [f"/{c.name}" for c in self.commands.listed() if not c.for_admins]
        listed = (tr.gettext("{first} and {second}", first=", ".join(everyone[:-1]), second=everyone[-1])
                  if len(everyone) > 1 else "".join(everyone))
        return tr.gettext(ADMINS_ONLY, commands=listed)

    def _ensure_chat(self, incoming: Incoming) -> tuple[ChatSettings, str]:
        """The chat's settings and the language to answer in; the language its person reports is noted
        (a command that reports none, such as a button's listing, gets the last one reported)."""
        with self.store.transaction() as tx:
            chat = tx.chats.ensure_settings(incoming.chat.platform, incoming.chat.chat_id, kind=incoming.chat_kind,
                                            title=incoming.chat_title, timezone=self.default_timezone)
            if incoming.chat_kind == "private":
                tx.chat_language.note_user_locale(chat.id, incoming.user_locale)
            chosen, reported = tx.chat_language.known(incoming.chat.platform, incoming.chat.chat_id)
        return chat, chat_language(incoming.chat_kind, chosen, incoming.user_locale or reported)

    async def _in_chat_language(self, incoming: Incoming) -> Incoming:
        """For an answer that needs no chat row: the chat's chosen language if the database says it at
        once, else the rule without it (a locked database must not hold up /help, nor worker threads all
        busy with other chats' commands waiting for that lock: the wait is bounded here, not in the thread)."""
        try:
            with self.store.waiting_at_most(min(self.db_wait_s, LANGUAGE_READ_WAIT_S)):
                chosen, reported = await asyncio.wait_for(asyncio.to_thread(self._known_language, incoming),
                                                          LANGUAGE_READ_WAIT_S)
        except Exception as exc:  # busy, broken or late: the answer matters more than its language
            log.debug("no chosen language for %s: %s", incoming.chat.chat_id, exc)
            chosen, reported = None, None
        return replace(incoming, language=chat_language(incoming.chat_kind, chosen, incoming.user_locale or reported))

    def _known_language(self, incoming: Incoming) -> tuple[str | None, str | None]:
        with self.store.transaction() as tx:
            return tx.chat_language.known(incoming.chat.platform, incoming.chat.chat_id)


def _in(incoming: Incoming, messages: list[Message]) -> list[Message]:
    return [replace(m, language=incoming.language) for m in messages]


async def _may_change(incoming: Incoming) -> bool:
    return incoming.chat_kind == "private" or await incoming.is_admin()
