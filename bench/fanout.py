"""Alert fan-out: many chats with keyword subscriptions, a batch of new briefs, delivered to the
Telegram stand-in enforcing Telegram's limits (30 messages/s overall, 1/s per chat, 20/min per group).

    .venv/bin/python bench/fanout.py [--chats 10000] [--briefs 50] [--kill-at-half] [--json OUT]

Steps: store the chats and subscriptions; store the briefs and run the alert service in the same
transaction, as the ingest pipeline does (timing compilation + matching); then run the delivery
process (tests/delivery_process.py: the production DeliveryLoop with the real python-telegram-bot
sender) until the outbox is drained. With --kill-at-half it is killed with SIGKILL once half the
messages arrived, and started again.

The subscription mix (deterministic, --seed): 70% of chats follow a word no brief mentions (cost
of matching, no messages); 25% one of 100 topic words (single word, two words, or a word with an
exclusion); each brief names 3 topic words; 0.2% of chats follow "news", in every brief, so they
exceed 10 alerts an hour and get folded alerts. 5% of chats are groups. With 10,000 chats and 50
briefs that is about 3,500 messages, near two minutes at 30/s.

`expected` is computed independently of the alert service: each subscription's query against
each brief, then the folding rule (10 single alerts, the rest in one message). At the stand-in,
`sent` counts alerts received (a long folded alert arrives as several Telegram messages:
`telegram_messages` counts those), `lost` the (chat, story) pairs never told, `duplicates` those
told twice. `rate_fraction` is Telegram messages accepted per second of sending (from the first to
the last message of each delivery process run, restarts excluded) over the 30/s allowance.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bot.domain.matching import SubscriptionIndex, parse_query  # noqa: E402
from bot.services.alerts import AlertService, searchable_text  # noqa: E402
from bot.store.articles import NewArticle  # noqa: E402
from bot.store.store import Store  # noqa: E402
from bot.store.tables import Chat, Subscription  # noqa: E402
from tests.standins.telegram import TelegramLimits, TelegramStandIn  # noqa: E402

ALERTS_PER_HOUR = 10
ALLOWANCE = 30.0
TOPICS = [f"topic{n}" for n in range(100)]


def build_mix(chats: int, rng: random.Random) -> list[tuple[int, str]]:
    """(telegram chat id, query) per chat."""
    mix = []
    for number in range(chats):
        chat_id = -(5000 + number) if number % 20 == 0 else 100000 + number
        roll = rng.random()
        if roll < 0.002:
            query = "news"
        elif roll < 0.252:
            first, second = rng.sample(TOPICS, 2)
            query = rng.choice([first, f"{first} {second}", f"{first} -{second}"])
        else:
            query = f"quiet{number}"
        mix.append((chat_id, query))
    return mix


def build_briefs(count: int, rng: random.Random) -> list[tuple[str, list[str]]]:
    briefs = []
    for number in range(count):
        words = rng.sample(TOPICS, 3)
        briefs.append((f"Story {number}: {words[0]} and {words[1]} in the news",
                       [f"Reporters followed {words[2]} all day.", f"More on {words[0]} tomorrow."]))
    return briefs


def expected_stories(mix: list[tuple[int, str]], briefs: list[tuple[str, list[str]]]) -> dict[int, set[int]]:
    """The story numbers each chat should be told about, alone or folded."""
    texts = ["\n".join([headline, headline, *points]) for headline, points in briefs]
    expected = {}
    for chat_id, query in mix:
        parsed = parse_query(query)
        matching = {number for number, text in enumerate(texts) if parsed.matches(text)}
        if matching:
            expected[chat_id] = matching
    return expected


def message_count(stories: int) -> int:
    """One alert per story up to the hourly cap, then one folded alert for the rest."""
    return min(stories, ALERTS_PER_HOUR) + (1 if stories > ALERTS_PER_HOUR else 0)


def starts_a_message(text: str) -> bool:
    """The first Telegram message of an alert (a long folded alert continues in further messages)."""
    return text.startswith("Alert: ") or re.match(r"\d+ more stor(y|ies) matched your alerts", text) is not None


def populate(store: Store, mix: list[tuple[int, str]]) -> None:
    now = datetime.now(UTC)
    with store.transaction() as tx:
        tx.session.execute(insert(Chat), [
            {"platform": "telegram", "chat_key": str(chat_id), "kind": "group" if chat_id < 0 else "private",
             "timezone": "UTC", "empty_digest": "skip", "active": True, "created_at": now} for chat_id, _ in mix])
        ids = dict(tx.session.execute(Chat.__table__.select().with_only_columns(Chat.chat_key, Chat.id)).all())
        tx.session.execute(insert(Subscription), [
            {"chat_id": ids[str(chat_id)], "query": parse_query(query).normalized, "display": query,
             "created_at": now} for chat_id, query in mix])


def ingest(store: Store, briefs: list[tuple[str, list[str]]]) -> dict:
    """Store the briefs and queue their alerts in one transaction, as the ingest pipeline does."""
    service = AlertService(store=store, alerts_per_hour=ALERTS_PER_HOUR)
    with store.transaction() as tx:
        source = tx.sources.ensure("https://wire.example/feed", title="Wire")
        stored = []
        for number, (headline, points) in enumerate(briefs):
            url = f"https://wire.example/story/{number}"
            article_id, _ = tx.articles.add(NewArticle(fingerprint=f"bench-{number}", text=headline, url=url,
                                                       title=headline), source_id=source.id, guid=url)
            tx.articles.save_brief(article_id, headline=headline, points=points, backend="lead")
            stored.append(tx.articles.brief_for_article(article_id))
        started = time.perf_counter()
        service.index(tx)
        compiled = time.perf_counter()
        service.match(tx, stored)
        matched = time.perf_counter()
        queued = service.on_new_briefs(tx, stored, datetime.now(UTC))
        enqueued = time.perf_counter()
        # Someone subscribes: the index is rebuilt, reusing every query parsed before.
        tx.chats.subscribe(tx.session.scalar(select(Chat.id).limit(1)), "nothingmatchesthis", "nothingmatchesthis")
        changed = time.perf_counter()
        service.index(tx)
        recompiled = time.perf_counter()
    return {"compile_s": compiled - started, "match_s": matched - started, "queued": queued,
            "enqueue_s": enqueued - matched, "recompile_s": recompiled - changed}


def match_hundred(mix: list[tuple[int, str]], rng: random.Random) -> float:
    """Matching alone: every subscription compiled once, then 100 new briefs."""
    texts = [searchable_text_of(headline, points) for headline, points in build_briefs(100, rng)]
    started = time.perf_counter()
    index = SubscriptionIndex([(number, parse_query(query)) for number, (_, query) in enumerate(mix)])
    for text in texts:
        index.match(text)
    return time.perf_counter() - started


def searchable_text_of(headline: str, points: list[str]) -> str:
    return "\n".join([headline, *points])


def deliver(db: str, tg: TelegramStandIn, expected_total: int, kill_at_half: bool) -> list[tuple[float, float]]:
    """Run the delivery process (killing it halfway if asked); returns each run's (start, end) times."""
    runs = []
    command = [sys.executable, "-m", "tests.delivery_process", "--db", db, "--base-url", tg.base_url,
               "--token", tg.token]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    killed = False
    while True:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        if kill_at_half and not killed:
            while len(tg.sent_messages()) < expected_total // 2 and process.poll() is None:
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed = True
            runs.append((started, time.monotonic()))
            print(f"killed the delivery process after {len(tg.sent_messages())} messages", flush=True)
            continue
        _, err = process.communicate()
        runs.append((started, time.monotonic()))
        if process.returncode != 0:
            raise SystemExit(f"delivery process failed ({process.returncode}):\n{err[-3000:]}")
        return runs


