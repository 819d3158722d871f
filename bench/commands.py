"""`/summary` latency through Telegram: the real PTB polling app and the real command service.

Updates are pushed to the Telegram stand-in's getUpdates queue; the bot long-polls them, runs the
command and answers. Latency is measured from the moment the bot starts processing an update (a
PTB handler in the first group stamps it) to the moment the stand-in receives the reply
(`sendMessage` arrival), both on this process's monotonic clock. Two workloads, each `--requests`:
- pasted text: a news article cut to what fits one Telegram message (4,096 characters);
- a URL: a different article page per request, served by the tests' local HTTP server (fetch,
  extract, summarize, store).
Beside them, the baseline: the summarizer alone on the same pasted texts, one call per text, no chat,
no store. The ratios say what the chat path (Telegram, command service, store, rendering) adds.

    .venv/bin/python -m bench.commands [--requests 200] [--concurrency 1] [--summarizer lead] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from telegram import Update
from telegram.ext import TypeHandler

from bot.adapters.telegram import TelegramAdapter
from bot.main import build_services
from bot.settings import Settings
from summarizer import ArticleText, get_summarizer
from tests.support.feedserver import FeedServer
from tests.support.standins.telegram import TelegramStandIn, private_chat, user

DEFAULT_DATA = ROOT.parent / "shared" / "bench" / "news_dev.jsonl"
MESSAGE_LIMIT = 4096
WARMUP = 5


def article_page(article: dict) -> str:
    title = html.escape(article.get("title") or article["text"][:60])
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in _sentences_in_paragraphs(article["text"]))
    return (f"<!doctype html><html><head><title>{title}</title></head><body><header>News</header>"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>Footer</footer></body></html>")


def _sentences_in_paragraphs(text: str, per_paragraph: int = 3) -> list[str]:
    sentences = re.split(r"(?<=[.!?])\s+", text)
    return [" ".join(sentences[i:i + per_paragraph]) for i in range(0, len(sentences), per_paragraph)]


def pasted(text: str, command: str = "/summary ") -> str:
    """The article as one Telegram message can carry it: cut at a sentence end under 4,096 characters."""
    room = MESSAGE_LIMIT - len(command)
    if len(text) <= room:
        return command + text
    cut = text[:room]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return command + (cut[:end + 1] if end > 0 else cut)


def load_articles(path: Path, count: int) -> list[dict]:
    with path.open() as lines:
        articles = [json.loads(line) for line in lines if line.strip()]
    if not articles:
        raise SystemExit(f"no articles in {path}")
    return [articles[i % len(articles)] for i in range(count)]


def summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"requests": len(ordered), "median_s": statistics.median(ordered), "p95_s": p95,
            "mean_s": statistics.fmean(ordered), "max_s": ordered[-1]}


class Bench:
    def __init__(self, tg: TelegramStandIn, adapter: TelegramAdapter, concurrency: int) -> None:
        self.tg = tg
        self.concurrency = concurrency
        # Waiting for replies blocks a thread per worker: not in the default executor, which the bot
        # itself uses (asyncio.to_thread) and which waiting workers would starve.
        self.waiters = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-wait")
        self.received: dict[tuple[int, int], float] = {}
        adapter.application.add_handler(TypeHandler(Update, self._stamp), group=-1)

    async def _stamp(self, update: Update, context) -> None:
        message = update.effective_message
        if message is not None:
            self.received[(message.chat.id, message.message_id)] = time.monotonic()

    async def one(self, chat_id: int, text: str) -> tuple[float, str]:
        pushed = self.tg.push_message(private_chat(user(chat_id, f"Reader {chat_id}")), text)
        message_id = pushed["message"]["message_id"]

        def is_reply(call) -> bool:
            return (call.params.get("chat_id") == chat_id
                    and (call.params.get("reply_parameters") or {}).get("message_id") == message_id)

        loop = asyncio.get_running_loop()
        calls = await loop.run_in_executor(self.waiters, self.tg.wait_for_calls, "sendMessage", 1, 120, is_reply)
        reply = calls[0]
        return reply.at - self.received[(chat_id, message_id)], reply.params["text"]

    async def run(self, texts: list[str], first_chat: int) -> tuple[list[float], list[str]]:
        queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        for n, text in enumerate(texts):
            queue.put_nowait((n, text))
        latencies: list[float] = [0.0] * len(texts)
        replies: list[str] = [""] * len(texts)

        async def worker(slot: int) -> None:
            chat_id = first_chat + slot  # one chat per worker: its requests are answered in order
            while not queue.empty():
                n, text = queue.get_nowait()
                latencies[n], replies[n] = await self.one(chat_id, text)

        await asyncio.gather(*(worker(slot) for slot in range(self.concurrency)))
        return latencies, replies


async def main(args: argparse.Namespace) -> dict:
    articles = load_articles(Path(args.data), args.requests)
    with tempfile.TemporaryDirectory() as data_dir, TelegramStandIn() as tg, FeedServer() as pages:
        for n, article in enumerate(articles):
            pages.serve(f"/news/{n}.html", article_page(article), content_type="text/html")
        settings = Settings(_env_file=None, data_dir=Path(data_dir), allow_private_networks=True,
                            telegram_bot_token=tg.token, telegram_api_base_url=tg.base_url,
                            **({"summarizer_backend": args.summarizer} if args.summarizer else {}))
        services = build_services(settings)
        adapter = TelegramAdapter.from_settings(settings, services.commands)
        bench = Bench(tg, adapter, args.concurrency)
        await adapter.start()
        try:
            await bench.run([pasted(a["text"]) for a in articles[:WARMUP]], first_chat=9000)  # load, caches
            text_latencies, text_replies = await bench.run([pasted(a["text"]) for a in articles], first_chat=1000)
            urls = [f"/summary {pages.url(f'/news/{n}.html')}" for n in range(len(articles))]
            url_latencies, url_replies = await bench.run(urls, first_chat=2000)
        finally:
            await adapter.stop()
            await services.aclose()
            bench.waiters.shutdown()
    baseline = summarizer_alone([pasted(a["text"], command="") for a in articles], settings)
    failed_text = sum("went wrong" in r or "could not" in r for r in text_replies)
    failed_url = sum("went wrong" in r or "could not" in r for r in url_replies)
    return {
        "cpu_count": os.cpu_count(), "concurrency": args.concurrency, "summarizer": settings.summarizer_backend,
        "pasted_text": {**summary(text_latencies), "error_replies": failed_text,
                        "mean_chars": round(statistics.fmean(len(pasted(a["text"])) for a in articles))},
        "url": {**summary(url_latencies), "error_replies": failed_url},
        "summarizer_alone": summary(baseline),
        "sample_replies": {"pasted_text": text_replies[0][:300], "url": url_replies[0][:300]},
    }


def summarizer_alone(texts: list[str], settings: Settings) -> list[float]:
    """Latency of the summarizer itself on each text: the floor under any chat command."""
    summarizer = get_summarizer(settings.summarizer_config())
    latencies = []
    for text in texts:
        started = time.monotonic()
        summarizer.summarize([ArticleText(text=text)])
        latencies.append(time.monotonic() - started)
    return latencies


def report(result: dict) -> None:
    print(f"/summary through Telegram (stand-in + PTB polling), {result['cpu_count']} CPUs, "
          f"concurrency {result['concurrency']}, summarizer {result['summarizer']}")
    for name in ("pasted_text", "url"):
        figures = result[name]
        print(f"  {name:12s} n={figures['requests']:4d}  median {figures['median_s'] * 1000:7.1f} ms  "
              f"p95 {figures['p95_s'] * 1000:7.1f} ms  max {figures['max_s'] * 1000:7.1f} ms  "
              f"error replies {figures['error_replies']}")
    alone = result["summarizer_alone"]
    print(f"  {'baseline':12s} n={alone['requests']:4d}  median {alone['median_s'] * 1000:7.1f} ms  "
          f"p95 {alone['p95_s'] * 1000:7.1f} ms  (the summarizer alone on the pasted texts)")
    text = result["pasted_text"]
    print(f"  pasted text through Telegram / summarizer alone: median {text['median_s'] / alone['median_s']:.2f}x, "
          f"p95 {text['p95_s'] / alone['p95_s']:.2f}x; goal p95 < 1000 ms: "
          f"{'met' if text['p95_s'] < 1 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1, help="chats sending at once (one request each)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="JSON lines with a `text` field per article")
    parser.add_argument("--summarizer", choices=["extractive", "abstractive", "lead"],
                        help="summarizer backend (default: the settings' default)")
    parser.add_argument("--json", dest="json_out", help="also write the figures to this file")
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    report(figures)
    if arguments.json_out:
        Path(arguments.json_out).write_text(json.dumps(figures, indent=2))
