"""The store: one engine, and units of work whose repositories share one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.store.articles import ArticleRepo
from bot.store.chats import ChatRepo
from bot.store.db import make_engine, migrate
from bot.store.events import SeenEventRepo
from bot.store.outbox import OutboxRepo
from bot.store.rate_slots import RateSlotRepo
from bot.store.sources import SourceRepo


class Tx:
    """Repositories bound to one session: what they write commits together or not at all."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sources = SourceRepo(session)
        self.articles = ArticleRepo(session)
        self.chats = ChatRepo(session)
        self.outbox = OutboxRepo(session)
        self.events = SeenEventRepo(session)
        self.rate_slots = RateSlotRepo(session)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, run_migrations: bool = True) -> Store:
        engine = make_engine(url)
        if run_migrations:
            migrate(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        with self._sessions() as session, session.begin():
            yield Tx(session)

    def close(self) -> None:
        self.engine.dispose()
