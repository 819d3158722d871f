"""Digest assembly: the same event told by several sources becomes one entry, most important first.

Two briefs tell one event when the cosine similarity of their embeddings (headline and key points),
plus MARKS_WEIGHT x (overlap of their names and numbers - 0.5), reaches SAME_STORY_THRESHOLD: shared
names and numbers pull rewrites of one event together, different ones keep two storms or two races
on one topic apart. Groups form by complete linkage: two groups merge only when every pair across
them passes, so a chain of loosely related stories never collapses into one. The weight and the
threshold were chosen on a labelled set of same-event and same-topic pairs (bench/grouping.py): the
threshold merges none of its different-event pairs, the weight merges the most same-event ones.

A story ranks by how many sources told it, then by how many briefs it has, then by its newest brief.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import numpy as np

from bot.domain.models import BriefItem, Link, Message
from bot.i18n import translator
from bot.i18n.dates import clock, weekday_date

SAME_STORY_THRESHOLD = 0.885
MARKS_WEIGHT = 0.3
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\s+[-–—|]\s+")
_MARK = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s?$")
# Capitalized only because they open a sentence or a title.
_OPENERS = frozenset("a an the this that these those in on at for but and or he she it we they i his her its their "
                     "our my after as when with from by of to if while new how why what who".split())


@dataclass(frozen=True)
class DigestBrief:
    brief_id: int
    headline: str
    points: list[str]
    url: str | None
    created_at: datetime
    sources: tuple[str, ...] = ()  # names of the feeds that carried it
    published: datetime | None = None

    def embedding_text(self) -> str:
        return " ".join([self.headline, *self.points])


@dataclass(frozen=True)
class Story:
    briefs: tuple[DigestBrief, ...]  # the lead first

    @property
    def lead(self) -> DigestBrief:
        return self.briefs[0]

    @property
    def sources(self) -> set[str]:
        return {source for brief in self.briefs for source in brief.sources}

    @property
    def newest(self) -> datetime:
        return max(brief.created_at for brief in self.briefs)

    def importance(self) -> tuple:
        """Sort key: more sources first, then more briefs, then the most recent; brief id breaks ties."""
        return (-max(len(self.sources), 1), -len(self.briefs), -self.newest.timestamp(), self.lead.brief_id)

    def item(self) -> BriefItem:
        links, seen = [], set()
        for brief in self.briefs:
            if brief.url and brief.url not in seen:
                seen.add(brief.url)
                links.append(Link(label=brief.sources[0] if brief.sources else _host(brief.url), url=brief.url))
        return BriefItem(headline=self.lead.headline, points=list(self.lead.points), links=links,
                         published=self.lead.published, brief_id=self.lead.brief_id)


def story_marks(tellings: list[list[str]]) -> list[frozenset[str]]:
    """What tells one event from another on the same topic, for each telling (a brief's headline and
    points): its names and numbers, folded. A name is a capitalized word where a sentence does not
    start (people, places, teams, storms, weekdays, months); a word that opens a sentence counts when
    it is a name somewhere in these tellings ("Labour takes..." beside "Britain's Labour Party").

    >>> [sorted(marks) for marks in story_marks([["Storm Ciarán hits Cornwall on Tuesday, 3 dead"], ["Ciarán weakens."]])]
    [['3', 'ciarán', 'cornwall', 'tuesday'], ['ciarán']]
    """
    split = [[_MARK.findall(sentence) for text in texts for sentence in _SENTENCE.split(text)] for texts in tellings]
    names = {_fold(word) for sentences in split for words in sentences for word in words[1:]
             if word[0].isupper()} - _OPENERS
    marks = []
    for sentences in split:
        found: set[str] = set()
        for words in sentences:
            for word in words:
                if word[0].isdigit():
                    found.add(word.replace(",", ""))
                elif word[0].isupper() and _fold(word) in names:
                    found.add(_fold(word))
        marks.append(frozenset(found))
    return marks


def _fold(word: str) -> str:
    return _POSSESSIVE.sub("", word).casefold()


def marks_overlap(first: frozenset[str], second: frozenset[str]) -> float:
    """Share of the smaller set of marks found in the other; 0.5 (no say) when either has none."""
    if not first or not second:
        return 0.5
    return len(first & second) / min(len(first), len(second))


def same_story_affinity(embeddings: np.ndarray, marks: list[frozenset[str]], *,
                        weight: float = MARKS_WEIGHT) -> np.ndarray:
    """Pairwise: cosine of the embeddings, raised by shared names and numbers and lowered by different
    ones (`weight` x (overlap - 0.5)), as measured in bench/grouping.py."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    affinity = vectors @ vectors.T
    if weight:
        overlap = np.array([[marks_overlap(a, b) for b in marks] for a in marks])
        affinity += weight * (overlap - 0.5)
    return affinity


