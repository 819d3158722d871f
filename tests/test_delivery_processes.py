"""Delivery processes that crash (SIGKILL) and run side by side: every message arrives exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.store.store import Store
from tests.delivery_process import enqueue_messages
from tests.fixtures.databases import postgres_schema_url, sqlite_url
from tests.standins.telegram import TelegramFault, TelegramLimits, TelegramStandIn

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tg():
    with TelegramStandIn(limits=TelegramLimits()) as stand_in:
        yield stand_in


def start_worker(db: str, tg: TelegramStandIn, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.delivery_process", "--db", db, "--base-url", tg.base_url,
         "--token", tg.token, *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_for_line(process: subprocess.Popen, prefix: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            raise AssertionError(f"worker exited ({process.returncode}): {process.stderr.read()[-3000:]}")
    raise AssertionError(f"no {prefix!r} line from the worker within {timeout}s")


def finish(process: subprocess.Popen, timeout: float = 120.0) -> dict:
    """Wait for a worker to drain and exit; returns its delivery counts."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def finish_all(workers: list[subprocess.Popen], before: Callable[[], None] | None = None) -> list[dict]:
    """Each worker's statistics once all have ended; none is left running, whatever fails."""
    try:
        if before is not None:
            before()
        return [finish(worker) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def write_messages(path: Path, chats: list[int], per_chat: int) -> list[str]:
    rows = [{"chat_key": chat, "chat_kind": "private" if chat > 0 else "group", "key": f"m:{chat}:{n}",
             "text": f"message {n} to {chat}"} for chat in chats for n in range(per_chat)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return [row["text"] for row in rows]


def test_sigkill_between_enqueue_and_send_then_restart_delivers_each_message_once(tmp_path, tg):
    db = sqlite_url(tmp_path)
    chats = list(range(1001, 1007))
    expected = write_messages(tmp_path / "messages.jsonl", chats, per_chat=3)
    # The first message of each chat reaches Telegram at once, but its answer is held: when we kill,
    # every chat's worker is waiting on a request that left, and the rest are queued, not sent.
    for chat in chats:
        tg.fail_next(chat, TelegramFault.slow(4.0, deliver=True))
    first = start_worker(db, tg, "--enqueue-file", str(tmp_path / "messages.jsonl"))
    try:
        assert wait_for_line(first, "enqueued") == f"enqueued {len(expected)}\n"
        deadline = time.monotonic() + 30
        while len(tg.calls("sendMessage")) < len(chats) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(tg.calls("sendMessage")) == len(chats)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    arrived_before_kill = len(tg.sent_messages())
    assert arrived_before_kill == len(chats)

    second = start_worker(db, tg)
    finish(second)
    received = Counter(message["text"] for message in tg.sent_messages())
    assert received == Counter(expected)  # every message exactly once
    assert tg.violations() == []
    store = Store.open(db)
    with store.transaction() as tx:
        # The ones in flight at the kill are recorded as unknown (they did arrive); the rest were sent.
        assert tx.outbox.counts() == {"unknown": len(chats), "sent": len(expected) - len(chats)}
    store.close()


@pytest.mark.postgres
def test_three_delivery_processes_on_postgresql_send_each_message_once_within_the_limits(tmp_path, tg):
    chats = [*range(2001, 2031), -3001, -3002]
    expected = write_messages(tmp_path / "messages.jsonl", chats, per_chat=3)
    with postgres_schema_url() as db:
        store = Store.open(db)
        enqueue_messages(store, [json.loads(line) for line in (tmp_path / "messages.jsonl").read_text().splitlines()])
        workers = [start_worker(db, tg, "--shard", f"{index}/3") for index in range(3)]
        stats = finish_all(workers)
        with store.transaction() as tx:
            assert tx.outbox.counts() == {"sent": len(expected)}
        store.close()
    received = Counter(message["text"] for message in tg.sent_messages())
    assert received == Counter(expected)
    assert tg.violations() == []
    assert all(worker_stats.get("sent", 0) > 0 for worker_stats in stats), stats  # the work was shared
    assert sum(worker_stats["sent"] for worker_stats in stats) == len(expected)


@pytest.mark.postgres
def test_three_processes_competing_for_the_same_rows_on_postgresql_send_each_message_once(tmp_path):
    """No shards: all three claim from the whole outbox, a few rows at a time, at the same moment, so
    only FOR UPDATE SKIP LOCKED and the claim itself keep a row from going out twice. (Unsharded
    processes each pace the whole allowance, so the stand-in checks no rate limits here.)"""
    # Queued round by round, so that neighbouring rows are different chats and no chat's own pace
    # (1/s, kept by each process alone) holds the race up.
    rows = [{"chat_key": chat, "chat_kind": "private" if chat > 0 else "group", "key": f"m:{chat}:{n}",
             "text": f"message {n} to {chat}"} for n in range(3) for chat in [*range(4001, 4101), -5001, -5002]]
    expected = [row["text"] for row in rows]
    go = tmp_path / "go"
    with TelegramStandIn() as tg, postgres_schema_url() as db:
        store = Store.open(db)
        enqueue_messages(store, rows)
        workers = [start_worker(db, tg, "--worker", f"racer-{n}", "--prefetch", "12", "--go-file", str(go))
                   for n in range(3)]

        def start_together() -> None:
            for worker in workers:
                wait_for_line(worker, "ready")
            go.touch()

        stats = finish_all(workers, before=start_together)
        with store.transaction() as tx:
            assert tx.outbox.counts() == {"sent": len(expected)}
        store.close()
        received = Counter(message["text"] for message in tg.sent_messages())
    assert received == Counter(expected)  # every message exactly once
    assert all(worker_stats.get("sent", 0) > 0 for worker_stats in stats), stats  # they did compete
    assert sum(worker_stats["sent"] for worker_stats in stats) == len(expected)