def sending_seconds(tg: TelegramStandIn, runs: list[tuple[float, float]]) -> float:
    """Time spent sending: first to last accepted message within each run."""
    accepted = [call.at for call in tg.calls("sendMessage") if call.status == 200]
    total = 0.0
    for started, ended in runs:
        inside = [at for at in accepted if started <= at <= ended]
        if len(inside) > 1:
            total += inside[-1] - inside[0]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--briefs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--kill-at-half", action="store_true", help="SIGKILL the delivery halfway, then restart")
    parser.add_argument("--json", dest="json_out", help="write the results to this file")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    mix = build_mix(args.chats, rng)
    briefs = build_briefs(args.briefs, rng)
    expected = expected_stories(mix, briefs)
    expected_total = sum(message_count(len(stories)) for stories in expected.values())
    folder = tempfile.mkdtemp(prefix="fanout-")
    db = args.db or f"sqlite:///{folder}/fanout.sqlite3"
    store = Store.open(db)
    populate(store, mix)
    timings = ingest(store, briefs)
    print(f"{args.chats} chats, {args.briefs} briefs: {timings['queued']} messages queued "
          f"(expected {expected_total}); compile {timings['compile_s']:.3f} s, "
          f"compile+match {timings['match_s']:.3f} s, enqueue {timings['enqueue_s']:.3f} s, "
          f"recompile after a change {timings['recompile_s']:.3f} s", flush=True)

    with TelegramStandIn(limits=TelegramLimits()) as tg:
        started = time.monotonic()
        runs = deliver(db, tg, expected_total, args.kill_at_half)
        wall = time.monotonic() - started
        delivered = tg.sent_messages()
        told = Counter((m["chat"]["id"], int(number)) for m in delivered
                       for number in re.findall(r"\bStory (\d+):", m["text"]))
        lost = sum((chat, number) not in told for chat, numbers in expected.items() for number in numbers)
        duplicates = sum(count - 1 for count in told.values())
        sent = sum(starts_a_message(m["text"]) for m in delivered)
        sending = sending_seconds(tg, runs)
        violations = len(tg.violations())
    with store.transaction() as tx:
        statuses = tx.outbox.counts()
    store.close()
    results = {
        "chats": args.chats, "briefs": args.briefs, "expected": expected_total, "queued": timings["queued"],
        "sent": sent, "telegram_messages": len(delivered), "wall_s": round(wall, 2), "sending_s": round(sending, 2),
        "rate_fraction": round((len(delivered) - len(runs)) / (sending * ALLOWANCE), 4) if sending else 0.0,
        "violations": violations, "lost": lost, "duplicates": duplicates, "outbox": statuses,
        "match_s": round(timings["match_s"], 4), "compile_s": round(timings["compile_s"], 4),
        "enqueue_s": round(timings["enqueue_s"], 3), "recompile_s": round(timings["recompile_s"], 4),
        "match_10k_x_100_s": None,
        "kill_at_half": args.kill_at_half,
    }
    if args.chats >= 10_000:
        results["match_10k_x_100_s"] = round(match_hundred(mix[:10_000], rng), 4)
    print(json.dumps(results, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
