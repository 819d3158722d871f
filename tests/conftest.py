"""Fixtures shared by every test module."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

from tests.support.databases import postgres_schema_url, sqlite_url

# Nothing in the tests may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Processes the tests start (`python -m bot ...`) run this checkout's code, whichever checkout is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[1]),
                                                         os.environ.get("PYTHONPATH")]))

_real_connect, _real_connect_ex = socket.socket.connect, socket.socket.connect_ex


def _loopback_only(address) -> None:
    """Every test talks to servers of its own on 127.0.0.1; a connection anywhere else is a bug in the test
    (python-telegram-bot's own suite has the same guard)."""
    if isinstance(address, tuple) and address:
        try:
            if not ipaddress.ip_address(address[0]).is_loopback:
                raise OSError(f"a test tried to reach a real host: {address[0]}")
        except ValueError:  # a name, not an address: connect() would resolve it
            if address[0] != "localhost":
                raise OSError(f"a test tried to reach a real host: {address[0]}") from None


def _guarded_connect(self, address):
    _loopback_only(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _loopback_only(address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex


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
    from tests.support.standins.telegram import TelegramStandIn

    with TelegramStandIn() as stand_in:
        yield stand_in
