"""/healthz, /readyz and /metrics on the bot's real aiohttp server, with real HTTP, a real store (SQLite
file and PostgreSQL) behind the checks, and the real Prometheus parser reading what is served."""

from __future__ import annotations

import asyncio
import math
import socket
import threading
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot.runtime.clock import utcnow
from bot.runtime.health import database_check, make_health_routes
from bot.runtime.http_server import HttpServer
from bot.runtime.metrics import DELIVERY_OUTCOMES, Metrics
from bot.store.store import Store


def store_depth(store: Store):
    def depth() -> int:
        with store.transaction() as tx:
            return tx.outbox.depth()

    return depth


def enqueue(store: Store, count: int) -> None:
    with store.transaction() as tx:
        chat_id = tx.chats.ensure("telegram", "-1001", kind="group").id
        for n in range(count):
            tx.outbox.enqueue(chat_pk=chat_id, kind="alert", dedupe_key=f"alert:{n}", payload={"kind": "alert"},
                              now=utcnow())


class Served:
    def __init__(self, http: HttpServer, session: aiohttp.ClientSession) -> None:
        self.http = http
        self.session = session

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.session.get(f"http://127.0.0.1:{self.http.port}{path}") as response:
            return response.status, response.headers.get("Content-Type", ""), await response.text()

    async def json(self, path: str) -> tuple[int, dict]:
        async with self.session.get(f"http://127.0.0.1:{self.http.port}{path}") as response:
            return response.status, await response.json()


@pytest.fixture
async def serve():
    """serve(checks, metrics, outbox_depth) -> a started server with the health routes mounted."""
    started: list[HttpServer] = []
    async with aiohttp.ClientSession() as session:

        async def serve(checks, metrics: Metrics, outbox_depth, **options) -> Served:
            http = HttpServer("127.0.0.1", 0)
            for route in make_health_routes(checks, metrics, outbox_depth, **options):
                http.route(*route)
            await http.start()
            started.append(http)
            return Served(http, session)

        yield serve
        for http in started:
            await http.stop()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} as Prometheus' own parser reads the exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens there


# ----- /healthz and /readyz -----------------------------------------------------------------------

async def test_healthz_answers_while_nothing_else_is_ready(serve):
    async def never_ready() -> bool:
        return False

    served = await serve({"adapter": never_ready}, Metrics(), lambda: 0)
    assert await served.json("/healthz") == (200, {"status": "ok"})
    assert (await served.json("/readyz"))[0] == 503


async def test_readyz_is_200_with_every_check_when_all_pass(serve, store):
    async def adapter_connected() -> bool:
        return True

    checks = {"database": database_check(store.engine), "model": lambda: True, "telegram": adapter_connected}
    status, body = await (await serve(checks, Metrics(), store_depth(store))).json("/readyz")
    assert status == 200
    assert body == {"status": "ready", "checks": {"database": {"ok": True}, "model": {"ok": True},
                                                  "telegram": {"ok": True}}}


