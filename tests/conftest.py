"""Fixtures shared by every test module."""

from __future__ import annotations

import os

import pytest

from tests.fixtures.databases import postgres_schema_url, sqlite_url

# Nothing in the tests may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The same test on a real SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema_url() as url:
            yield url


@pytest.fixture
def store(database_url):
    from bot.store.store import Store

    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def tg():
    """A stand-in of the Telegram Bot API on 127.0.0.1, for the real python-telegram-bot to talk to."""
    from tests.standins.telegram import TelegramStandIn

    with TelegramStandIn() as stand_in:
        yield stand_in
