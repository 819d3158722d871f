"""Keyword alerts: new briefs matched against every subscription, queued in the briefs' own transaction.

Who gets an alert: every active chat with a matching subscription, whatever feeds it follows. A
story goes to a chat once, however many of its subscriptions match and however many feeds carried
it (it is one brief); the alert names the first matching subscription and goes to its topic.

A flood is folded, never dropped: a chat gets at most `alerts_per_hour` single alerts within the
last hour; the stories of a batch beyond that go out together as one folded alert listing each
headline and link. The split depends only on what is stored (alerts already queued in the window,
brief ids in order), and the alert log remembers every story sent to a chat, alone or folded, so
running the same batch again queues nothing new.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.matching import Query, QueryError, SubscriptionIndex, parse_query
from bot.domain.models import BriefItem, Message
from bot.i18n import translator
from bot.services.actions import alert_brief_buttons
from bot.services.briefs import brief_item
from bot.store.articles import StoredBrief
from bot.store.chats import KeywordSubscription
from bot.store.store import Store, Tx

log = logging.getLogger(__name__)
CHUNK = 1000  # chats per query: keeps IN (...) lists well inside every database's limits


@dataclass(frozen=True)
class _Match:
    brief: StoredBrief
    subscriber: KeywordSubscription


class AlertService:
    def __init__(self, *, store: Store, alerts_per_hour: int = 10, window: timedelta = timedelta(hours=1),
                 fold_accents: bool = False) -> None:
        if alerts_per_hour < 1:
            raise ValueError("alerts_per_hour must be at least 1")
        self.store = store
        self.alerts_per_hour = alerts_per_hour
        self.window = window
        self.fold_accents = fold_accents
        self._version: int | None = None
        self._index: SubscriptionIndex[int] = SubscriptionIndex([])
        self._subscribers: dict[int, KeywordSubscription] = {}
        self._parsed: dict[str, Query] = {}

    def prepare(self) -> None:
        """Compile the subscriptions now (at start), not inside the first ingest transaction, which
        holds the database's write lock while alerts are matched."""
        with self.store.transaction() as tx:
            self.index(tx)

    def on_new_briefs(self, tx: Tx, briefs: list[StoredBrief], now: datetime) -> int:
        """Queue the alerts for newly stored briefs in the caller's transaction; returns messages queued."""
        matches = self.match(tx, briefs)
        if not matches:
            return 0
        zones: dict[int, str] = {}  # the active chats, with their time zones (dates are shown in them)
        languages: dict[int, str] = {}  # and the languages they are written in
        chat_pks = sorted(matches)
        for start in range(0, len(chat_pks), CHUNK):
            zones |= tx.chats.active_chat_zones(chat_pks[start:start + CHUNK])
            languages |= tx.chat_language.resolved(chat_pks[start:start + CHUNK])
        queued = 0
        for start in range(0, len(chat_pks), CHUNK):
            chunk = [chat_pk for chat_pk in chat_pks[start:start + CHUNK] if chat_pk in zones]
            queued += self._queue(tx, {chat_pk: matches[chat_pk] for chat_pk in chunk}, now, zones, languages)
        return queued

    def match(self, tx: Tx, briefs: list[StoredBrief]) -> dict[int, list[_Match]]:
        """For each chat, the briefs that match one of its subscriptions (first match wins), by brief id."""
        index = self.index(tx)
        per_chat: dict[int, list[_Match]] = defaultdict(list)
        for brief in sorted(briefs, key=lambda b: b.brief_id):
            first_per_chat: dict[int, KeywordSubscription] = {}
            for subscription_id in sorted(index.match(searchable_text(brief))):
                subscriber = self._subscribers[subscription_id]
                first_per_chat.setdefault(subscriber.chat_pk, subscriber)
            for chat_pk, subscriber in first_per_chat.items():
                per_chat[chat_pk].append(_Match(brief, subscriber))
        return per_chat

    def index(self, tx: Tx) -> SubscriptionIndex[int]:
        """The compiled subscriptions, rebuilt only when they changed since the last call."""
        version = tx.chats.subscriptions_version()
        if version != self._version:
            subscribers, queries, parsed = {}, [], {}
            for row in tx.chats.all_subscriptions():
                try:
                    # Queries parsed for the previous index are reused: a change costs the index, not a reparse.
                    query = parsed[row.query] = parsed.get(row.query) or self._parsed.get(row.query) \
                        or parse_query(row.query)
                except QueryError as exc:  # stored before a grammar change: skip it, loudly
                    log.warning("subscription %s (%r) no longer parses: %s", row.id, row.query, exc)
                    continue
                queries.append((row.id, query))
                subscribers[row.id] = row
            self._index = SubscriptionIndex(queries, fold_accents=self.fold_accents)
            self._subscribers, self._parsed, self._version = subscribers, parsed, version
            log.info("compiled %d keyword subscriptions (version %d)", len(subscribers), version)
        return self._index

    def _queue(self, tx: Tx, matches: dict[int, list[_Match]], now: datetime, zones: dict[int, str],
               languages: dict[int, str] | None = None) -> int:
        languages = languages or {}
        chat_pks = set(matches)
        brief_ids = {m.brief.brief_id for found in matches.values() for m in found}
        done = tx.chats.already_alerted(chat_pks, brief_ids)
        recent = tx.outbox.queued_since(chat_pks, "alert", now - self.window)
        tx.actions.prune_chats(chat_pks, now=now)  # the alerts' buttons are minted in one batch
        messages: list[dict] = []
        records: list[dict] = []

        def add(chat_pk: int, thread_id: str | None, key: str, message: Message, carried: list[_Match]) -> None:
            stoppable = list({m.subscriber.id: m.subscriber for m in carried}.values())  # "Stop this alert"
            message = replace(message, timezone=zones.get(chat_pk), language=languages.get(chat_pk),
                              buttons=alert_brief_buttons(tx, chat_pk, stoppable, now=now, batch=True,
                                                          language=languages.get(chat_pk)))
            messages.append({"chat_pk": chat_pk, "kind": "alert", "dedupe_key": key, "payload": message.to_dict(),
                             "thread_id": thread_id})
            records.extend({"chat_pk": chat_pk, "brief_id": m.brief.brief_id, "dedupe_key": key,
                            "subscription_id": m.subscriber.id} for m in carried)

        for chat_pk, found in matches.items():
            fresh = [m for m in found if (chat_pk, m.brief.brief_id) not in done]
            room = max(0, self.alerts_per_hour - recent.get(chat_pk, 0))
            tr = translator(languages.get(chat_pk))
            for match in fresh[:room]:
                message = Message(kind="alert", heading=tr.gettext("Alert: {query}", query=match.subscriber.display),
                                  items=[brief_item(match.brief)])
                add(chat_pk, match.subscriber.thread_id, f"alert:{chat_pk}:{match.brief.brief_id}", message, [match])
            by_thread: dict[str | None, list[_Match]] = defaultdict(list)
            for match in fresh[room:]:
                by_thread[match.subscriber.thread_id].append(match)
            for thread_id, folded in by_thread.items():
                # The first story identifies the fold: a story is alerted to a chat only once.
                add(chat_pk, thread_id, f"alert-fold:{chat_pk}:{folded[0].brief.brief_id}",
                    self.folded_message(folded, languages.get(chat_pk)), folded)
        tx.chats.record_alerts(records, now=now)
        return tx.outbox.enqueue_many(messages, now=now)

    def folded_message(self, matches: list[_Match], language: str | None = None) -> Message:
        tr, count = translator(language), len(matches)
        items = [BriefItem(headline=f"{item.headline} ({match.subscriber.display})", points=[], links=item.links,
                           published=item.published, brief_id=item.brief_id)
                 for match in matches for item in [brief_item(match.brief)]]
        return Message(kind="alert", heading=tr.ngettext("{n} more story matched your alerts",
                                                         "{n} more stories matched your alerts", count), items=items,
                       footer=tr.gettext("This chat gets at most {limit} single alerts an hour; the rest come "
                                         "together like this.", limit=self.alerts_per_hour), language=language)


def searchable_text(brief: StoredBrief) -> str:
    """What a subscription is matched against: the article's title, the brief's headline and points."""
    return "\n".join(part for part in [brief.title or "", brief.headline, *brief.points] if part)
