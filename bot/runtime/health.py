"""`GET /healthz`, `GET /readyz` and `GET /metrics` for the bot's HTTP server, built from plain callables.

- /healthz: liveness. The answer comes from a handler on the event loop, so it proves the process
  and its loop are alive; it checks nothing else (a restart would not fix a database outage).
- /readyz: readiness. Every check runs (concurrently, each within a deadline); 200 with the checks
  when all pass, 503 naming the failing ones otherwise; a check that passes on a fallback (the LLM
  down, extractive briefs meanwhile) is listed under "degraded". The body says which check failed and the
  error's type, never its message (that may name hosts or users); the log has the message.
- /metrics: Prometheus text; the outbox depth is read from the store at scrape time, off the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import Engine, text

from bot.runtime.metrics import Metrics

log = logging.getLogger(__name__)

# True/False, or {"ok": bool, ...details}: {"ok": True, "degraded": "why"} is ready, on a fallback.
Check = Callable[[], Awaitable[bool | Mapping] | bool | Mapping]
Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]
CHECK_TIMEOUT_S = 3.0  # a load balancer or Docker waits about 5 s for the whole answer


async def run_check(check: Check, timeout_s: float = CHECK_TIMEOUT_S) -> dict[str, Any]:
    """{"ok": True} or {"ok": False, "error": ...}. A plain function runs in a worker thread: a
    database ping must not stall the event loop; a coroutine function runs on the loop."""

    async def evaluate() -> Any:
        if inspect.iscoroutinefunction(check):
            return await check()
        result = await asyncio.to_thread(check)
        return await result if inspect.isawaitable(result) else result

    try:
        result = await asyncio.wait_for(evaluate(), timeout_s)
    except asyncio.TimeoutError:
        return {"ok": False, "error": f"no answer within {timeout_s:g} s"}
    except Exception as exc:  # a failing check is an answer, not a crash
        log.warning("readiness check failed: %s", exc, exc_info=True)
        return {"ok": False, "error": type(exc).__name__}
    if isinstance(result, Mapping) and isinstance(result.get("ok"), bool):  # a check with details
        return dict(result)
    if result is True:
        return {"ok": True}
    return {"ok": False, "error": "not ready"}


def database_check(engine: Engine) -> Check:
    """A readiness check: one `SELECT 1` on a connection from the engine's pool."""

    def database() -> bool:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    return database


def make_health_routes(readiness_checks: Mapping[str, Check], metrics: Metrics,
                       outbox_depth: Callable[[], int], *, check_timeout_s: float = CHECK_TIMEOUT_S) -> list[Route]:
    """Route tuples `(method, path, handler)` to mount with `HttpServer.route(*route)`.

    `readiness_checks`: name -> callable answering True when that part is ready (database reachable,
    model loaded, each adapter connected). `outbox_depth`: a blocking store query, run in a thread.
    """
    checks = dict(readiness_checks)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        results = await asyncio.gather(*(run_check(check, check_timeout_s) for check in checks.values()))
        report = dict(zip(checks, results))
        failing = [name for name, result in report.items() if not result["ok"]]
        degraded = [name for name, result in report.items() if result["ok"] and result.get("degraded")]
        body: dict[str, Any] = {"status": "not ready" if failing else "ready", "checks": report}
        if failing:
            body["failing"] = failing
        if degraded:  # working, on a fallback (the LLM down: extractive briefs): ready all the same
            body["degraded"] = degraded
        return web.json_response(body, status=503 if failing else 200)

    async def metrics_handler(request: web.Request) -> web.Response:
        try:
            depth: float = await asyncio.wait_for(asyncio.to_thread(outbox_depth), check_timeout_s)
        except Exception as exc:  # the other metrics are still worth a scrape
            log.warning("outbox depth unavailable for /metrics: %s", exc)
            depth = float("nan")
        metrics.set_outbox_depth(depth)
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    return [("GET", "/healthz", healthz), ("GET", "/readyz", readyz), ("GET", "/metrics", metrics_handler)]
