"""The issue's acceptance test: one real bot process (`python -m bot run`, Telegram stand-in, SQLite file)
is served hostile input after hostile input, while a probe asks /healthz every 100 ms:

- one private chat floods 3,000 /subscribe commands;
- that chat follows a feed of its own while 3,000 other subscriptions are matched against its briefs;
- another chat floods pasted texts to summarize;
- another process holds the SQLite file's write lock;
- 1,000 connections open and never finish their headers.

Throughout, no probe is missed, another chat's /help is answered within a second, and the bot's own
loop watchdog (/metrics) saw no stall over 200 ms.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.domain.matching import parse_query
from bot.store.store import Store
from tests.support.bot_process import START_DEADLINE_S, BotProcess
from tests.support.databases import sqlite_url
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story, story_items
from tests.support.standins.telegram import private_chat, user

pytestmark = [pytest.mark.hostile, pytest.mark.slow]
MAX_LOOP_HOLD_S = 0.2
HOSTILE, FLOODER, BYSTANDER = 666, 777, 42
HALF_OPEN = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


class Probe(threading.Thread):
    """GET /healthz every 100 ms on a fresh connection; an answer that is not 200 within 1 s is a miss."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/healthz"
        self.sent = 0
        self.missed: list[str] = []
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.sent += 1
            try:
                answer = httpx.get(self.url, timeout=1.0)
                if answer.status_code != 200:
                    self.missed.append(f"HTTP {answer.status_code}")
            except httpx.HTTPError as exc:
                self.missed.append(type(exc).__name__)
            self._done.wait(0.1)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


