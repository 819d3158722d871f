"""The bot's own small HTTP server: platform webhooks, health and metrics, on one aiohttp app.

Connection hygiene, so idle or hostile clients cannot pile up: a connection must send a request's
headers within `idle_timeout_s` of connecting (and of its previous answer) or it is closed (aiohttp's
keep-alive timer runs from the connection's start and is not reset by partial data); beyond
`max_connections` open at once, a new connection gets a 503 and is closed; and when accepting fails
(at the open-file limit), asyncio's error is logged once per interval with a count, not once a second
with a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time

from aiohttp import web

log = logging.getLogger(__name__)

ACCEPT_ERROR_LOG_EVERY_S = 60.0
# asyncio accepts up to `backlog` connections in one go of the loop (and reports an accept() failure once per
# connection it tried): a small batch keeps a burst of connections from holding the loop. The kernel's queue
# of connections waiting to be accepted is set larger again afterwards.
ACCEPT_BATCH = 16
LISTEN_BACKLOG = 1024
_ACCEPT_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class ListenError(RuntimeError):
    """The server's address is taken or not ours to use; the message says what to do."""


class HttpServer:
    def __init__(self, host: str, port: int, *, idle_timeout_s: float = 15.0, max_connections: int = 2048) -> None:
        self.host = host
        self.port = port
        self.idle_timeout_s = idle_timeout_s
        self.max_connections = max_connections
        self.app = web.Application(client_max_size=2 * 1024 * 1024)
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._refused = RateLimitedLog("refused %d connection(s) in the last %.0f s: HTTP_MAX_CONNECTIONS=%d are open")

    def route(self, method: str, path: str, handler) -> None:
        self.app.router.add_route(method, path, handler)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        install_accept_error_limiter(loop)
        self._runner = web.AppRunner(self.app, access_log=None, keepalive_timeout=self.idle_timeout_s)
        await self._runner.setup()
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            listening = socket.create_server((self.host, self.port), family=family, backlog=LISTEN_BACKLOG)
            listening.setblocking(False)
            self._listener = await loop.create_server(self._protocol, sock=listening, backlog=ACCEPT_BATCH)
            listening.listen(LISTEN_BACKLOG)  # asyncio set the kernel's queue to its batch size
        except OSError as exc:
            await self._runner.cleanup()
            raise ListenError(f"The bot's HTTP server cannot listen on {self.host}:{self.port}: {exc.strerror}. "
                              "Stop what uses that port, or set HTTP_PORT to another one (0 picks a free one).") \
                from exc
        # With port 0 the system picks one: remember it (tests and logs need the real port).
        self.port = self._listener.sockets[0].getsockname()[1]
        log.info("HTTP server listening on http://%s:%s", self.host, self.port)

    def _protocol(self) -> asyncio.Protocol:
        server = self._runner.server
        if len(server.connections) >= self.max_connections:
            self._refused.add(self.max_connections)
            return _Refuse()
        return server()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class _Refuse(asyncio.Protocol):
    """One connection too many: told so, and closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_BUSY)
        transport.close()


class RateLimitedLog:
    """A warning that may recur many times a second: logged at most once per interval, with the count."""

    def __init__(self, template: str, every_s: float = ACCEPT_ERROR_LOG_EVERY_S) -> None:
        self.template = template  # formatted with (count, seconds since the last line, *args)
        self.every_s = every_s
        self._count = 0
        self._since = time.monotonic()
        self._last = float("-inf")

    def add(self, *args: object) -> None:
        self._count += 1
        now = time.monotonic()
        if now - self._last >= self.every_s:
            log.warning(self.template, self._count, now - self._since, *args)
            self._count, self._since, self._last = 0, now, now


def install_accept_error_limiter(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio logs a traceback each time accept() fails for lack of file descriptors (and retries
    every second); keep one line per interval instead. Every other loop error goes where it went."""
    previous = loop.get_exception_handler()
    if getattr(previous, "limits_accept_errors", False):
        return
    accepting = RateLimitedLog("could not accept %d connection(s) in the last %.0f s: %s. Raise the open-file limit "
                               "(LimitNOFILE, ulimit -n) or lower HTTP_MAX_CONNECTIONS")

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in _ACCEPT_ERRNOS and "accept" in context.get("message", ""):
            accepting.add(exc.strerror or exc)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.limits_accept_errors = True
    loop.set_exception_handler(handler)


def raise_open_file_limit() -> None:
    """Python keeps the soft open-file limit it was given (often 1024, below HTTP_MAX_CONNECTIONS plus what
    the bot itself opens); the hard limit is ours to use."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard != resource.RLIM_INFINITY:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            log.info("could not raise the open-file limit from %s: %s", soft, exc)
