"""Daily digests: a chat's new briefs since its last digest, grouped into stories, queued once a day.

Every story a digest shows (scheduled or asked for with /digest) is noted in the digest log; the next
digest starts where the last one ended and leaves out any story the chat already got, a later rewrite
of it included. `/digest recap` shows the last day again, and notes nothing.

A scheduled run reads the briefs, groups them (the embedding model runs outside any transaction),
then in one transaction locks the chat's schedule, checks that nobody ran it meanwhile, queues the
digest under `digest:<chat>:<local date>` and advances `next_run_at` and `covered_until`. A crash
before that commit leaves the schedule due, so the digest goes at the next start (within the grace);
a second run of the same day finds the key taken: never two digests for one chat and day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from bot.domain.actions import ButtonRows
from bot.domain.digest import SAME_STORY_THRESHOLD, DigestBrief, Story, digest_message, group_stories, period_phrase
from bot.domain.models import Message
from bot.domain.schedule import next_run, parse_local_time
from bot.i18n import translator
from bot.i18n.dates import weekday_date
from bot.runtime.metrics import Metrics
from bot.services.actions import feed_brief_buttons
from bot.store.articles import StoredBrief
from bot.store.store import Store, Tx

log = logging.getLogger(__name__)
Embed = Callable[[list[str]], np.ndarray]
SENT_MEMORY = timedelta(days=3)  # how long a story sent in a digest is recognized in a later rewrite


@dataclass(frozen=True)
class DigestRun:
    """What a scheduled run did: "sent", "empty" (nothing to say), "duplicate" (that day's digest
    was queued before), "skipped" (missed by more than the grace), "not_due" or "no_schedule"."""

    outcome: str
    next_run_at: datetime | None


class DigestService:
    def __init__(self, *, store: Store, embed: Embed, max_items: int = 12, max_briefs: int = 300,
                 threshold: float = SAME_STORY_THRESHOLD, first_digest_window: timedelta = timedelta(hours=24),
                 metrics: Metrics | None = None) -> None:
        """`embed`: texts -> L2-normalized embeddings (`BriefMaker.embed`: the summarizer's model, on its
        thread). `max_items` stories are shown (the footer counts the rest); at most `max_briefs` newest
        briefs are grouped."""
        self.store = store
        self.embed = embed
        self.max_items = max_items
        self.max_briefs = max_briefs
        self.threshold = threshold
        self.first_digest_window = first_digest_window
        self.metrics = metrics

    def compose(self, chat_pk: int, now: datetime, *, recap: bool = False, language: str | None = None) -> Message:
        """This chat's digest now (the /digest command); the schedule is left as it is. The stories it
        shows are noted, so that no later digest repeats them; a `recap` shows the last day's stories,
        those already sent included, and notes nothing. `language`: the one the chat is answered in
        (default: the chat's own, as for a scheduled digest)."""
        with self.store.transaction() as tx:
            chat, schedule = tx.chats.chat(chat_pk), tx.chats.schedule(chat_pk)
            zone = ZoneInfo(schedule.timezone if schedule else chat.timezone)
            since, first = (now - self.first_digest_window, True) if recap else self._since(tx, chat_pk, now)
            briefs = tx.articles.briefs_for_chat(chat_pk, since=since, until=now, limit=self.max_briefs)
            sent = [] if recap else self._sent(tx, chat_pk, now)
            language = language or tx.chat_language.resolved([chat_pk]).get(chat_pk)
        stories = self.stories(briefs, sent)
        message = digest_message(stories, heading=heading(now.astimezone(zone).date(), language),
                                 max_items=self.max_items, say_when_empty=True,
                                 period=self._period(since, now, zone, first, language), recap=recap,
                                 timezone=chat.timezone, language=language)
        assert message is not None
        if not recap and stories:
            with self.store.transaction() as tx:
                tx.chats.record_digest(chat_pk, self._shown(stories), now=now)
        if stories:
            with self.store.transaction() as tx:
                message = replace(message, buttons=mute_buttons(tx, chat_pk, self._shown(stories), briefs, now))
        return message

    def run_due(self, chat_pk: int, now: datetime, *, grace: timedelta) -> DigestRun:
        """The scheduled digest of a chat, if due: queued once, or skipped when missed by more than `grace`."""
        with self.store.transaction() as tx:
            schedule, chat = tx.chats.schedule(chat_pk), tx.chats.chat(chat_pk)
            if schedule is None or chat is None or not chat.active:
                return DigestRun("no_schedule", None)
            due = schedule.next_run_at
            if due > now:
                return DigestRun("not_due", due)
            local, zone = parse_local_time(schedule.local_time), ZoneInfo(schedule.timezone)
            following = next_run(local, zone, max(now, due))
            if now - due > grace:
                tx.chats.advance_schedule(chat_pk, next_run_at=following)
                log.warning("digest of chat %s due at %s was missed by %s (more than the %s grace): skipped; "
                            "next at %s", chat_pk, due.isoformat(), now - due, grace, following.isoformat())
                return DigestRun("skipped", following)
            since, first = self._since(tx, chat_pk, now)
            briefs = tx.articles.briefs_for_chat(chat_pk, since=since, until=now, limit=self.max_briefs)
            sent = self._sent(tx, chat_pk, now)
            language = tx.chat_language.resolved([chat_pk]).get(chat_pk)
        day = due.astimezone(zone).date()
        stories = self.stories(briefs, sent)
        message = digest_message(stories, heading=heading(day, language), max_items=self.max_items,
                                 say_when_empty=chat.empty_digest == "say",
                                 period=self._period(since, now, zone, first, language), timezone=chat.timezone,
                                 language=language)
        with self.store.transaction() as tx:
            schedule = tx.chats.lock_schedule(chat_pk)
            if schedule is None or schedule.next_run_at != due:  # another process ran it, or it was changed
                return DigestRun("not_due", schedule.next_run_at if schedule else None)
            outcome = "empty"
            if message is not None:
                message = replace(message, buttons=mute_buttons(tx, chat_pk, self._shown(stories), briefs, now))
                # The scheduled time rides along so that delivery can measure the digest's lag.
                payload = {**message.to_dict(), "scheduled_at": due.isoformat()}
                queued = tx.outbox.enqueue(chat_pk=chat_pk, kind="digest", dedupe_key=f"digest:{chat_pk}:{day}",
                                           payload=payload, thread_id=schedule.thread_id, now=now)
                outcome = "sent" if queued else "duplicate"
                if queued:
                    tx.chats.record_digest(chat_pk, self._shown(stories), now=now)
                    if self.metrics:
                        self.metrics.digest_lag((now - due).total_seconds())
            tx.chats.advance_schedule(chat_pk, next_run_at=following, ran_at=now,
                                      covered_until=now if outcome != "duplicate" else None)
        log.info("digest of chat %s for %s: %s (%d briefs); next at %s", chat_pk, day, outcome, len(briefs),
                 following.isoformat())
        return DigestRun(outcome, following)

    def stories(self, briefs: list[StoredBrief], sent: list[StoredBrief] = ()) -> list[Story]:
        """The new briefs grouped into stories. `sent`: briefs this chat already got in a digest; they are
        grouped too, and a story that holds one is left out (a later rewrite of it is no news)."""
        sent_ids = {b.brief_id for b in sent}
        pool = [*(b for b in briefs if b.brief_id not in sent_ids), *sent]
        entries = [DigestBrief(brief_id=b.brief_id, headline=b.headline, points=list(b.points), url=b.url,
                               created_at=b.created_at, sources=tuple(b.source_titles), published=b.published_at)
                   for b in pool]
        if not entries:
            return []
        try:
            vectors = self.embed([entry.embedding_text() for entry in entries])
        except Exception:  # a digest without grouping beats no digest
            log.exception("embedding %d briefs failed; the digest lists them ungrouped", len(entries))
            vectors = np.eye(len(entries))
        stories = group_stories(entries, vectors, self.threshold)
        return [story for story in stories if not any(b.brief_id in sent_ids for b in story.briefs)]

    def _since(self, tx, chat_pk: int, now: datetime) -> tuple[datetime, bool]:
        """Where the next digest starts: at the last digest, scheduled or asked for; the first one covers
        the day before it (`first` is True then)."""
        schedule = tx.chats.schedule(chat_pk)
        marks = [at for at in (schedule.covered_until if schedule else None, tx.chats.last_digest_at(chat_pk)) if at]
        return (max(marks), False) if marks else (now - self.first_digest_window, True)

    def _sent(self, tx, chat_pk: int, now: datetime) -> list[StoredBrief]:
        return tx.articles.briefs_by_id(tx.chats.digested(chat_pk, since=now - SENT_MEMORY))

    def _period(self, since: datetime, now: datetime, zone: ZoneInfo, first: bool, language: str | None = None) -> str:
        phrase = period_phrase(since, now, zone, language)
        if not first:
            return phrase
        hours = round(self.first_digest_window.total_seconds() / 3600)
        return translator(language).ngettext("in the last {n} hour ({period})", "in the last {n} hours ({period})",
                                             hours, period=phrase)

    def _shown(self, stories: list[Story]) -> list[int]:
        return [brief.brief_id for story in stories[:self.max_items] for brief in story.briefs]


def mute_buttons(tx: Tx, chat_pk: int, brief_ids: list[int], briefs: list[StoredBrief],
                 now: datetime) -> ButtonRows:
    """Under a digest: Mute for each feed the chat follows that carried one of the briefs it shows."""
    articles = {brief.brief_id: brief.article_id for brief in briefs}
    shown = dict.fromkeys(articles[i] for i in brief_ids if i in articles)
    source_ids = dict.fromkeys(source_id for article_id in shown for source_id in tx.articles.source_ids(article_id))
    return feed_brief_buttons(tx, chat_pk, [s for s in map(tx.sources.get, source_ids) if s is not None], now=now)


def heading(day: date, language: str | None = None) -> str:
    return translator(language).gettext("Your digest for {date}", date=weekday_date(day, language))
