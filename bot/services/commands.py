"""The bot's commands, written once for every platform.

An adapter turns what someone typed into an `Incoming` and renders the `Message`s that come back.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.domain.matching import Query, QueryError, parse_query
from bot.domain.models import Message
from bot.domain.schedule import ScheduleError, next_run, parse_local_time, parse_timezone
from bot.services.briefs import BriefMaker, brief_item, fresh_item
from bot.services.chat_io import Incoming
from bot.services.feeds import FeedService, SourceProblem
from bot.services.pages import PageProblem, PageService
from bot.services.pending import ChatBusy, PendingCommands
from bot.store.store import Store, StoreBusy
from bot.store.tables import Chat
from summarizer import ArticleText, SummarizerError
from bot.runtime.clock import utcnow

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 20_000  # pasted text beyond this is refused, not silently cut
LATEST_LIMIT = 5
SEARCH_WINDOW = 500  # briefs searched by /summary <words>
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)  # ftp://, file://...
_DISPLAY_TERM = re.compile(r'-?"[^"]*"|\S+')  # one term of a tidied query: word, "a phrase", -excluded


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    examples: tuple[str, ...]
    admin_only: bool
    run: Callable[[Incoming, Chat], Awaitable[list[Message]]]


def reply(text: str, *, heading: str | None = None) -> list[Message]:
    return [Message(kind="reply", heading=heading, text=text)]


class CommandService:
    def __init__(self, *, store: Store, briefs: BriefMaker, feeds: FeedService, pages: PageService,
                 digests, scheduler=None, default_timezone: str = "UTC", max_chars: int = 600,
                 max_alerts_per_chat: int = 100, db_wait_s: float = 5.0,
                 max_pending_per_chat: int = 20) -> None:
        self.store = store
        self.briefs = briefs
        self.feeds = feeds
        self.pages = pages
        self.digests = digests  # composes /digest: .compose(chat_id, now) -> Message
        self.scheduler = scheduler  # told when a chat's schedule changes: .reschedule_chat(chat_id)
        self.default_timezone = default_timezone
        self.max_chars = max_chars
        self.max_alerts_per_chat = max_alerts_per_chat
        self.db_wait_s = db_wait_s  # how long a command waits for a database locked elsewhere
        # Per chat, commands being answered; an adapter that queues updates per chat itself counts there.
        self.pending = PendingCommands(max_pending_per_chat)
        self.commands = {c.name: c for c in self._commands()}
        self.aliases = {"help": "start", "feeds": "sources", "brief": "summary"}

    def _commands(self) -> list[Command]:
        return [
            Command("start", "/help", "what I do and every command", (), False, self._help),
            Command("summary", "/summary [link | text | words]",
                    "a brief of a link or pasted text; with words, the latest matching briefs; "
                    "alone, the latest briefs of this chat's sources",
                    ("/summary https://example.com/news/story", "/summary interest rates", "/summary"),
                    False, self._summary),
            Command("digest", "/digest [recap]",
                    "this chat's digest now: the stories since its last digest, none told twice; "
                    "recap: the last day's stories again", ("/digest", "/digest recap"), False, self._digest),
            Command("subscribe", "/subscribe <keywords>",
                    "alert this chat when a story matches: several words must all appear, "
                    "\"quotes\" keep a phrase together, -word excludes",
                    ("/subscribe \"North Korea\" missile", "/subscribe climate -sports"), True, self._subscribe),
            Command("unsubscribe", "/unsubscribe <keywords | all>", "stop an alert, or all of them",
                    ("/unsubscribe climate -sports", "/unsubscribe all"), True, self._unsubscribe),
            Command("alerts", "/alerts", "this chat's keyword alerts", (), False, self._alerts),
            Command("sources", "/sources [add <feed url> | remove <n | url>]",
                    "the feeds this chat follows and how they are doing; add or remove one",
                    ("/sources add https://example.com/feed.xml", "/sources remove 2"), True, self._sources),
            Command("schedule", "/schedule HH:MM [Area/City] | off | empty say|skip",
                    "the daily digest time in this chat's time zone; what an empty day sends",
                    ("/schedule 07:30 Europe/Berlin", "/schedule off", "/schedule empty say"), True,
                    self._schedule),
        ]

    async def handle(self, incoming: Incoming) -> list[Message]:
        name = self.aliases.get(incoming.command, incoming.command)
        command = self.commands.get(name)
        if command is None:
            return reply(self._unknown_text(incoming))
        key = (incoming.chat.platform, incoming.chat.chat_id)
        try:
            self.pending.enter(key)
        except ChatBusy as busy:
            return reply(busy.text()) if busy.first else []
        try:
            return await self._run(name, command, incoming)
        finally:
            self.pending.leave(key)

    async def _run(self, name: str, command: Command, incoming: Incoming) -> list[Message]:
        # Store work runs in threads (the event loop serves every chat) and waits a bounded time for a lock.
        try:
            with self.store.waiting_at_most(self.db_wait_s):
                # /help needs no chat row: it is answered even while the database is locked elsewhere.
                chat = None if name == "start" else await asyncio.to_thread(self._ensure_chat, incoming)
                if command.admin_only and self._changes_settings(name, incoming) \
                        and not await self._may_change(incoming):
                    return reply("Only the admins of this chat can change its sources, alerts and schedule. "
                                 "Everyone can use /summary, /digest and /alerts.")
                messages = await command.run(incoming, chat)
            zone = chat.timezone if chat else None  # dates in briefs are shown in the chat's time zone
            return [replace(m, timezone=m.timezone or zone) for m in messages]
        except StoreBusy as exc:
            log.warning("command /%s: %s", name, exc)
            return reply(f"The database is busy (it stayed locked for {exc.waited_s:g} s). "
                         "Nothing was changed; please try again in a minute.")
        except Exception:
            log.exception("command /%s failed", name)
            return reply("Sorry, something went wrong on my side. Please try again in a minute.")

    def _ensure_chat(self, incoming: Incoming) -> Chat:
        with self.store.transaction() as tx:
            return tx.chats.ensure(incoming.chat.platform, incoming.chat.chat_id, kind=incoming.chat_kind,
                                   title=incoming.chat_title, timezone=self.default_timezone)

    @staticmethod
    def _changes_settings(name: str, incoming: Incoming) -> bool:
        # Looking is for everyone (/sources, /schedule alone); changing is not.
        return not (name in {"sources", "schedule"} and not incoming.args.strip() and incoming.attachment is None)

    @staticmethod
    async def _may_change(incoming: Incoming) -> bool:
        return incoming.chat_kind == "private" or await incoming.is_admin()

    # /start, /help
    async def _help(self, incoming: Incoming, chat: Chat | None) -> list[Message]:
        return reply(self._help_text(incoming), heading="briefbot")

    def _help_text(self, incoming: Incoming) -> str:
        lines = ["I condense news into short briefs: send me a link or a text, follow feeds, get a daily "
                 "digest and alerts on the words you care about.", ""]
        for command in self.commands.values():
            if command.name == "start":
                continue
            admin = " (admins, in groups)" if command.admin_only else ""
            lines.append(f"{command.usage} - {command.summary}{admin}")
            lines.extend(f"    e.g. {example}" for example in command.examples)
            if command.name == "sources":
                lines.append(f"    An OPML list of feeds: {OPML_IMPORT.get(incoming.chat.platform, OPML_IMPORT['telegram'])}")
        lines += ["", f"{_help_command(incoming)} - this message"]
        return "\n".join(lines)

    def _unknown_text(self, incoming: Incoming) -> str:
        """Short, as a typo in a busy group deserves: the likely command, every name, where the details are."""
        typed = incoming.command[:40]
        names = [*self.commands, *self.aliases]
        [guess] = difflib.get_close_matches(typed, names, n=1, cutoff=0.6) or [None]
        lines = [f"I don't know /{typed}." + (f" Did you mean /{guess}?" if guess else "")]
        listed = " ".join(f"/{name}" for name in self.commands if name != "start")
        lines.append(f"Commands: {listed}. {_help_command(incoming)} shows each with examples.")
        return "\n".join(lines)

    # /summary
    async def _summary(self, incoming: Incoming, chat: Chat) -> list[Message]:
        args = incoming.args.strip()
        if len(args) > MAX_INPUT_CHARS:
            return reply(f"That is {len(args):,} characters; I summarize up to {MAX_INPUT_CHARS:,} pasted "
                         "characters. Send a link to the article instead.")
        if not args:
            return await asyncio.to_thread(self._latest, chat)
        if _URL.match(args):
            return await self._summarize_url(args)
        if _OTHER_SCHEME.match(args):
            return reply("I can only read http and https links.")
        if _looks_like_query(args):
            return await asyncio.to_thread(self._search, chat, args)
        return await self._summarize_text(args)

    def _latest(self, chat: Chat) -> list[Message]:
        with self.store.transaction() as tx:
            briefs = tx.articles.briefs_for_chat(chat.id, limit=LATEST_LIMIT)
            followed = tx.sources.followed_by(chat.id)
        if not briefs:
            hint = ("Your feeds have no briefs yet; they arrive after the next poll." if followed else
                    "This chat follows no feeds yet. Add one with /sources add <feed url>, "
                    "or send /summary with a link or a text.")
            return reply(hint)
        return [Message(kind="reply", heading="Latest briefs", items=[brief_item(b) for b in briefs])]

    def _search(self, chat: Chat, text: str) -> list[Message]:
        try:
            query = parse_query(text)
        except QueryError as exc:
            return reply(str(exc))
        with self.store.transaction() as tx:
            followed = tx.sources.followed_by(chat.id)
            pool = (tx.articles.briefs_for_chat(chat.id, limit=SEARCH_WINDOW) if followed
                    else tx.articles.recent_briefs(limit=SEARCH_WINDOW))
        found = [b for b in pool if query.matches(" ".join([b.title or "", b.headline, *b.points]))]
        if not found:
            return reply(f"No recent brief matches {query.display.rstrip('.')}. To summarize a text instead, "
                         "paste a few sentences of it; for a page, send its link.")
        return [Message(kind="reply", heading=f"Latest on {query.display}",
                        items=[brief_item(b) for b in found[:LATEST_LIMIT]])]

    async def _summarize_url(self, url: str) -> list[Message]:
        try:
            stored = await self.pages.brief_for_url(url)
        except PageProblem as exc:
            return reply(str(exc))
        return [Message(kind="reply", items=[brief_item(stored)])]

    async def _summarize_text(self, text: str) -> list[Message]:
        try:
            [brief] = await self.briefs.summarize([ArticleText(text=text)], max_chars=self.max_chars)
        except SummarizerError as exc:
            return reply(str(exc))
        messages = [Message(kind="reply", items=[fresh_item(brief)])]
        if brief.notice:
            messages[0] = Message(kind="reply", items=messages[0].items, footer=brief.notice)
        return messages

    # /digest
    async def _digest(self, incoming: Incoming, chat: Chat) -> list[Message]:
        # An empty digest "since the last digest" would only puzzle.
        if not await asyncio.to_thread(self._follows_feeds, chat):
            return reply("A digest gathers the stories of the feeds this chat follows, and it follows none yet. "
                         "Add one with /sources add <feed url>.")
        option = incoming.args.strip().lower()
        if option not in {"", "recap"}:
            return reply("Use /digest for the stories since the last digest, or /digest recap for the last day's "
                         "stories again.")
        # Grouping stories runs the embedding model: keep it off the event loop.
        return [await asyncio.to_thread(self.digests.compose, chat.id, utcnow(), recap=option == "recap")]

    # /subscribe, /unsubscribe, /alerts
    async def _subscribe(self, incoming: Incoming, chat: Chat) -> list[Message]:
        if not incoming.args.strip():
            return reply("Which words? For example: /subscribe \"North Korea\" missile, or /subscribe climate -sports")
        try:
            query = parse_query(incoming.args)
        except QueryError as exc:
            return reply(str(exc))
        added, count = await asyncio.to_thread(self._add_subscription, chat, query, incoming.chat.thread_id)
        if added is None:
            return reply(f"This chat has {count} alerts, the most a chat can have ({self.max_alerts_per_chat}). "
                         "Remove one first: /alerts lists them, /unsubscribe <keywords> removes one.")
        if not added:
            return reply(f"This chat already has an alert for {query.display}.")
        return reply(f"Alert set for {query.display}: I will post here every new story that {_explain(query)}. "
                     "/alerts lists this chat's alerts.")

    async def _unsubscribe(self, incoming: Incoming, chat: Chat) -> list[Message]:
        args = incoming.args.strip()
        if not args:
            return reply("Which alert? Send /alerts to see them, then /unsubscribe <keywords> or /unsubscribe all.")
        if args.lower() == "all":
            removed = await asyncio.to_thread(self._remove_subscriptions, chat, None)
            return reply(f"Removed all {removed} alerts." if removed else "This chat has no alerts.")
        try:
            query = parse_query(args)
        except QueryError as exc:
            return reply(str(exc))
        removed = await asyncio.to_thread(self._remove_subscriptions, chat, query.normalized)
        if not removed:
            return reply(f"No alert for {query.display} here. Send /alerts to see them.")
        return reply(f"Alert for {query.display} removed.")

    def _add_subscription(self, chat: Chat, query: Query, thread_id: str | None) -> tuple[bool | None, int]:
        """(True when added, False when it was there already, None when the chat has no room; the count)."""
        with self.store.transaction() as tx:
            count = tx.chats.subscription_count(chat.id)
            if count >= self.max_alerts_per_chat:
                return None, count
            return tx.chats.subscribe(chat.id, query.normalized, query.display, thread_id), count

    def _remove_subscriptions(self, chat: Chat, query: str | None) -> int:
        with self.store.transaction() as tx:
            return tx.chats.unsubscribe(chat.id, query)

    def _subscriptions(self, chat: Chat) -> list:
        with self.store.transaction() as tx:
            return tx.chats.subscriptions(chat.id)

    def _follows_feeds(self, chat: Chat) -> bool:
        with self.store.transaction() as tx:
            return bool(tx.sources.followed_by(chat.id))

    async def _alerts(self, incoming: Incoming, chat: Chat) -> list[Message]:
        subscriptions = await asyncio.to_thread(self._subscriptions, chat)
        if not subscriptions:
            return reply("No keyword alerts here yet. Try /subscribe \"North Korea\" or /subscribe climate -sports")
        lines = [f"{i}. {s.display}" for i, s in enumerate(subscriptions, start=1)]
        return reply("\n".join(lines), heading="Keyword alerts")

    # /sources
    async def _sources(self, incoming: Incoming, chat: Chat) -> list[Message]:
        if incoming.attachment is not None:
            return await self._import_opml(incoming, chat)
        action, _, rest = incoming.args.strip().partition(" ")
        action, rest = action.lower(), rest.strip()
        if not action or action == "list":
            return await asyncio.to_thread(self._list_sources, chat)
        if action == "add":
            if not rest:
                return reply("Which feed? For example: /sources add https://example.com/feed.xml")
            try:
                result = await self.feeds.add(chat.id, rest, thread_id=incoming.chat.thread_id)
            except SourceProblem as exc:
                return reply(str(exc))
            return reply(result)
        if action in {"remove", "rm", "delete"}:
            if not rest:
                return reply("Which feed? Send /sources to see the numbers, then /sources remove 2.")
            try:
                return reply(await asyncio.to_thread(self.feeds.remove, chat.id, rest))
            except SourceProblem as exc:
                return reply(str(exc))
        if _URL.match(action):
            return reply(f"To follow that feed, send /sources add {action}")
        return reply("Use /sources, /sources add <feed url> or /sources remove <n | url>.")

    def _list_sources(self, chat: Chat) -> list[Message]:
        lines = self.feeds.describe(chat.id)
        if not lines:
            return reply("This chat follows no feeds. Add one with /sources add <feed url>.")
        return reply("\n".join(lines), heading="Sources")

    async def _import_opml(self, incoming: Incoming, chat: Chat) -> list[Message]:
        try:
            summary = await self.feeds.import_opml(chat.id, incoming.attachment.content,
                                                   thread_id=incoming.chat.thread_id)
        except SourceProblem as exc:
            return reply(str(exc))
        return reply(summary)

    # /schedule
    async def _schedule(self, incoming: Incoming, chat: Chat) -> list[Message]:
        parts = incoming.args.split()
        if not parts:
            return reply(await asyncio.to_thread(self._describe_schedule, chat))
        first = parts[0].lower()
        if first == "off":
            removed = await asyncio.to_thread(self._clear_schedule, chat)
            return reply("Daily digest turned off." if removed else "There was no daily digest to turn off.")
        if first == "empty":
            choice = parts[1].lower() if len(parts) > 1 else ""
            if choice not in {"say", "skip"}:
                return reply("Use /schedule empty say (post a short note on a quiet day) or /schedule empty skip.")
            await asyncio.to_thread(self._set_empty_digest, chat, choice)
            return reply("On a quiet day I will say so." if choice == "say" else "On a quiet day I will stay silent.")
        if len(parts) > 2:
            return reply("Use /schedule HH:MM [Area/City], for example /schedule 07:30 Europe/Berlin.")
        try:
            local = parse_local_time(parts[0])
            zone = parse_timezone(parts[1]) if len(parts) == 2 else parse_timezone(chat.timezone)
        except ScheduleError as exc:
            return reply(str(exc))
        now = utcnow()
        first = next_run(local, zone, now)
        followed = await asyncio.to_thread(self._set_schedule, chat, local.strftime("%H:%M"), zone.key, first,
                                           incoming.chat.thread_id)
        text = (f"Daily digest set for {local.strftime('%H:%M')} {zone.key}; "
                f"the next one comes {first.astimezone(zone):%A %-d %B}.")
        if not followed:
            text += " Until this chat follows a feed there is nothing to send: add one with /sources add <feed url>."
        return reply(text)

    def _clear_schedule(self, chat: Chat) -> bool:
        with self.store.transaction() as tx:
            removed = tx.chats.clear_schedule(chat.id)
        self._reschedule(chat.id)
        return removed

    def _set_empty_digest(self, chat: Chat, choice: str) -> None:
        with self.store.transaction() as tx:
            tx.chats.get(chat.id).empty_digest = choice

    def _set_schedule(self, chat: Chat, local_time: str, zone: str, first: datetime, thread_id: str | None) -> bool:
        """Store the schedule and plan its job; whether the chat follows any feed."""
        with self.store.transaction() as tx:
            tx.chats.get(chat.id).timezone = zone
            existing = tx.chats.schedule(chat.id)
            tx.chats.set_schedule(chat.id, local_time=local_time, timezone=zone, next_run_at=first,
                                  thread_id=thread_id, covered_until=existing.covered_until if existing else None)
            followed = bool(tx.sources.followed_by(chat.id))
        self._reschedule(chat.id)
        return followed

    def _describe_schedule(self, chat: Chat) -> str:
        with self.store.transaction() as tx:
            schedule = tx.chats.schedule(chat.id)
        if schedule is None:
            return "No daily digest yet. Set one with /schedule 07:30 Europe/Berlin."
        return f"Daily digest at {schedule.local_time} {schedule.timezone}. /schedule off stops it."

    def _reschedule(self, chat_id: int) -> None:
        # From a worker thread: APScheduler's asyncio scheduler hands its wake-up to the loop thread-safely.
        if self.scheduler is not None:
            self.scheduler.reschedule_chat(chat_id)


OPML_IMPORT = {
    "telegram": "send the file with the caption /sources",
    "slack": "share the file in the channel with the message /sources",
    "console": "python -m bot feeds import <file.opml>",
}


def _help_command(incoming: Incoming) -> str:
    return "/briefbot-help" if incoming.chat.platform == "slack" else "/help"  # Slack keeps /help for itself


def _explain(query: Query) -> str:
    """'mentions "North Korea" and missile but not drill': what an alert's words mean, said back."""
    shown = _DISPLAY_TERM.findall(query.display)  # as typed: original case and order
    if len(shown) != len(query.required) + len(query.excluded):  # a stray quote: the normalised terms
        shown = [t.canonical for t in query.required] + [f"-{t.canonical}" for t in query.excluded]
    required = " and ".join(term for term in shown if not term.startswith("-"))  # a query always has one
    excluded = " or ".join(term[1:] for term in shown if term.startswith("-"))
    return f"mentions {required}" + (f" but not {excluded}" if excluded else "")


def _looks_like_query(text: str) -> bool:
    """A few words to look up, rather than a text to summarize."""
    words = text.split()
    return len(words) <= 8 and not re.search(r"[.!?]\s+\S", text)
