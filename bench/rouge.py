"""ROUGE of our default backend next to Lead-3, LexRank and TextRank, on the same articles in one run.

    python -m bench.rouge --data ../shared/bench/news_dev.jsonl [--limit N] [--by-source] [--json OUT]
    python -m bench.rouge --data ... --backend llm --llm-base-url http://127.0.0.1:11434/v1 --llm-model llama3.2

With `--backend llm` the llm backend (an OpenAI-compatible server) is scored too, beside the default;
its briefs that fell back to extractive (server failing, answer unusable) are counted and reported.

The data is JSON lines with `text` and a reference `summary` (one highlight per line). Every system picks
the same number of sentences (3) from the same sentences: our splitter and cleaning feed all of them.
Each system runs in its own process, so its speed and peak memory are its own; speed counts everything
from raw text to sentences, after the model has loaded (load time is reported apart).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path


SYSTEMS = ("ours", "lead3", "lexrank", "textrank")
LABELS = {"ours": "ours (extractive)", "lead3": "Lead-3", "lexrank": "LexRank (sumy)", "textrank": "TextRank (sumy)",
          "llm": "llm backend"}
METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
BATCH = 64


class _WordTokenizer:
    """What sumy's document model needs from a tokenizer, without NLTK data: words of a sentence."""

    @staticmethod
    def to_words(sentence: str) -> list[str]:
        return re.findall(r"[^\W_]+(?:['’][^\W_]+)?", sentence)

    @staticmethod
    def to_sentences(paragraph: str) -> list[str]:  # never called: sentences come from our splitter
        raise NotImplementedError


def _sumy_picker(name: str, count: int):
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
    from sumy.nlp.stemmers import Stemmer
    from sumy.summarizers.lex_rank import LexRankSummarizer
    from sumy.summarizers.text_rank import TextRankSummarizer
    from sumy.utils import get_stop_words

    from summarizer.prepare import prepare
    from summarizer.types import ArticleText

    summarizer = (LexRankSummarizer if name == "lexrank" else TextRankSummarizer)(Stemmer("english"))
    summarizer.stop_words = get_stop_words("english")
    tokenizer = _WordTokenizer()

    def pick(texts: list[str]) -> list[list[str]]:
        picked = []
        for text in texts:
            sentences = prepare(ArticleText(text=text)).sentences
            document = ObjectDocumentModel([Paragraph([Sentence(s, tokenizer) for s in sentences])])
            picked.append([str(sentence) for sentence in summarizer(document, count)])
        return picked

    return pick


def _summarizer_picker(backend: str, count: int):
    from summarizer import ArticleText, Summarizer, SummarizerConfig

    summarizer = Summarizer(SummarizerConfig(backend=backend, sentences=count))
    _ = summarizer.backend  # load the model now, outside the timed part

    def pick(texts: list[str]) -> list[list[str]]:
        briefs = summarizer.summarize_each([ArticleText(text=text) for text in texts], max_chars=sys.maxsize)
        return [[] if isinstance(brief, Exception) else brief.points for brief in briefs]

    return pick


def _llm_picker(count: int, options: dict, fallbacks: dict[str, int]):
    """The llm backend with the bot's client of the server; extractive stands in where it fails."""
    from bot.runtime.llm_client import LlmClient
    from summarizer import ArticleText, Summarizer, SummarizerConfig

    client = LlmClient(base_url=options["base_url"], model=options["model"], api_key=options.get("api_key"),
                       timeout_s=options["timeout_s"], concurrency=options["concurrency"], requests_per_hour=0,
                       context_tokens=options.get("context_tokens"))
    summarizer = Summarizer(SummarizerConfig(backend="llm", sentences=count, language=options["language"]),
                            chat_model=client)
    _ = summarizer.backend  # the fallback's model loads now, outside the timed part

    def pick(texts: list[str]) -> list[list[str]]:
        briefs = summarizer.summarize_each([ArticleText(text=text) for text in texts], max_chars=sys.maxsize)
        for brief in briefs:
            if not isinstance(brief, Exception) and brief.fallback:
                fallbacks[brief.fallback] = fallbacks.get(brief.fallback, 0) + 1
        return [[] if isinstance(brief, Exception) else brief.points for brief in briefs]

    return pick


def run_system(name: str, texts: list[str], count: int, llm: dict | None = None) -> dict:
    """In a child process: load, then summarize every text in batches, timed."""
    started = time.perf_counter()
    fallbacks: dict[str, int] = {}
    if name in ("lexrank", "textrank"):
        pick = _sumy_picker(name, count)
    elif name == "llm":
        pick = _llm_picker(count, llm or {}, fallbacks)
    else:
        pick = _summarizer_picker("extractive" if name == "ours" else "lead", count)
    loaded = time.perf_counter()
    picked: list[list[str]] = []
    for start in range(0, len(texts), BATCH):
        picked.extend(pick(texts[start:start + BATCH]))
    seconds = time.perf_counter() - loaded
    return {"picked": picked, "seconds": seconds, "load_seconds": loaded - started,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "fallbacks": fallbacks}


