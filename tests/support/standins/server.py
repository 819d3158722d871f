"""A recording HTTP server on 127.0.0.1, port 0, running in a thread with its own event loop.

One loop per server lets sync tests, async tests (on any loop) and bot subprocesses call it alike.
Handlers run on the server thread; everything a test reads goes through `self._lock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One request as the server saw it; `status` and `response` are filled in once it was answered."""

    method: str  # API method ("sendMessage", "chat.postMessage") or route name ("file", "response_url")
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float  # time.monotonic() on arrival
    http_method: str
    path: str
    status: int | None = None
    response: Any = None


class BodyError(ValueError):
    """The request body could not be parsed."""


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Query string, then a JSON, form-urlencoded or multipart body, merged into one mapping."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                raise BodyError(f"invalid JSON body: {exc}") from exc
            if not isinstance(body, dict):
                raise BodyError("JSON body must be an object")
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(value.filename, value.content_type, value.file.read())
            else:
                params[name] = value
    else:
        await request.read()
    return params, files


@dataclass
class _Queued:
    fault: Any
    remaining: int


class FaultQueue:
    """Faults to inject, per key (a chat or channel id), each used for the next `count` matching calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[str, deque[_Queued]] = {}

    def add(self, key: Any, fault: Any, count: int = 1) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._by_key.setdefault(str(key), deque()).append(_Queued(fault, count))

    def take(self, key: Any) -> Any | None:
        with self._lock:
            queue = self._by_key.get(str(key))
            if not queue:
                return None
            head = queue[0]
            head.remaining -= 1
            if head.remaining == 0:
                queue.popleft()
            return head.fault

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()


class StandInServer:
    """Base class: subclasses add routes in `_routes()`; this class owns the thread, loop and call log."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._port: int | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def start(self) -> StandInServer:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start() below
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=serve, name=type(self).__name__, daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"{type(self).__name__} failed to start") from failure[0]
        return self

    async def _serve(self) -> None:
        self._closing = asyncio.Event()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.add_routes(self._routes())
        # Pending long polls and injected delays end on `_closing`, so a short timeout suffices.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        assert self._closing is not None and self._runner is not None
        self._closing.set()
        await self._runner.cleanup()

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None
        self._port = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ----- the call log ------------------------------------------------------------------------

    def _record(self, call: Call) -> Call:
        with self._changed:
            self._calls.append(call)
            self._changed.notify_all()
        return call

    def _answer(self, call: Call, status: int, response: Any) -> None:
        with self._changed:
            call.status = status
            call.response = response
            self._changed.notify_all()

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call so far (oldest first), or those of one method."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def calls_by_method(self) -> Counter[str]:
        with self._lock:
            return Counter(c.method for c in self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
        answered: bool = True,
    ) -> list[Call]:
        """Block until `count` calls of `method` (matching `where`; answered, unless answered=False:
        arrived) were seen; return them."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            return [
                c for c in self._calls
                if c.method == method and (c.status is not None or not answered) and (where is None or where(c))
            ]

        with self._changed:
            while len(found := matching()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = dict(Counter(c.method for c in self._calls))
                    raise TimeoutError(
                        f"waited {timeout}s for {count} {method} call(s), got {len(found)}; calls seen: {seen}"
                    )
                self._changed.wait(left)
            return found

    async def await_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
        answered: bool = True,
    ) -> list[Call]:
        """`wait_for_calls` for async tests: waits in a worker thread so the test's loop keeps running."""
        return await asyncio.to_thread(self.wait_for_calls, method, count, timeout, where, answered)

    # ----- helpers for handlers (server thread) ------------------------------------------------

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _call_on_loop(self, callback: Callable[[], None]) -> None:
        """Run `callback` on the server loop (from any thread); run it now when not started."""
        if self._loop is None:
            callback()
        else:
            self._loop.call_soon_threadsafe(callback)

