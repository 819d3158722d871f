"""The bot's own small HTTP server: platform webhooks, health and metrics, on one aiohttp app."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)


class ListenError(RuntimeError):
    """The server's address is taken or not ours to use; the message says what to do."""


class HttpServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app = web.Application(client_max_size=2 * 1024 * 1024)
        self._runner: web.AppRunner | None = None

    def route(self, method: str, path: str, handler) -> None:
        self.app.router.add_route(method, path, handler)

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise ListenError(f"The bot's HTTP server cannot listen on {self.host}:{self.port}: {exc.strerror}. "
                              "Stop what uses that port, or set HTTP_PORT to another one (0 picks a free one).") \
                from exc
        # With port 0 the system picks one: remember it (tests and logs need the real port).
        sockets = site._server.sockets if site._server else []  # noqa: SLF001 - aiohttp exposes no getter
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("HTTP server listening on http://%s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
