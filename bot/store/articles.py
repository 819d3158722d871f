"""Articles (deduplicated), which feeds carried them, and their one brief each."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.runtime.clock import utcnow
from bot.store.tables import Article, ArticleSource, BriefRow, ChatSource, Source
from bot.store.upsert import insert_ignore, insert_ignore_many


@dataclass(frozen=True)
class NewArticle:
    fingerprint: str
    text: str
    url: str | None = None  # canonical
    title: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class PendingArticle:
    """A stored article waiting for its brief."""

    id: int
    text: str
    title: str | None
    url: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class StoredBrief:
    """A brief with what a reader needs around it."""

    brief_id: int
    article_id: int
    headline: str
    points: list[str]
    title: str | None
    url: str | None
    published_at: datetime | None
    created_at: datetime
    source_titles: tuple[str, ...] = ()


class ArticleRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def known_guids(self, source_id: int, guids: list[str]) -> set[str]:
        if not guids:
            return set()
        rows = self.session.scalars(select(ArticleSource.guid).where(
            ArticleSource.source_id == source_id, ArticleSource.guid.in_(guids)))
        return set(rows)

    def add(self, article: NewArticle, *, source_id: int | None = None, guid: str | None = None,
            now: datetime | None = None) -> tuple[int, bool]:
        """Store an article once; returns (article id, whether it is new). A duplicate only gains the link
        to the feed that carried it too."""
        [(article_id, created)] = self.add_many([(article, guid)], source_id=source_id, now=now)
        return article_id, created

    def add_many(self, articles: list[tuple[NewArticle, str | None]], *,
                 source_id: int | None = None, now: datetime | None = None) -> list[tuple[int, bool]]:
        """Store many (article, guid) pairs in a few statements: each story once, whether it arrived
        before, from another feed, or twice in this batch (same canonical URL or content fingerprint).
        Returns (article id, whether this call created it) for each pair, in order."""
        if not articles:
            return []
        urls = {article.url for article, _ in articles if article.url}
        fingerprints = {article.fingerprint for article, _ in articles}
        known = self._ids_by_key(urls, fingerprints)
        now = now or utcnow()
        fresh: dict[str, dict] = {}
        for article, _ in articles:
            if _lookup(known, article) is None and article.fingerprint not in fresh:
                fresh[article.fingerprint] = {
                    "url": article.url, "fingerprint": article.fingerprint, "title": article.title,
                    "text": article.text, "published_at": article.published_at, "status": "new",
                    "created_at": now}
        # ON CONFLICT DO NOTHING: a concurrent writer (or a URL shared within the batch) wins quietly,
        # and the story is new only to the call whose insert created it.
        inserted = set(insert_ignore_many(self.session, Article, list(fresh.values()), returning=Article.id))
        ids = self._ids_by_key(urls, fingerprints) if fresh else known
        results, counted = [], set()
        for article, _ in articles:
            article_id = _lookup(ids, article)
            assert article_id is not None
            is_new = article_id in inserted and article_id not in counted
            counted.add(article_id)
            results.append((article_id, is_new))
        if source_id is not None:
            insert_ignore_many(self.session, ArticleSource, [
                {"article_id": article_id, "source_id": source_id, "seen_at": now,
                 "guid": guid or article.url or article.fingerprint}
                for (article, guid), (article_id, _) in zip(articles, results)])
        return results

    def _ids_by_key(self, urls: set[str], fingerprints: set[str]) -> dict[str, int]:
        """Ids of stored articles, keyed by "url:<url>" and "fp:<fingerprint>"."""
        conditions = [Article.fingerprint.in_(fingerprints)]
        if urls:
            conditions.append(Article.url.in_(urls))
        keys: dict[str, int] = {}
        for article_id, url, fingerprint in self.session.execute(
                select(Article.id, Article.url, Article.fingerprint).where(or_(*conditions))):
            keys[f"fp:{fingerprint}"] = article_id
            if url:
                keys[f"url:{url}"] = article_id
        return keys

    def remember_skipped(self, source_id: int, guids: list[str], *, now: datetime | None = None) -> None:
        """Note the archive entries of a feed just added: known from now on, never posted, and blocking
        no other feed's copy of a story (no URL, fingerprints of their own)."""
        skipped = [(NewArticle(fingerprint=hashlib.sha256(f"skipped:{source_id}:{guid}".encode()).hexdigest(),
                               text=""), guid) for guid in guids]
        ids = [article_id for article_id, _ in self.add_many(skipped, source_id=source_id, now=now)]
        if ids:
            self.session.execute(update(Article).where(Article.id.in_(ids), Article.status == "new")
                                 .values(status="skipped"))

    def get(self, article_id: int) -> Article | None:
        return self.session.get(Article, article_id)

    def pending(self, limit: int) -> list[PendingArticle]:
        """Articles not summarized yet, oldest first."""
        rows = self.session.execute(
            select(Article.id, Article.text, Article.title, Article.url, Article.published_at)
            .where(Article.status == "new").order_by(Article.id).limit(limit))
        return [PendingArticle(*row) for row in rows]

    def pending_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(Article).where(Article.status == "new")) or 0

    def save_brief(self, article_id: int, *, headline: str, points: list[str], backend: str,
                   now: datetime | None = None) -> int | None:
        """Store the article's brief; None when another process already summarized it."""
        brief_id = insert_ignore(self.session, BriefRow, {
            "article_id": article_id, "headline": headline, "points": points, "backend": backend,
            "created_at": now or utcnow()}, returning=BriefRow.id)
        self.session.execute(update(Article).where(Article.id == article_id).values(status="summarized"))
        return brief_id

    def mark_failed(self, article_id: int, reason: str) -> None:
        self.session.execute(update(Article).where(Article.id == article_id)
                             .values(status="failed", summary_error=reason[:500]))

    def brief_for_article(self, article_id: int) -> StoredBrief | None:
        briefs = self._briefs(select(BriefRow, Article).join(Article, Article.id == BriefRow.article_id)
                              .where(BriefRow.article_id == article_id))
        return briefs[0] if briefs else None

    def briefs_by_id(self, brief_ids: list[int]) -> list[StoredBrief]:
        return self._briefs(select(BriefRow, Article).join(Article, Article.id == BriefRow.article_id)
                            .where(BriefRow.id.in_(brief_ids)).order_by(BriefRow.id))

    def briefs_for_chat(self, chat_pk: int, *, since: datetime | None = None, until: datetime | None = None,
                        limit: int = 50) -> list[StoredBrief]:
        """Newest briefs of the feeds a chat follows and has not paused (made after `since`, up to `until`)."""
        followed = select(ArticleSource.article_id).join(
            ChatSource, ChatSource.source_id == ArticleSource.source_id).where(
            ChatSource.chat_id == chat_pk, ChatSource.paused.is_(False))
        query = (select(BriefRow, Article).join(Article, Article.id == BriefRow.article_id)
                 .where(BriefRow.article_id.in_(followed)))
        if since is not None:
            query = query.where(BriefRow.created_at > since)
        if until is not None:
            query = query.where(BriefRow.created_at <= until)
        return self._briefs(query.order_by(BriefRow.created_at.desc(), BriefRow.id.desc()).limit(limit))

    def recent_briefs(self, *, limit: int = 50) -> list[StoredBrief]:
        """Newest briefs of every feed and request."""
        query = select(BriefRow, Article).join(Article, Article.id == BriefRow.article_id)
        return self._briefs(query.order_by(BriefRow.created_at.desc(), BriefRow.id.desc()).limit(limit))

    def brief_for_url(self, url: str) -> StoredBrief | None:
        """The brief of the article stored under this canonical URL."""
        briefs = self._briefs(select(BriefRow, Article).join(Article, Article.id == BriefRow.article_id)
                              .where(Article.url == url))
        return briefs[0] if briefs else None

    def _briefs(self, query) -> list[StoredBrief]:
        rows = self.session.execute(query).all()
        titles = self._source_titles([article.id for _, article in rows])
        return [StoredBrief(brief_id=brief.id, article_id=article.id, headline=brief.headline,
                            points=list(brief.points), title=article.title, url=article.url,
                            published_at=article.published_at, created_at=brief.created_at,
                            source_titles=tuple(titles.get(article.id, ())))
                for brief, article in rows]

    def _source_titles(self, article_ids: list[int]) -> dict[int, list[str]]:
        if not article_ids:
            return {}
        rows = self.session.execute(
            select(ArticleSource.article_id, func.coalesce(Source.title, Source.url))
            .join(Source, Source.id == ArticleSource.source_id)
            .where(ArticleSource.article_id.in_(article_ids)).order_by(ArticleSource.id)).all()
        titles: dict[int, list[str]] = {}
        for article_id, title in rows:
            titles.setdefault(article_id, []).append(title)
        return titles

    def source_ids(self, article_id: int) -> list[int]:
        return list(self.session.scalars(
            select(ArticleSource.source_id).where(ArticleSource.article_id == article_id)))


def _lookup(keys: dict[str, int], article: NewArticle) -> int | None:
    if article.url and f"url:{article.url}" in keys:
        return keys[f"url:{article.url}"]
    return keys.get(f"fp:{article.fingerprint}")
