"""The store: one engine, and units of work whose repositories share one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.store.actions import ActionRepo
from bot.store.articles import ArticleRepo
from bot.store.chat_language import ChatLanguageRepo
from bot.store.chats import ChatRepo
from bot.store.db import make_engine, migrate
from bot.store.events import SeenEventRepo
from bot.store.outbox import OutboxRepo
from bot.store.rate_slots import RateSlotRepo
from bot.store.sources import SourceRepo


# Set by Store.waiting_at_most; copied into asyncio.to_thread's threads with the rest of the context.
_LOCK_WAIT_S: ContextVar[float | None] = ContextVar("lock_wait_s", default=None)


class StoreBusy(Exception):
    """Another connection held the database's lock longer than this work may wait."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(f"the database stayed locked for {waited_s:g} s")
        self.waited_s = waited_s


class Tx:
    """Repositories bound to one session: what they write commits together or not at all."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sources = SourceRepo(session)
        self.articles = ArticleRepo(session)
        self.chats = ChatRepo(session)
        self.chat_language = ChatLanguageRepo(session)
        self.outbox = OutboxRepo(session)
        self.events = SeenEventRepo(session)
        self.rate_slots = RateSlotRepo(session)
        self.actions = ActionRepo(session)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine)
        self._bounded: dict[float, sessionmaker] = {}

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
        wait_s = _LOCK_WAIT_S.get()
        if wait_s is None:
            with self._sessions() as session, session.begin():
                yield Tx(session)
            return
        try:
            with self._bounded_sessions(wait_s)() as session, session.begin():
                if self.dialect == "postgresql":
                    session.execute(text(f"SET LOCAL lock_timeout = {int(wait_s * 1000)}"))
                yield Tx(session)
        except OperationalError as exc:
            if _is_lock_timeout(exc):
                raise StoreBusy(wait_s) from exc
            raise

    @contextmanager
    def waiting_at_most(self, seconds: float) -> Iterator[None]:
        """Transactions begun inside (also in threads started inside) wait at most `seconds` for a lock
        held elsewhere, then raise StoreBusy: a person gets an answer, not a long silence."""
        token = _LOCK_WAIT_S.set(seconds)
        try:
            yield
        finally:
            _LOCK_WAIT_S.reset(token)

    def _bounded_sessions(self, wait_s: float) -> sessionmaker:
        if wait_s not in self._bounded:
            self._bounded[wait_s] = sessionmaker(self.engine.execution_options(lock_wait_s=wait_s))
        return self._bounded[wait_s]

    def close(self) -> None:
        self.engine.dispose()


def _is_lock_timeout(exc: OperationalError) -> bool:
    # SQLite: "database is locked"; PostgreSQL: lock_not_available (55P03).
    return "locked" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "55P03"