class Bot:
    """The running bot as the tests see it: its stand-in chats, /metrics and the SQLite file."""

    def __init__(self, process: BotProcess, tg, port: int, database: Path) -> None:
        self.process, self.tg, self.port, self.database = process, tg, port, database
        self.help_times: list[float] = []

    def stalls(self) -> dict[str, float]:
        """How many watchdog checks so far found the loop held longer than each bucket of its histogram."""
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        samples = {(s.name, s.labels.get("le")): s.value for family in text_string_to_metric_families(text)
                   for s in family.samples if s.name.startswith("briefbot_event_loop_held_seconds")}
        count = samples[("briefbot_event_loop_held_seconds_count", None)]
        return {le: count - value for (name, le), value in samples.items() if name.endswith("_bucket")}

    def help_answer_time(self) -> float:
        """Seconds from a bystander's /help to the bot's answer (the bound is a second)."""
        before = len(self.tg.sent_messages(BYSTANDER))
        started = time.monotonic()
        self.tg.push_message(private_chat(user(BYSTANDER, "Ada")), "/help")
        while len(self.tg.sent_messages(BYSTANDER)) == before:
            if time.monotonic() - started > 10:
                break
            time.sleep(0.005)
        took = time.monotonic() - started
        self.help_times.append(took)
        return took

    def quiet(self, chat_id: int, for_s: float = 1.0, timeout: float = 60) -> None:
        """Until the bot has confirmed every update and sent nothing to `chat_id` for `for_s`."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.tg.sent_messages(chat_id))
            if count != last or self.tg.pending_updates():
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= for_s:
                return
            time.sleep(0.05)

    def count(self, sql: str) -> int:
        with sqlite3.connect(self.database, timeout=30) as db:
            return db.execute(sql).fetchone()[0]


def seed_subscriptions(database_url: str, chats: int = 30, per_chat: int = 100) -> None:
    """3,000 subscriptions (30 chats of 100) that every story of the hostile feed matches: the matcher's
    worst case, each query filed under the same word."""
    store = Store.open(database_url)
    with store.transaction() as tx:
        for n in range(chats):
            chat = tx.chats.ensure("telegram", str(5000 + n))
            for i in range(per_chat):
                query = parse_query(f"council -unrelated{i}")
                tx.chats.subscribe(chat.id, query.normalized, query.display)
    store.close()


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    from tests.support.standins.telegram import TelegramStandIn

    folder = tmp_path_factory.mktemp("hostile-bot")
    (folder / "data").mkdir()
    seed_subscriptions(sqlite_url(folder / "data"))
    with TelegramStandIn() as tg, BotProcess(folder, SUMMARIZER_BACKEND="lead", TELEGRAM_BOT_TOKEN=tg.token,
                                             TELEGRAM_API_BASE_URL=tg.base_url, ALLOW_PRIVATE_NETWORKS="1",
                                             NEW_FEED_ITEMS="40", HTTP_IDLE_TIMEOUT_S="2",
                                             COMMAND_DB_WAIT_S="1", LOOP_LAG_WARNING_S="0.2") as process:
        port = process.port()
        process.wait_for("briefbot running")
        deadline = time.monotonic() + START_DEADLINE_S
        while httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "never ready"
            time.sleep(0.2)
        running = Bot(process, tg, port, folder / "data" / "briefbot.sqlite3")
        running.help_answer_time()  # the first answer warms the bot's HTTP client
        yield running
        assert process.stop() == 0


@pytest.fixture
def probe(bot):
    """Probes /healthz while a test serves its hostile input; checks the loop watchdog afterwards."""
    stalls_before, logged_before = bot.stalls(), len(bot.process.messages())
    running = Probe(bot.port)
    running.start()
    yield running
    running.stop()
    assert running.sent >= 1 and running.missed == [], f"{len(running.missed)} of {running.sent} probes missed"
    new = {le: count - stalls_before[le] for le, count in bot.stalls().items() if count > stalls_before[le]}
    assert str(MAX_LOOP_HOLD_S) not in new, f"the loop watchdog saw the loop held longer than (s): {new}"
    assert all(took < 1 for took in bot.help_times), f"/help took {max(bot.help_times):.2f} s"
    assert not [m for m in bot.process.messages()[logged_before:] if m.startswith("the event loop was held")]
    bot.help_times.clear()


def test_a_chat_flooding_3000_subscribes_is_capped_and_starves_no_one(bot, probe):
    hostile = private_chat(user(HOSTILE, "Mallory"))
    for n in range(3000):
        bot.tg.push_message(hostile, f"/subscribe word{n}")
        if n % 500 == 0:
            assert bot.help_answer_time() < 1
    bot.quiet(HOSTILE)
    assert bot.help_answer_time() < 1
    for n in range(3000, 3000 + 120):  # one at a time, as a patient attacker would: up to the quota
        bot.tg.push_message(hostile, f"/subscribe word{n}")
        bot.quiet(HOSTILE, for_s=0)
    replies = [m["text"] for m in bot.tg.sent_messages(HOSTILE)]
    stored = bot.count(f"SELECT count(*) FROM subscriptions JOIN chats ON chats.id = subscriptions.chat_id "
                       f"WHERE chats.chat_key = '{HOSTILE}'")
    assert stored == 100
    assert any("a chat can have up to 20 at a time" in text for text in replies)  # the flood was told it is busy
    assert any("the most a chat can have (100)" in text for text in replies)


def test_matching_3000_subscriptions_against_a_feed_of_the_chats_own_holds_no_one(bot, probe):
    with FeedServer() as feeds:
        feeds.serve("/own.xml", rss(story_items(range(40)), title="Mallory's Feed"),
                    content_type="application/rss+xml")
        bot.tg.push_message(private_chat(user(HOSTILE, "Mallory")), f"/sources add {feeds.url('/own.xml')}")
        deadline = time.monotonic() + 120
        while bot.count("SELECT count(*) FROM briefs") < 40:  # stored, summarized, matched
            assert time.monotonic() < deadline, "the feed's stories were never briefed"
            assert bot.help_answer_time() < 1
            time.sleep(0.2)
    assert bot.count("SELECT count(DISTINCT chat_id) FROM alert_log") >= 30


def test_a_flood_of_texts_to_summarize_holds_no_one(bot, probe):
    flooder = private_chat(user(FLOODER, "Trudy"))
    _, body = story(3)
    for n in range(300):
        bot.tg.push_message(flooder, f"/summary {body} Number {n}.")
        if n % 100 == 0:
            assert bot.help_answer_time() < 1
    bot.quiet(FLOODER)
    assert bot.help_answer_time() < 1
    assert any("I'm busy with this chat's earlier commands" in m["text"] for m in bot.tg.sent_messages(FLOODER))


def test_a_database_locked_by_another_process_gets_busy_answers_and_holds_no_one(bot, probe):
    before = len(bot.tg.sent_messages(HOSTILE))
    lock = sqlite3.connect(bot.database, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        bot.tg.push_message(private_chat(user(HOSTILE, "Mallory")), "/unsubscribe word1")
        for _ in range(4):
            assert bot.help_answer_time() < 1
            time.sleep(0.5)
        bot.quiet(HOSTILE)
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    [answer] = [m["text"] for m in bot.tg.sent_messages(HOSTILE)[before:]]
    assert "The database is busy (it stayed locked for 1 s). Nothing was changed" in answer


def test_a_thousand_half_open_connections_are_dropped_and_hold_no_one(bot, probe):
    connections = []
    try:
        for _ in range(1000):
            connection = socket.create_connection(("127.0.0.1", bot.port))
            connection.sendall(HALF_OPEN)
            connections.append(connection)
        assert bot.help_answer_time() < 1
        deadline = time.monotonic() + 15
        for connection in connections:
            connection.settimeout(max(0.01, deadline - time.monotonic()))
            assert connection.recv(1024) == b"", "the server answered a request that never ended"
    finally:
        for connection in connections:
            connection.close()
    assert bot.help_answer_time() < 1
