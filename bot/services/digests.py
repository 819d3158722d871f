"""Daily digests: a chat's new briefs since its last digest, grouped into stories, queued once a day.

A scheduled run reads the briefs, groups them (the embedding model runs outside any transaction),
then in one transaction locks the chat's schedule, checks that nobody ran it meanwhile, queues the
digest under `digest:<chat>:<local date>` and advances `next_run_at` and `covered_until`. A crash
before that commit leaves the schedule due, so the digest goes at the next start (within the grace);
a second run of the same day finds the key taken: never two digests for one chat and day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from bot.domain.digest import SAME_STORY_THRESHOLD, DigestBrief, Story, digest_message, group_stories
from bot.domain.models import Message
from bot.domain.schedule import next_run, parse_local_time
from bot.metrics import Metrics
from bot.store.articles import StoredBrief
from bot.store.store import Store

log = logging.getLogger(__name__)
Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class DigestRun:
    """What a scheduled run did: "sent", "empty" (nothing to say), "duplicate" (that day's digest
    was queued before), "skipped" (missed by more than the grace), "not_due" or "no_schedule"."""

    outcome: str
    next_run_at: datetime | None


class DigestService:
    def __init__(self, *, store: Store, embed: Embed | None = None, max_items: int = 12, max_briefs: int = 300,
                 threshold: float = SAME_STORY_THRESHOLD, first_digest_window: timedelta = timedelta(hours=24),
                 metrics: Metrics | None = None) -> None:
        """`embed`: texts -> L2-normalized embeddings (default: summarizer.embed, MiniLM). `max_items`
        stories are shown (the footer counts the rest); at most `max_briefs` newest briefs are grouped."""
        if embed is None:
            from summarizer import embed
        self.store = store
        self.embed = embed
        self.max_items = max_items
        self.max_briefs = max_briefs
        self.threshold = threshold
        self.first_digest_window = first_digest_window
        self.metrics = metrics

    def compose(self, chat_id: int, now: datetime) -> Message:
        """This chat's digest now (the /digest command); the schedule is left as it is."""
        with self.store.transaction() as tx:
            schedule = tx.chats.schedule(chat_id)
            covered_until = schedule.covered_until if schedule else None
            zone = ZoneInfo(schedule.timezone if schedule else tx.chats.get(chat_id).timezone)
            briefs = tx.articles.briefs_for_chat(chat_id, since=covered_until or now - self.first_digest_window,
                                                 until=now, limit=self.max_briefs)
        message = digest_message(self.stories(briefs), heading=heading(now.astimezone(zone).date()),
                                 max_items=self.max_items, say_when_empty=True, first=covered_until is None)
        assert message is not None
        return message

    def run_due(self, chat_id: int, now: datetime, *, grace: timedelta) -> DigestRun:
        """The scheduled digest of a chat, if due: queued once, or skipped when missed by more than `grace`."""
        with self.store.transaction() as tx:
            schedule, chat = tx.chats.schedule(chat_id), tx.chats.get(chat_id)
            if schedule is None or chat is None or not chat.active:
                return DigestRun("no_schedule", None)
            due = schedule.next_run_at
            if due > now:
                return DigestRun("not_due", due)
            local, zone = parse_local_time(schedule.local_time), ZoneInfo(schedule.timezone)
            following = next_run(local, zone, max(now, due))
            if now - due > grace:
                schedule.next_run_at = following
                log.warning("digest of chat %s due at %s was missed by %s (more than the %s grace): skipped; "
                            "next at %s", chat_id, due.isoformat(), now - due, grace, following.isoformat())
                return DigestRun("skipped", following)
            first = schedule.covered_until is None  # the first digest covers the day before it
            briefs = tx.articles.briefs_for_chat(chat_id, since=schedule.covered_until or now - self.first_digest_window,
                                                 until=now, limit=self.max_briefs)
        day = due.astimezone(zone).date()
        message = digest_message(self.stories(briefs), heading=heading(day), max_items=self.max_items,
                                 say_when_empty=chat.empty_digest == "say", first=first)
        with self.store.transaction() as tx:
            schedule = tx.chats.lock_schedule(chat_id)
            if schedule is None or schedule.next_run_at != due:  # another process ran it, or it was changed
                return DigestRun("not_due", schedule.next_run_at if schedule else None)
            outcome = "empty"
            if message is not None:
                # The scheduled time rides along so that delivery can measure the digest's lag.
                payload = {**message.to_dict(), "scheduled_at": due.isoformat()}
                queued = tx.outbox.enqueue(chat_id=chat_id, kind="digest", dedupe_key=f"digest:{chat_id}:{day}",
                                           payload=payload, thread_id=schedule.thread_id, now=now)
                outcome = "sent" if queued else "duplicate"
                if queued and self.metrics:
                    self.metrics.digest_lag((now - due).total_seconds())
            if outcome != "duplicate":
                schedule.covered_until = now
            schedule.next_run_at, schedule.last_run_at = following, now
        log.info("digest of chat %s for %s: %s (%d briefs); next at %s", chat_id, day, outcome, len(briefs),
                 following.isoformat())
        return DigestRun(outcome, following)

    def stories(self, briefs: list[StoredBrief]) -> list[Story]:
        entries = [DigestBrief(brief_id=b.brief_id, headline=b.headline, points=list(b.points), url=b.url,
                               created_at=b.created_at, sources=tuple(b.source_titles), published=b.published_at)
                   for b in briefs]
        if not entries:
            return []
        try:
            vectors = self.embed([entry.embedding_text() for entry in entries])
        except Exception:  # a digest without grouping beats no digest
            log.exception("embedding %d briefs failed; the digest lists them ungrouped", len(entries))
            vectors = np.eye(len(entries))
        return group_stories(entries, vectors, self.threshold)


def heading(day: date) -> str:
    return f"Your digest for {day:%A} {day.day} {day:%B %Y}"