def group_stories(briefs: list[DigestBrief], embeddings: np.ndarray | None = None,
                  threshold: float = SAME_STORY_THRESHOLD, *, affinity: np.ndarray | None = None) -> list[Story]:
    """Cluster briefs (rows of `embeddings`, L2-normalized) into stories, most important first.
    `affinity`: the pairwise matrix to use instead (default: `same_story_affinity` of the briefs)."""
    if affinity is None:
        if embeddings is None or len(briefs) != len(embeddings):
            raise ValueError(f"{len(briefs)} briefs but {0 if embeddings is None else len(embeddings)} embeddings")
        tellings = [[brief.headline, *brief.points] for brief in briefs]
        affinity = same_story_affinity(embeddings, story_marks(tellings)) if briefs else None
    if not briefs:
        return []
    groups = _complete_linkage(np.array(affinity, dtype=np.float64), threshold)
    stories = []
    for members in groups:
        # The lead: carried by the most feeds, else the first report.
        ordered = sorted((briefs[i] for i in members), key=lambda b: (-len(b.sources), b.created_at, b.brief_id))
        stories.append(Story(tuple(ordered)))
    return sorted(stories, key=Story.importance)


def _complete_linkage(similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Agglomerative clustering: repeatedly merge the two most similar groups while their least
    similar pair is still >= threshold (Lance-Williams update: the linkage of a merge is the minimum)."""
    count = len(similarity)
    linkage = similarity.copy()
    np.fill_diagonal(linkage, -np.inf)
    members = {i: [i] for i in range(count)}
    alive = np.ones(count, dtype=bool)
    while True:
        masked = np.where(alive[:, None] & alive[None, :], linkage, -np.inf)
        a, b = np.unravel_index(int(np.argmax(masked)), masked.shape)
        if masked[a, b] < threshold:
            break
        a, b = min(a, b), max(a, b)
        merged = np.minimum(linkage[a], linkage[b])
        linkage[a, :], linkage[:, a] = merged, merged
        linkage[a, a] = -np.inf
        alive[b] = False
        members[a] += members.pop(b)
    return [sorted(group) for _, group in sorted(members.items())]


def period_phrase(since: datetime, now: datetime, zone: ZoneInfo, language: str | None = None) -> str:
    """"since 07:30 yesterday", "since 10:14 today", "since Monday 2 March, 07:30": in the chat's own time
    and language."""
    tr = translator(language)
    start, today = since.astimezone(zone), now.astimezone(zone).date()
    time = clock(start, tr.language, zone.key)
    if start.date() == today:
        return tr.gettext("since {time} today", time=time)
    if start.date() == today - timedelta(days=1):
        return tr.gettext("since {time} yesterday", time=time)
    return tr.gettext("since {date}, {time}", date=weekday_date(start, tr.language, zone.key,
                                                                     year=start.year != today.year),
                      time=time)


def digest_message(stories: list[Story], *, heading: str, max_items: int, say_when_empty: bool, period: str,
                   recap: bool = False, timezone: str | None = None, language: str | None = None) -> Message | None:
    """The digest to post: None on an empty day when the chat prefers silence. `period` says what it
    covers ("since 07:30 yesterday"); a `recap` repeats the stories already sent in that period. Its
    words are in `language` (English by default); the briefs stay in their articles' languages."""
    tr = translator(language)
    if recap:
        text = (tr.gettext("Recap of every story {period}, those already sent included.", period=period) if stories
                else tr.gettext("No stories {period}.", period=period))
    else:
        text = (tr.gettext("New {period}:", period=period) if stories
                else tr.gettext("No new stories {period}.", period=period))
    if not stories:
        if not say_when_empty:
            return None
        return Message(kind="digest", heading=heading, text=text, timezone=timezone, language=language)
    shown = stories[:max_items]
    left = len(stories) - len(shown)
    footer = (tr.ngettext("{n} more story not shown; /summary lists the latest.",
                          "{n} more stories not shown; /summary lists the latest.", left) if left else None)
    return Message(kind="digest", heading=heading, text=text, items=[story.item() for story in shown],
                   footer=footer, timezone=timezone, language=language)


def _host(url: str) -> str:
    return urlsplit(url).hostname or url
