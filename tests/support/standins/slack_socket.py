"""Socket Mode on top of the Slack stand-in (added by the Slack adapter's author, kept apart from slack.py).

    with SlackSocketStandIn(app_token=APP_TOKEN) as slack:
        ...  # the bot calls apps.connections.open with the app token and connects to /socket
        await slack.await_connected()
        envelope_id = slack.push("slash_commands", slack.slash_command_payload("/alerts"))
        (ack,) = await slack.await_calls("socket_ack", where=lambda c: c.params["envelope_id"] == envelope_id)

`push` sends an envelope the way Slack does; every message the client sends back (an acknowledgement,
with its optional payload) is recorded as a "socket_ack" call.
"""

from __future__ import annotations

import asyncio
import json
import time
from itertools import count
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.support.standins.server import Call
from tests.support.standins.slack import SlackStandIn


class SlackSocketStandIn(SlackStandIn):
    def __init__(self, *, app_token: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_token = app_token
        self._handlers["apps.connections.open"] = self._connections_open
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = count(1)

    # apps.connections.open takes the app-level token, every other method the bot token.
    def _authorized(self, request: web.Request) -> str | None:
        if request.path != "/api/apps.connections.open":
            return super()._authorized(request)
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return "not_authed"
        return None if header[7:].strip() == self.app_token else "invalid_auth"

    async def _connections_open(self, params: dict, call: Call) -> dict:
        return {"url": f"ws://127.0.0.1:{self.port}/socket?ticket=T{next(self._envelopes):06d}"}

    def _routes(self) -> list[web.RouteDef]:
        return [*super()._routes(), web.get("/socket", self._socket)]

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        with self._changed:
            self._sockets.append(ws)
            self._changed.notify_all()
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0STANDIN"},
                            "debug_info": {"host": "standin", "approximate_connection_time": 3600}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                call = self._record(Call("socket_ack", json.loads(message.data), {}, time.monotonic(), "WS",
                                         "/socket"))
                self._answer(call, 200, None)
        with self._changed:
            self._sockets.remove(ws)
        return ws

    # ----- test controls ------------------------------------------------------------------------

    def connected(self) -> int:
        with self._lock:
            return len(self._sockets)

    async def await_connected(self, timeout: float = 5.0) -> None:
        def wait() -> None:
            with self._changed:
                if not self._changed.wait_for(lambda: self._sockets, timeout):
                    raise TimeoutError("no Socket Mode connection")

        await asyncio.to_thread(wait)

    def push(self, envelope_type: str, payload: dict, *, retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Send an envelope ("slash_commands", "events_api") to the connected client; returns its id.
        A redelivered event is a new envelope with the same payload and `retry_attempt` 1..3."""
        envelope_id = f"env-{next(self._envelopes):06d}"
        envelope = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload,
                    "accepts_response_payload": envelope_type != "events_api", "retry_attempt": retry_attempt,
                    "retry_reason": retry_reason}
        with self._lock:
            if not self._sockets or self._loop is None:
                raise RuntimeError("no Socket Mode client is connected")
            ws = self._sockets[-1]
        asyncio.run_coroutine_threadsafe(ws.send_json(envelope), self._loop).result(timeout=5)
        return envelope_id

    def slash_command_payload(self, command: str, text: str = "", **kwargs: Any) -> dict:
        """A slash command as Socket Mode carries it: the form fields as a JSON object."""
        return dict(parse_qsl(self.slash_command_body(command, text, **kwargs).decode(), keep_blank_values=True))

    def event_payload(self, event: dict) -> dict:
        return json.loads(self.event_body(event))
