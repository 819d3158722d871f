"""The bot's HTTP server against idle and hostile clients on 127.0.0.1: connections that never finish their
headers are closed after the idle timeout while /healthz keeps answering; beyond the connection cap a
client gets a 503; at the open-file limit the accept errors are logged once per interval, not a flood."""

from __future__ import annotations

import asyncio
import resource
import socket
import subprocess
import sys
import textwrap
import time

import httpx
import pytest

from bot.runtime.health import make_health_routes
from bot.runtime.http_server import HttpServer
from bot.runtime.metrics import Metrics
from tests.support.bot_process import ROOT

pytestmark = pytest.mark.hostile
HALF_OPEN = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "  # headers that never end


async def started(**options) -> HttpServer:
    http = HttpServer("127.0.0.1", 0, **options)
    for route in make_health_routes({}, Metrics(), lambda: 0):
        http.route(*route)
    await http.start()
    return http


async def open_half(port: int, count: int) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(HALF_OPEN)
        connections.append((reader, writer))
    return connections


async def closed_by_server(reader: asyncio.StreamReader, within_s: float) -> bool:
    try:
        await asyncio.wait_for(reader.read(), within_s)  # b"" (or a reset) once the server closes it
    except TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


async def test_a_thousand_incomplete_header_connections_are_closed_after_the_timeout_and_healthz_answers():
    http = await started(idle_timeout_s=1.5)
    try:
        connections = await open_half(http.port, 1000)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}", timeout=2) as client:
            health = await client.get("/healthz")
        assert health.status_code == 200 and len(http._runner.server.connections) >= 1000
        closed = await asyncio.gather(*(closed_by_server(reader, 15) for reader, _ in connections))
        assert all(closed), f"{closed.count(False)} of 1000 half-open connections still open"
        assert http._runner.server.connections == []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}", timeout=2) as client:
            assert (await client.get("/healthz")).status_code == 200
    finally:
        for _, writer in connections:
            writer.close()
        await http.stop()


async def test_a_connection_beyond_the_cap_gets_503_and_the_server_recovers_when_idle_ones_go():
    http = await started(idle_timeout_s=1, max_connections=5)
    try:
        held = await open_half(http.port, 5)
        await asyncio.sleep(0.1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http.port}", timeout=2) as client:
            refused = await client.get("/healthz")
            await asyncio.gather(*(closed_by_server(reader, 10) for reader, _ in held))
            again = await client.get("/healthz")
        assert refused.status_code == 503 and again.status_code == 200
    finally:
        for _, writer in held:
            writer.close()
        await http.stop()


SERVER_AT_FD_LIMIT = textwrap.dedent("""
    import asyncio, resource
    from bot.runtime.health import make_health_routes
    from bot.runtime.http_server import HttpServer
    from bot.runtime.logs import setup_logging
    from bot.runtime.metrics import Metrics

    async def main():
        setup_logging(level="INFO")
        http = HttpServer("127.0.0.1", 0, idle_timeout_s=2)
        for route in make_health_routes({}, Metrics(), lambda: 0):
            http.route(*route)
        await http.start()
        print(http.port, flush=True)
        await asyncio.sleep(8)
        await http.stop()

    asyncio.run(main())
""")


def test_accept_errors_at_the_open_file_limit_are_logged_once_per_interval():
    limit = 40  # the interpreter and its imports hold about 20 of these
    server = subprocess.Popen([sys.executable, "-c", SERVER_AT_FD_LIMIT], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
    clients: list[socket.socket] = []
    try:
        port = int(server.stdout.readline())
        for _ in range(150):  # far more than the server may open: the rest wait in its accept queue
            clients.append(socket.create_connection(("127.0.0.1", port)))
            clients[-1].sendall(HALF_OPEN)
        time.sleep(4)  # asyncio retries accept() every second meanwhile
        for client in clients:
            client.close()
        clients.clear()
        time.sleep(2.5)  # the idle timeout frees the server's descriptors
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=3)
    finally:
        for client in clients:
            client.close()
        _, errors = server.communicate(timeout=30)
    accept_lines = [line for line in errors.splitlines() if "accept" in line]
    assert health.status_code == 200
    assert len(accept_lines) == 1 and "Too many open files" in accept_lines[0], errors[-3000:]
    assert len(errors) < 2000, f"{len(errors)} characters logged:\n{errors[:3000]}"
