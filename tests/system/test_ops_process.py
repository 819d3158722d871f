"""The real bot process, `python -m bot run`, as an operator runs it: the health endpoints answer,
SIGTERM stops it within 10 s with exit code 0, its JSON logs are JSON, and no token reaches them.

It runs from an empty folder (no .env), on the embedded default (SQLite in a temporary DATA_DIR, the
bundled model), with stdin not a terminal and the HTTP server on a port the system picks (HTTP_PORT=0;
the port is read from the log). With a Telegram token it talks to the Telegram stand-in.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.runtime.clock import utcnow
from bot.domain.models import Message
from bot.store.store import Store
from bot.store.tables import Delivery
from tests.support.delivery_process import enqueue_messages
from tests.support.bot_process import START_DEADLINE_S, BotProcess
from tests.support.databases import sqlite_url
from tests.support.standins.telegram import TelegramFault, TelegramStandIn

pytestmark = pytest.mark.slow


def wait_ready(bot: BotProcess, port: int) -> dict:
    """/readyz until 200 (the model loads and platforms connect after the server starts). Gives up at
    once when the bot logs an error or exits, else at the deadline."""
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        if response.status_code == 200:
            return response.json()
        assert response.status_code == 503, response.text
        errors = [r for r in bot.records() if r["level"] in ("ERROR", "CRITICAL")]
        if errors or bot.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never ready: {response.text}\n" + "\n".join(map(json.dumps, errors[:3])))
        time.sleep(0.2)


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_the_bot_answers_health_readiness_and_metrics_and_stops_on_sigterm(tmp_path):
    store = Store.open(sqlite_url(tmp_path / "data"))
    with store.transaction() as tx:  # an alert waiting for the console chat: delivery prints it and counts it
        chat = tx.chats.ensure("console", "local")
        tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key="alert:1", now=utcnow(),
                          payload=Message(kind="alert", text="Rates held at 4.5 percent").to_dict())
    store.close()
    sent = ("briefbot_deliveries_total", (("outcome", "sent"), ("platform", "console")))
    with BotProcess(tmp_path) as bot:
        port = bot.port()
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = wait_ready(bot, port)
        assert ready["status"] == "ready"
        assert {"database", "model"} <= set(ready["checks"])
        assert all(check == {"ok": True} for check in ready["checks"].values())
        for _ in range(300):  # bounded wait for the delivery loop's first round
            samples = scrape(port)
            if samples[sent] == 1:
                break
            time.sleep(0.1)
        assert samples[sent] == 1 and samples[("briefbot_outbox_depth", ())] == 0
        assert ("briefbot_articles_ingested_total", ()) in samples and ("briefbot_summarizer_seconds_count", ()) in samples

        assert bot.stop() == 0
    assert "Rates held at 4.5 percent" in bot.process.stdout.read()  # the console chat is standard output
    records = bot.records()  # LOG_JSON=1: every line of standard error is one JSON object
    assert any(record["message"] == "shutting down" for record in records)
    assert not any(record["level"] in ("ERROR", "CRITICAL") for record in records), records


def test_sigterm_finishes_the_send_in_flight_releases_the_rest_and_no_token_is_logged(tmp_path):
    """With Telegram on (the stand-in), alerts queued and one send in flight, SIGTERM still ends the
    process within 10 s with 0: the send in flight completes, the rest goes back to the queue, and
    nothing - at DEBUG level - writes the token."""
    store = Store.open(sqlite_url(tmp_path / "data"))
    enqueue_messages(store, [{"chat_key": 4242, "key": f"alert:{n}", "text": f"alert {n}"} for n in range(5)])
    with TelegramStandIn() as telegram:
        telegram.fail_next(4242, TelegramFault.slow(2.0, deliver=True))  # the first send is slow to answer
        with BotProcess(tmp_path, TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_API_BASE_URL=telegram.base_url,
                         LOG_LEVEL="DEBUG", SUMMARIZER_BACKEND="lead") as bot:  # no model: not the subject here
            port = bot.port()
            assert "telegram" in wait_ready(bot, port)["checks"]
            telegram.wait_for_calls("sendMessage", 1, timeout=60, answered=False)  # in flight now
            assert bot.stop() == 0
        output = "\n".join(bot.lines) + bot.process.stdout.read()
    assert telegram.token not in output and telegram.token.split(":")[1] not in output
    with store.transaction() as tx:
        states = list(tx.session.scalars(select(Delivery.status)))
    store.close()
    assert "sent" in states  # the send in flight was answered and recorded
    assert set(states) <= {"sent", "pending"}  # nothing left claimed, sending or of unknown fate
