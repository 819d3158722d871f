"""The test suite's own guard: a test that tries to reach a host other than 127.0.0.1 fails at once."""

import asyncio
import socket

import pytest


@pytest.mark.parametrize("host", ["192.0.2.1", "2001:db8::1", "example.org"])
def test_a_connection_outside_loopback_is_refused(host):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(OSError, match="reach a real host"):
        sock.connect((host, 443))


def test_asyncio_connections_are_guarded_too():
    async def connect():
        await asyncio.open_connection("192.0.2.1", 443)

    with pytest.raises(OSError, match="reach a real host"):
        asyncio.run(connect())


def test_loopback_still_connects():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