async def test_readyz_is_503_naming_each_failing_check_without_its_secrets(serve, caplog):
    """An unreachable database, a raising check, a False and a hung check all fail; the body tells
    which and the error's type, never the message (host names, user names, tokens)."""
    dead_database = create_engine(f"postgresql+psycopg://briefbot:hunter2@127.0.0.1:{closed_port()}/briefbot")

    async def slack_connected() -> bool:
        raise ConnectionError("socket closed for xapp-1-A0SECRET-123456789")

    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    checks = {"database": database_check(dead_database), "model": lambda: True, "slack": slack_connected,
              "telegram": lambda: False, "scheduler": hangs}
    served = await serve(checks, Metrics(), lambda: 0, check_timeout_s=0.5)
    status, body = await served.json("/readyz")
    assert status == 503
    assert body["status"] == "not ready"
    assert sorted(body["failing"]) == ["database", "scheduler", "slack", "telegram"]
    assert body["checks"]["model"] == {"ok": True}
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["slack"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["telegram"] == {"ok": False, "error": "not ready"}
    assert body["checks"]["scheduler"] == {"ok": False, "error": "no answer within 0.5 s"}
    raw = str(body)
    assert "hunter2" not in raw and "xapp" not in raw and "127.0.0.1" not in raw
    assert "socket closed" in caplog.text  # the operator finds the message in the log
    dead_database.dispose()


async def test_a_blocking_check_does_not_stall_the_event_loop(serve):
    """A plain (blocking) check runs in a thread: /healthz answers while it holds."""
    entered, release = threading.Event(), threading.Event()

    def slow_database() -> bool:
        entered.set()
        release.wait(30)
        return True

    served = await serve({"database": slow_database}, Metrics(), lambda: 0, check_timeout_s=30)
    readiness = asyncio.create_task(served.json("/readyz"))
    assert await asyncio.to_thread(entered.wait, 30)
    assert await served.json("/healthz") == (200, {"status": "ok"})
    assert not readiness.done()
    release.set()
    assert await readiness == (200, {"status": "ready", "checks": {"database": {"ok": True}}})


# ----- /metrics ------------------------------------------------------------------------------------

async def test_metrics_count_what_components_report_and_read_the_outbox_at_scrape_time(serve, store):
    metrics = Metrics()
    metrics.platforms(["telegram", "slack"])
    metrics.article_ingested(5)
    metrics.article_ingested()
    metrics.brief_made(0.75, count=2)
    metrics.feed_error("timeout")
    metrics.feed_error("timeout")
    metrics.feed_error("not_a_feed")
    metrics.delivery("sent", platform="telegram")
    metrics.delivery("rate_limited", platform="telegram")
    metrics.delivery("unknown", platform="slack")
    metrics.digest_lag(42.0)
    metrics.digest_lag(90.0, stage="sent")
    enqueue(store, 3)
    served = await serve({}, metrics, store_depth(store))

    status, content_type, text = await served.get("/metrics")
    assert status == 200 and content_type.startswith("text/plain") and "version=" in content_type
    got = samples(text)
    assert got[("briefbot_articles_ingested_total", ())] == 6
    assert got[("briefbot_briefs_made_total", ())] == 2
    assert got[("briefbot_summarizer_seconds_count", ())] == 1
    assert got[("briefbot_summarizer_seconds_sum", ())] == 0.75
    assert got[("briefbot_summarizer_seconds_bucket", (("le", "1.0"),))] == 1
    assert got[("briefbot_summarizer_seconds_bucket", (("le", "0.5"),))] == 0
    assert got[("briefbot_feed_errors_total", (("reason", "timeout"),))] == 2
    assert got[("briefbot_feed_errors_total", (("reason", "not_a_feed"),))] == 1
    assert got[("briefbot_deliveries_total", (("outcome", "sent"), ("platform", "telegram")))] == 1
    assert got[("briefbot_deliveries_total", (("outcome", "rate_limited"), ("platform", "telegram")))] == 1
    assert got[("briefbot_deliveries_total", (("outcome", "unknown"), ("platform", "slack")))] == 1
    for outcome in DELIVERY_OUTCOMES:  # present from the start, so rate() works before the first failure
        assert ("briefbot_deliveries_total", (("outcome", outcome), ("platform", "slack"))) in got
    assert got[("briefbot_digest_lag_seconds_count", (("stage", "enqueued"),))] == 1
    assert got[("briefbot_digest_lag_seconds_bucket", (("le", "60.0"), ("stage", "enqueued")))] == 1
    assert got[("briefbot_digest_lag_seconds_sum", (("stage", "sent"),))] == 90
    assert got[("briefbot_outbox_depth", ())] == 3
    assert [labels for name, labels in got if name == "briefbot_build_info"] != []

    with store.transaction() as tx:  # one goes out: the next scrape sees it
        [claimed] = tx.outbox.claim(worker="w", now=utcnow(), lease=timedelta(minutes=1),
                                    limit=1)
        tx.outbox.mark_sent(claimed.id, now=utcnow(), message_id="1")
    assert samples((await served.get("/metrics"))[2])[("briefbot_outbox_depth", ())] == 2


async def test_metrics_are_served_when_the_store_does_not_answer(serve):
    def depth() -> int:
        raise ConnectionError("database down")

    metrics = Metrics()
    metrics.article_ingested(1)
    status, _, text = await (await serve({}, metrics, depth)).get("/metrics")
    got = samples(text)
    assert status == 200 and got[("briefbot_articles_ingested_total", ())] == 1
    assert math.isnan(got[("briefbot_outbox_depth", ())])


async def test_two_bots_in_one_process_keep_their_own_metrics(serve):
    first, second = Metrics(), Metrics()
    first.article_ingested(3)
    second.article_ingested(7)
    one = samples((await (await serve({}, first, lambda: 1)).get("/metrics"))[2])
    two = samples((await (await serve({}, second, lambda: 2)).get("/metrics"))[2])
    assert one[("briefbot_articles_ingested_total", ())] == 3 and one[("briefbot_outbox_depth", ())] == 1
    assert two[("briefbot_articles_ingested_total", ())] == 7 and two[("briefbot_outbox_depth", ())] == 2


def test_metrics_refuse_values_that_would_break_them():
    metrics = Metrics()
    with pytest.raises(ValueError, match="unknown delivery outcome"):
        metrics.delivery("delivered", platform="telegram")  # an unbounded label set is a memory leak
    with pytest.raises(ValueError, match="unknown digest stage"):
        metrics.digest_lag(1.0, stage="queued")
    with pytest.raises(ValueError, match="negative"):
        metrics.article_ingested(-1)
    with pytest.raises(ValueError, match="negative"):
        metrics.brief_made(-0.1)


async def test_a_check_on_a_fallback_is_ready_and_listed_as_degraded(serve):
    """The llm backend's check: working, but with extractive briefs standing in for the LLM's."""
    checks = {"model": lambda: True, "llm": lambda: {"ok": True, "degraded": "the LLM server failed (timeout)"}}
    status, body = await (await serve(checks, Metrics(), lambda: 0)).json("/readyz")
    assert status == 200
    assert body == {"status": "ready", "checks": {"model": {"ok": True},
                                                  "llm": {"ok": True, "degraded": "the LLM server failed (timeout)"}},
                    "degraded": ["llm"]}
