"""A delivery process for tests and the benchmark: the real Telegram sender against a stand-in.

    python -m tests.support.delivery_process --db URL --base-url http://127.0.0.1:PORT/bot --token T
        [--worker NAME] [--prefetch N] [--lease-s S] [--go-file PATH] [--paid-broadcast]

It drains the outbox (every row to a final state, whichever process sent it) and exits; tests run
several side by side, kill one with SIGKILL halfway, and start it again or not. With `--enqueue-file F` it first queues the messages listed in F (JSON lines with
chat_key, chat_kind, key, text) in one transaction, as the bot does when an event causes messages.
With `--go-file F` it prints "ready" and waits for F to exist before delivering, so that several
processes can be started together.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager
from datetime import timedelta

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.adapters.telegram import platform as telegram
from bot.adapters.telegram.sender import TelegramSender
from bot.runtime.clock import utcnow
from bot.domain.models import Message
from bot.services.delivery import DeliveryLoop
from bot.store.store import Store


@asynccontextmanager
async def telegram_sender(base_url: str, token: str, *, read_timeout: float = 5.0, pool: int = 64,
                          paid_broadcast: bool = False):
    """The production sender over a real python-telegram-bot `Bot` pointed at `base_url`."""
    request = HTTPXRequest(connection_pool_size=pool, read_timeout=read_timeout, write_timeout=read_timeout,
                           connect_timeout=read_timeout, pool_timeout=read_timeout)
    bot = Bot(token, base_url=base_url, request=request)
    await bot.initialize()
    sender = TelegramSender(bot, paid_broadcast=paid_broadcast)
    sender.ready = True
    try:
        yield sender
    finally:
        await bot.shutdown()


def enqueue_messages(store: Store, rows: list[dict]) -> int:
    """Queue one alert per row (chat created on first use); returns how many were new."""
    queued = 0
    with store.transaction() as tx:
        for row in rows:
            chat = tx.chats.ensure("telegram", str(row["chat_key"]), kind=row.get("chat_kind", "private"))
            message = Message(kind="alert", text=row["text"])
            queued += tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key=row["key"],
                                        payload=message.to_dict(), now=utcnow())
    return queued


async def run(args: argparse.Namespace) -> None:
    store = Store.open(args.db)
    try:
        if args.enqueue_file:
            with open(args.enqueue_file, encoding="utf-8") as lines:
                queued = enqueue_messages(store, [json.loads(line) for line in lines if line.strip()])
            print(f"enqueued {queued}", flush=True)
        limits = {"telegram": telegram.PAID_LIMITS if args.paid_broadcast else telegram.LIMITS}
        async with telegram_sender(args.base_url, args.token, paid_broadcast=args.paid_broadcast,
                                   read_timeout=args.read_timeout_s) as sender:
            loop = DeliveryLoop(store=store, senders={"telegram": sender}, limits=limits,
                                group_chats={"telegram": telegram.is_group},
                                worker=args.worker, prefetch=args.prefetch,
                                lease=timedelta(seconds=args.lease_s), idle_poll_s=0.2)
            if args.go_file:
                print("ready", flush=True)
                while not os.path.exists(args.go_file):
                    await asyncio.sleep(0.01)
            print(f"delivering as {loop.worker}", flush=True)
            await loop.drain()
            await loop.stop()
            print(json.dumps(dict(loop.stats)), flush=True)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--lease-s", type=float, default=10.0, help="row and chat leases (renewed every third)")
    parser.add_argument("--read-timeout-s", type=float, default=5.0)
    parser.add_argument("--paid-broadcast", action="store_true", help="send with allow_paid_broadcast (1,000/s)")
    parser.add_argument("--enqueue-file")
    parser.add_argument("--worker", help="the lease owner's name (default: a new identity per start)")
    parser.add_argument("--prefetch", type=int, help="deliveries claimed at a time (default: the loop's)")
    parser.add_argument("--go-file", help="wait for this file to exist before delivering")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