def score(rows: list[dict], picked: list[list[str]]) -> dict[str, dict[str, float]]:
    """Mean F1 x 100 per metric, overall and per source."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, int] = defaultdict(int)
    for row, sentences in zip(rows, picked):
        scores = scorer.score(row["summary"], "\n".join(sentences))  # Lsum needs one sentence per line
        for group in ("all", row.get("source") or "unknown"):
            counts[group] += 1
            for metric in METRICS:
                sums[group][metric] += scores[metric].fmeasure
    return {group: {metric: 100 * sums[group][metric] / counts[group] for metric in METRICS} | {"n": counts[group]}
            for group in sums}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sentences", type=int, default=3)
    parser.add_argument("--by-source", action="store_true")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of " + ", ".join(SYSTEMS))
    parser.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    parser.add_argument("--backend", choices=("llm",), default=None,
                        help="also score the llm backend, beside the default")
    parser.add_argument("--llm-base-url", help="the OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1")
    parser.add_argument("--llm-model", help="the model's name on that server, e.g. llama3.2")
    parser.add_argument("--llm-api-key", default=None)
    parser.add_argument("--llm-language", default="article")
    parser.add_argument("--llm-concurrency", type=int, default=4)
    parser.add_argument("--llm-timeout", type=float, default=120.0)
    parser.add_argument("--llm-context-tokens", type=int, default=None)
    args = parser.parse_args(argv)
    llm = None
    if args.backend == "llm":
        if not (args.llm_base_url and args.llm_model):
            parser.error("--backend llm needs --llm-base-url and --llm-model")
        llm = {"base_url": args.llm_base_url, "model": args.llm_model, "api_key": args.llm_api_key,
               "language": args.llm_language, "concurrency": args.llm_concurrency, "timeout_s": args.llm_timeout,
               "context_tokens": args.llm_context_tokens}
        LABELS["llm"] = f"llm ({args.llm_model})"

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[: args.limit] if args.limit else rows
    texts = [row["text"] for row in rows]
    systems = [name.strip() for name in args.systems.split(",") if name.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if llm is not None:
        systems = [*(["ours"] if "ours" not in systems else []), *systems, "llm"]  # side by side with the default

    results = {}
    context = multiprocessing.get_context("spawn")
    for name in systems:
        with context.Pool(1) as pool:  # a fresh process: its speed and memory are this system's alone
            run = pool.apply(run_system, (name, texts, args.sentences, llm))
        results[name] = {"scores": score(rows, run["picked"]), "articles_per_second": len(rows) / run["seconds"],
                         "load_seconds": run["load_seconds"], "peak_mb": run["peak_mb"]}
        if name == "llm":
            results[name]["fallbacks"] = run["fallbacks"]
        print(f"{LABELS[name]}: done in {run['seconds']:.1f} s", file=sys.stderr)

    table = {"data": str(args.data), "articles": len(rows), "sentences": args.sentences, "systems": results,
             "ratios": _ratios(results)}
    _print(table, by_source=args.by_source)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(table, indent=2), encoding="utf-8")
    return table


def _ratios(results: dict) -> dict:
    """Ours divided by each baseline, per metric and for speed."""
    if "ours" not in results:
        return {}
    ours = results["ours"]
    ratios = {}
    for name, other in results.items():
        if name in ("ours", "llm"):
            continue
        ratios[name] = {metric: ours["scores"]["all"][metric] / other["scores"]["all"][metric] for metric in METRICS}
        ratios[name]["articles_per_second"] = ours["articles_per_second"] / other["articles_per_second"]
    return ratios


def _print(table: dict, *, by_source: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    results = table["systems"]
    console = Console(width=140)
    main_table = Table(title=f"ROUGE F1 on {table['articles']} articles of {table['data']} "
                             f"({table['sentences']} sentences each)")
    for column in ("system", "R-1", "R-2", "R-L", "R-Lsum", "articles/s", "load s", "peak MB"):
        main_table.add_column(column, justify="left" if column == "system" else "right")
    for name, result in results.items():
        scores = result["scores"]["all"]
        main_table.add_row(LABELS[name], *(f"{scores[m]:.2f}" for m in METRICS),
                           f"{result['articles_per_second']:.1f}", f"{result['load_seconds']:.1f}",
                           f"{result['peak_mb']:.0f}")
    console.print(main_table)

    if table["ratios"]:
        ratio_table = Table(title="ours / baseline")
        for column in ("baseline", "R-1", "R-2", "R-L", "R-Lsum", "speed"):
            ratio_table.add_column(column, justify="left" if column == "baseline" else "right")
        for name, ratio in table["ratios"].items():
            ratio_table.add_row(LABELS[name], *(f"{ratio[m]:.3f}" for m in METRICS),
                                f"{ratio['articles_per_second']:.2f}")
        console.print(ratio_table)

    if "llm" in results and "ours" in results:
        llm, ours = results["llm"], results["ours"]
        ratios = ", ".join(f"{label} {llm['scores']['all'][m] / ours['scores']['all'][m]:.3f}"
                           for label, m in zip(("R-1", "R-2", "R-L", "R-Lsum"), METRICS))
        fallbacks = ", ".join(f"{reason} {n}" for reason, n in sorted(llm["fallbacks"].items())) or "none"
        console.print(f"{LABELS['llm']} / ours (extractive): {ratios}; "
                      f"speed {llm['articles_per_second'] / ours['articles_per_second']:.2f}")
        console.print(f"{LABELS['llm']}: briefs made by the extractive fallback instead: {fallbacks}")

    if by_source:
        source_table = Table(title="by source")
        for column in ("source", "n", "system", "R-1", "R-2", "R-L", "R-Lsum"):
            source_table.add_column(column, justify="left" if column in ("source", "system") else "right")
        sources = sorted({group for result in results.values() for group in result["scores"] if group != "all"})
        for source in sources:
            for name, result in results.items():
                scores = result["scores"][source]
                source_table.add_row(source, str(scores["n"]), LABELS[name], *(f"{scores[m]:.2f}" for m in METRICS))
        console.print(source_table)


if __name__ == "__main__":
    main()
