"""INSERT ... ON CONFLICT DO NOTHING for both SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Any, values: dict[str, Any], *, returning: Any = None) -> Any:
    """Insert a row unless a unique constraint already holds it; returns `returning` of the new row or None."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values).on_conflict_do_nothing()
    if returning is not None:
        return session.execute(statement.returning(returning)).scalar_one_or_none()
    session.execute(statement)
    return None


def insert_ignore_many(session: Session, table: Any, rows: list[dict[str, Any]], *,
                       returning: Any = None) -> list[Any]:
    """`insert_ignore` for many rows at once (one executemany on the Core table: no ORM overhead);
    with `returning`, that column of the rows this call inserted (not those a concurrent writer holds)."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table.__table__).on_conflict_do_nothing()
    if returning is None:
        session.execute(statement, rows)
        return []
    return list(session.execute(statement.returning(returning), rows).scalars())
