"""A chat's chosen language (migration 0005_i18n and bot.store.chat_language), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from bot.store.db import alembic_config, make_engine
from bot.store.store import Store


def test_a_chat_follows_the_default_rule_until_a_language_is_chosen(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", "-100", kind="group")
        assert tx.chat_language.language(chat.id) is None
        assert tx.chat_language.set_language(chat.id, "es")
    with store.transaction() as tx:
        assert tx.chat_language.language(chat.id) == "es"
        assert tx.chats.get(chat.id).language == "es"
        assert tx.chat_language.set_language(chat.id, None)  # /language auto
    with store.transaction() as tx:
        assert tx.chat_language.language(chat.id) is None


def test_an_unsupported_code_or_a_missing_chat_changes_nothing(store):
    with store.transaction() as tx:
        chat = tx.chats.ensure("slack", "C1", kind="channel")
        tx.chat_language.set_language(chat.id, "de")
    with pytest.raises(ValueError, match="xx"):
        with store.transaction() as tx:
            tx.chat_language.set_language(chat.id, "xx")
    with store.transaction() as tx:
        assert tx.chat_language.language(chat.id) == "de"
        assert not tx.chat_language.set_language(chat.id + 1000, "fr")
        assert tx.chat_language.language(chat.id + 1000) is None


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            config = alembic_config(engine)
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


def test_the_migration_keeps_existing_chats_and_goes_back_down(database_url):
    _migrate(database_url, "0004")
    engine = make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO chats (platform, chat_key, kind, timezone, empty_digest, active, created_at)"
                              " VALUES ('telegram', '42', 'private', 'UTC', 'skip', true, CURRENT_TIMESTAMP)"))
    finally:
        engine.dispose()

    opened = Store.open(database_url)  # upgrades to the head
    try:
        with opened.transaction() as tx:
            chat = tx.chats.find("telegram", "42")
            assert chat.language is None
            tx.chat_language.set_language(chat.id, "ru")
    finally:
        opened.close()

    _migrate(database_url, "0004", down=True)
    engine = make_engine(database_url)
    try:
        assert "language" not in {c["name"] for c in inspect(engine).get_columns("chats")}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT chat_key FROM chats")).scalars().all() == ["42"]
    finally:
        engine.dispose()
