"""Alert fan-out: many chats with keyword subscriptions, a batch of new briefs, delivered to the
Telegram stand-in enforcing Telegram's limits (30 messages/s overall, 1/s per chat, 20/min per group)
across all its connections.

    .venv/bin/python -m bench.fanout [--chats 10000] [--briefs 50] [--kill-at-half] [--json OUT]
    .venv/bin/python -m bench.fanout --processes 3 --kill-one      # PostgreSQL, one process SIGKILLed
    .venv/bin/python -m bench.fanout --processes 1 --paid-broadcast --briefs 1 --subscribed 1.0

Steps: store the chats and subscriptions; store the briefs and run the alert service in the same
transaction, as the ingest pipeline does (timing compilation + matching); then run the delivery
processes (tests/delivery_process.py: the production DeliveryLoop with the real python-telegram-bot
sender), all with identical settings, until the outbox is drained. With --kill-at-half the one process
is killed with SIGKILL once half the messages arrived, and started again. With --kill-one, one of
--processes gets SIGKILL at a third of the wave and is not restarted: the others take over its chats
once its leases lapse (`waited_s`: from the kill to each of its chats' next message). With more than
one process, or --postgres, the database is a fresh schema on the local PostgreSQL server
(TEST_POSTGRES_URL). --paid-broadcast sends with allow_paid_broadcast (1,000 messages/s).

The subscription mix (deterministic, --seed): 70% of chats follow a word no brief mentions (cost
of matching, no messages); 25% one of 100 topic words (single word, two words, or a word with an
exclusion); each brief names 3 topic words; 0.2% of chats follow "news", in every brief, so they
exceed 10 alerts an hour and get folded alerts. 5% of chats are groups. With 10,000 chats and 50
briefs that is about 3,500 messages, near two minutes at 30/s. `--subscribed 1.0` makes every chat
follow "news" instead (one message per chat and brief: a wave that the overall limit alone paces).

`expected` is computed independently of the alert service: each subscription's query against
each brief, then the folding rule (10 single alerts, the rest in one message). At the stand-in,
`sent` counts alerts received (a long folded alert arrives as several Telegram messages:
`telegram_messages` counts those), `lost` the (chat, story) pairs never told, `duplicates` those
told twice. `rate_fraction` is Telegram messages accepted per second from the first to the last
(restarts excluded) over the allowance; `rate_fraction_p5_p95` the same between the 5th and 95th
percentile of arrivals (without the tail of a few chats paced by their own 1/s). `cpu_s` says where
the time went: the delivery processes, and this process (the stand-in and its HTTP server).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
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

from sqlalchemy import insert, select

from bot.domain.matching import SubscriptionIndex, parse_query
from bot.services.alerts import AlertService
from bot.store.articles import NewArticle
from bot.store.store import Store
from bot.store.tables import Chat, ChatLease, Subscription
from tests.support.databases import postgres_schema_url
from tests.support.standins.telegram import TelegramLimits, TelegramStandIn

ALERTS_PER_HOUR = 10
ALLOWANCE = 30.0
PAID_ALLOWANCE = 1000.0
TOPICS = [f"topic{n}" for n in range(100)]


def build_mix(chats: int, rng: random.Random, subscribed: float = 0.0) -> list[tuple[int, str]]:
    """(telegram chat id, query) per chat."""
    mix = []
    for number in range(chats):
        chat_id = -(5000 + number) if number % 20 == 0 else 100000 + number
        roll = rng.random()
        if roll < 0.002 or roll < subscribed:
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


def start_process(db: str, tg: TelegramStandIn, paid: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.support.delivery_process", "--db", db, "--base-url", tg.base_url,
               "--token", tg.token]
    if paid:
        command.append("--paid-broadcast")
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def identity_of(process: subprocess.Popen) -> str:
    """The lease owner name the process prints when it starts delivering."""
    for line in process.stdout:
        if line.startswith("delivering as "):
            return line.split(" as ", 1)[1].strip()
    raise SystemExit(f"delivery process exited ({process.wait()}): {process.stderr.read()[-3000:]}")


def deliver(db: str, store: Store, tg: TelegramStandIn, expected_total: int, *, processes: int,
            kill_at_half: bool, kill_one: bool, paid: bool) -> dict:
    """Run the delivery processes (killing one if asked); returns the runs' (start, end) times and, for a
    kill, when it happened and which chats the killed process held."""
    runs, kill = [], {}
    started = time.monotonic()
    workers = [start_process(db, tg, paid) for _ in range(processes)]
    names = [identity_of(worker) for worker in workers]
    if kill_at_half or kill_one:
        victim = workers[0]
        threshold = expected_total // 2 if kill_at_half else expected_total // 3
        while len(tg.sent_messages()) < threshold and victim.poll() is None:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        kill["at"] = time.monotonic()
        with store.transaction() as tx:
            held = tx.session.execute(select(Chat.chat_key).join(ChatLease, ChatLease.chat_id == Chat.id)
                                      .where(ChatLease.owner == names[0])).scalars().all()
        kill["chats"] = {int(key) for key in held}
        kill["sent_before"] = len(tg.sent_messages())
        print(f"killed {names[0]} after {kill['sent_before']} messages; it held {len(held)} chats", flush=True)
        workers = workers[1:]
        if kill_at_half:  # restarted: a new start, a new identity; its start-up is not sending time
            runs.append((started, kill["at"]))
            workers.append(start_process(db, tg, paid))
            started = kill["at"]
    for worker in workers:
        _, err = worker.communicate()
        if worker.returncode != 0:
            raise SystemExit(f"delivery process failed ({worker.returncode}):\n{err[-3000:]}")
    runs.append((started, time.monotonic()))
    return {"runs": runs, "kill": kill}


def waits_after_kill(tg: TelegramStandIn, kill: dict) -> dict:
    """For each chat the killed process held that got a message after the kill: how long it waited."""
    firsts: dict[int, float] = {}
    for call in tg.calls("sendMessage"):
        chat = call.params.get("chat_id")
        if call.status == 200 and call.at > kill["at"] and chat in kill["chats"] and chat not in firsts:
            firsts[chat] = call.at - kill["at"]
    waits = sorted(firsts.values())
    if not waits:
        return {"chats_resumed": 0}
    return {"chats_resumed": len(waits), "waited_s_min": round(waits[0], 2),
            "waited_s_median": round(waits[len(waits) // 2], 2), "waited_s_max": round(waits[-1], 2)}


def sending_seconds(tg: TelegramStandIn, runs: list[tuple[float, float]]) -> float:
    """Time spent sending: first to last accepted message within each run."""
    accepted = [call.at for call in tg.calls("sendMessage") if call.status == 200]
    total = 0.0
    for started, ended in runs:
        inside = [at for at in accepted if started <= at <= ended]
        if len(inside) > 1:
            total += inside[-1] - inside[0]
    return total


def rate_between(accepted: list[float], low: float, high: float) -> float:
    """Messages per second between two percentiles of the arrival times."""
    if len(accepted) < 20:
        return 0.0
    first, last = int(len(accepted) * low), int(len(accepted) * high) - 1
    span = accepted[last] - accepted[first]
    return (last - first) / span if span > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--briefs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--subscribed", type=float, default=0.0, help="share of chats that follow every brief")
    parser.add_argument("--db", help="database URL (default: a new SQLite file, or PostgreSQL, see above)")
    parser.add_argument("--postgres", action="store_true", help="a fresh schema on the local PostgreSQL")
    parser.add_argument("--processes", type=int, default=1, help="delivery processes, identical settings")
    parser.add_argument("--kill-at-half", action="store_true", help="SIGKILL the delivery halfway, then restart")
    parser.add_argument("--kill-one", action="store_true",
                        help="SIGKILL one process at a third of the wave; it is not restarted")
    parser.add_argument("--paid-broadcast", action="store_true", help="allow_paid_broadcast: 1,000 messages/s")
    parser.add_argument("--json", dest="json_out", help="write the results to this file")
    args = parser.parse_args()
    if args.db or not (args.postgres or args.processes > 1 or args.kill_one):
        run(args, args.db or f"sqlite:///{tempfile.mkdtemp(prefix='fanout-')}/fanout.sqlite3")
    else:
        with postgres_schema_url() as db:
            run(args, db)


def run(args: argparse.Namespace, db: str) -> None:
    rng = random.Random(args.seed)
    mix = build_mix(args.chats, rng, args.subscribed)
    briefs = build_briefs(args.briefs, rng)
    expected = expected_stories(mix, briefs)
    expected_total = sum(message_count(len(stories)) for stories in expected.values())
    store = Store.open(db)
    populate(store, mix)
    timings = ingest(store, briefs)
    print(f"{args.chats} chats, {args.briefs} briefs: {timings['queued']} messages queued "
          f"(expected {expected_total}); compile {timings['compile_s']:.3f} s, "
          f"compile+match {timings['match_s']:.3f} s, enqueue {timings['enqueue_s']:.3f} s, "
          f"recompile after a change {timings['recompile_s']:.3f} s", flush=True)

    allowance = PAID_ALLOWANCE if args.paid_broadcast else ALLOWANCE
    with TelegramStandIn(limits=TelegramLimits()) as tg:
        cpu_here, cpu_children = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        outcome = deliver(db, store, tg, expected_total, processes=args.processes, kill_at_half=args.kill_at_half,
                          kill_one=args.kill_one, paid=args.paid_broadcast)
        wall = time.monotonic() - started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {"delivery_processes": round(children.ru_utime + children.ru_stime - cpu_children.ru_utime
                                           - cpu_children.ru_stime, 1),
               "stand_in_and_bench": round(time.process_time() - cpu_here, 1)}
        runs = outcome["runs"]
        delivered = tg.sent_messages()
        told = Counter((m["chat"]["id"], int(number)) for m in delivered
                       for number in re.findall(r"\bStory (\d+):", m["text"]))
        lost = sum((chat, number) not in told for chat, numbers in expected.items() for number in numbers)
        duplicates = sum(count - 1 for count in told.values())
        sent = sum(starts_a_message(m["text"]) for m in delivered)
        sending = sending_seconds(tg, runs)
        accepted = sorted(call.at for call in tg.calls("sendMessage") if call.status == 200)
        violations = len(tg.violations())
        waited = waits_after_kill(tg, outcome["kill"]) if outcome["kill"] else {}
    with store.transaction() as tx:
        statuses = tx.outbox.counts()
    store.close()
    results = {
        "chats": args.chats, "briefs": args.briefs, "processes": args.processes, "paid_broadcast": args.paid_broadcast,
        "database": db.split(":", 1)[0], "expected": expected_total, "queued": timings["queued"],
        "sent": sent, "telegram_messages": len(delivered), "wall_s": round(wall, 2), "sending_s": round(sending, 2),
        "allowance_per_s": allowance,
        "rate_per_s": round((len(delivered) - len(runs)) / sending, 1) if sending else 0.0,
        "rate_fraction": round((len(delivered) - len(runs)) / (sending * allowance), 4) if sending else 0.0,
        "rate_fraction_p5_p95": round(rate_between(accepted, 0.05, 0.95) / allowance, 4),
        "violations": violations, "lost": lost, "duplicates": duplicates, "outbox": statuses,
        "cpu_s": cpu, "killed": {"sent_before": outcome["kill"].get("sent_before"),
                                 "chats_held": len(outcome["kill"].get("chats", ())), **waited}
        if outcome["kill"] else None,
        "match_s": round(timings["match_s"], 4), "compile_s": round(timings["compile_s"], 4),
        "enqueue_s": round(timings["enqueue_s"], 3), "recompile_s": round(timings["recompile_s"], 4),
        "match_10k_x_100_s": None,
        "kill_at_half": args.kill_at_half, "kill_one": args.kill_one,
    }
    if args.chats >= 10_000:
        results["match_10k_x_100_s"] = round(match_hundred(mix[:10_000], rng), 4)
    print(json.dumps(results, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
