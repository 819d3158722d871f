"""The labelled set for story grouping: pairs of briefs that tell the same event, or do not.

    python -m bench.story_pairs [--data ../shared/bench/news_dev.jsonl] [--pages ../shared/pages] [--show N]

Built at run time from the shared data (nothing of it is kept in the repository), as the digest sees
stories: each article or page is briefed by the bot's default summarizer, and a pair is two briefs.

- same event (label 1): two tellings made from one article, as syndication and rewriting make them:
  `truncated` (a wire copy cut after its first paragraphs), `reordered` (the lead kept, the rest of the
  sentences reshuffled), `retitled` (the same text under a headline of its own: the first reference
  highlight), `rewrite` (the outlet's own highlights, written by people, told as a brief: headline and
  points in other words). From a page: `page-truncated` and `page-retitled` (the site's name added to
  the title, the last part cut).
- same topic, different event (label 0), `same-topic`: two different articles whose texts share the
  most rare words (TF-IDF cosine over the whole texts): two storms, two trials, two football matches;
  every telling of one against every telling of the other.
  Every article of the data is its own story (the data's SOURCE.md: no article in two places); the
  pairs are drawn from the top of that similarity, where different events on one topic sit.
  `TOLD_TWICE` lists pairs that, read by hand, are one event told twice by different outlets: they
  are labelled same event instead (`cross-outlet`).
- unrelated (label 0), `unrelated`: random pairs of different articles and pages.

Run alone it prints the counts and the closest same-topic pairs, for reading them by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SHARED = ROOT.parent / "shared" if (ROOT.parent / "shared").is_dir() else Path("/work/shared")
DEFAULT_DATA = SHARED / "bench" / "news_dev.jsonl"
DEFAULT_PAGES = SHARED / "pages"
CACHE = ROOT / "bench" / "results" / "story_pairs.json"  # ignored by git
SEED = 20261201
SAME_TOPIC_PER_SET = 0.6  # same-topic pairs: this many per article (the closest pairs overall)
UNRELATED_PER_ITEM = 1
MAX_CHARS = 600  # the bot's default brief budget (BRIEF_MAX_CHARS)
# Same-topic candidates read by hand (article ids by their first 12 hex digits, pages by name).
TOLD_TWICE = {frozenset(pair) for pair in [  # one event, two outlets
    ("page-p340", "page-p342"),  # Boric starts his visit to Magallanes, 4 May 2022, Cooperativa and 24horas
    ("272cd78ced8f", "2beb3c90dd9c"),  # ESPN reporter Britt McHenry's video berating a towing-lot worker
    ("12737f4966e6", "a0df0cc27c7f"),  # the ISIS video of a child shooting an alleged Israeli spy: report, analysis
]}
UNCLEAR = {frozenset(pair) for pair in [  # one running story, not clearly one event or two: left out
    ("page-p335", "page-p337"),  # Pacheco's meeting with Fux, and an analysis of his moves around it
    ("dca7049cecc3", "8a7e96642672"),  # Robert Durst: his home searched after the charge; the documentary's words
    ("e1532b5d4b83", "6801fde43acd"),  # Lewis Hamilton before the 2015 season opener: interview, qualifying
]}
_WORD = re.compile(r"[^\W\d_]{4,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'“])")


@dataclass(frozen=True)
class Telling:
    """One brief as the digest would see it."""

    key: str  # "<source id>/<variant>"
    event: str  # tellings of one event share this
    headline: str
    points: list[str]

    def text(self) -> str:
        return " ".join([self.headline, *self.points])


@dataclass(frozen=True)
class Pair:
    a: int  # indexes into LabelledSet.tellings
    b: int
    same: bool
    kind: str


@dataclass
class LabelledSet:
    tellings: list[Telling] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(pair.kind for pair in self.pairs)


@dataclass(frozen=True)
class _Source:
    key: str
    title: str | None
    text: str
    highlights: list[str]  # reference highlights (articles), else empty
    site: str | None = None


def build(data: Path = DEFAULT_DATA, pages: Path | None = DEFAULT_PAGES, *, limit: int | None = None,
          page_limit: int | None = None, cache: Path | None = None) -> LabelledSet:
    """The labelled set. `cache`: a JSON file (outside the repository's tracked files) that keeps the
    extracted pages and the briefs between runs; it is rebuilt when the inputs change."""
    rng = random.Random(SEED)
    stamp = [str(data), data.stat().st_mtime, str(pages), limit, page_limit]
    kept = json.loads(cache.read_text(encoding="utf-8")) if cache and cache.is_file() else {}
    if kept.get("stamp") != stamp:
        kept = {"stamp": stamp, "pages": None, "briefs": {}}
    articles = _articles(data, limit)
    if kept["pages"] is None:
        kept["pages"] = [vars(source) for source in (_pages(pages, page_limit) if pages else [])]
    page_sources = [_Source(**source) for source in kept["pages"]]
    jobs: dict[str, tuple[str | None, str]] = {}  # telling key -> (title, text)
    same: list[tuple[str, str, str]] = []  # (key, key, kind)
    for source in articles:
        sentences = _SENTENCE_END.split(source.text)
        rest = sentences[2:]
        rng.shuffle(rest)
        original = f"{source.key}/original"
        jobs[original] = (None, source.text)
        jobs[f"{source.key}/truncated"] = (None, " ".join(sentences[:max(4, len(sentences) * 6 // 10)]))
        jobs[f"{source.key}/reordered"] = (None, " ".join([*sentences[1:2], sentences[0], *rest]))
        same += [(original, f"{source.key}/truncated", "truncated"), (original, f"{source.key}/reordered", "reordered")]
        if source.highlights:
            jobs[f"{source.key}/retitled"] = (source.highlights[0], source.text)
            kept["briefs"][f"{source.key}/rewrite"] = [source.highlights[0], source.highlights[1:] or source.highlights[:1]]
            same += [(original, f"{source.key}/retitled", "retitled"), (original, f"{source.key}/rewrite", "rewrite")]
    for source in page_sources:
        paragraphs = [p for p in source.text.split("\n") if p.strip()]
        original = f"{source.key}/original"
        tail = f"{source.title} | {source.site}" if source.title and source.site else source.title
        jobs[original] = (source.title, source.text)
        jobs[f"{source.key}/truncated"] = (source.title,
                                           "\n".join(paragraphs[:max(2, len(paragraphs) * 6 // 10)]))
        jobs[f"{source.key}/retitled"] = (tail, "\n".join(paragraphs[:max(2, len(paragraphs) * 8 // 10)]))
        same += [(original, f"{source.key}/truncated", "page-truncated"),
                 (original, f"{source.key}/retitled", "page-retitled")]
    _summarize_missing(jobs, kept["briefs"])
    labelled = LabelledSet()
    index: dict[str, int] = {}
    for key, brief in kept["briefs"].items():
        if brief is not None and key.split("/")[0] in {s.key for s in [*articles, *page_sources]}:
            index[key] = len(labelled.tellings)
            labelled.tellings.append(Telling(key, key.split("/")[0], brief[0], brief[1]))
    originals = {key.split("/")[0]: i for key, i in index.items() if key.endswith("/original")}

    def pair(first: int | None, second: int | None, same: bool, kind: str) -> None:
        if first is not None and second is not None:
            labelled.pairs.append(Pair(first, second, same, kind))

    for first, second, kind in same:
        pair(index.get(first), index.get(second), True, kind)
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(kept), encoding="utf-8")
    sources = [s for s in [*articles, *page_sources] if s.key in originals]
    tellings_of: dict[str, list[int]] = {}
    for number, telling in enumerate(labelled.tellings):
        tellings_of.setdefault(telling.event, []).append(number)
    for first, second in _closest_pairs(sources, round(len(sources) * SAME_TOPIC_PER_SET)):
        keys = frozenset({first.key[:12], second.key[:12]})
        if keys in UNCLEAR:
            continue
        told_twice = keys in TOLD_TWICE
        for a in tellings_of[first.key]:  # every telling of one against every telling of the other
            for b in tellings_of[second.key]:
                pair(a, b, told_twice, "cross-outlet" if told_twice else "same-topic")
    keys = [s.key for s in sources]
    taken = {frozenset((p.a, p.b)) for p in labelled.pairs}
    for _ in range(len(keys) * UNRELATED_PER_ITEM):
        first, second = rng.sample(keys, 2)
        ids = frozenset((originals[first], originals[second]))
        if ids not in taken:
            taken.add(ids)
            pair(originals[first], originals[second], False, "unrelated")
    return labelled


def _summarize_missing(jobs: dict[str, tuple[str | None, str]], briefs: dict[str, list | None]) -> None:
    """Brief every job not kept yet, in batches, with the bot's default summarizer."""
    from summarizer import ArticleText, SummarizerError, get_summarizer

    summarizer = get_summarizer()
    missing = [key for key in jobs if key not in briefs]
    for start in range(0, len(missing), 64):
        batch = missing[start:start + 64]
        outcomes = summarizer.summarize_each([ArticleText(text=jobs[key][1], title=jobs[key][0]) for key in batch],
                                             max_chars=MAX_CHARS)
        for key, outcome in zip(batch, outcomes):
            usable = not isinstance(outcome, SummarizerError) and outcome.points
            briefs[key] = [outcome.headline, outcome.points] if usable else None


def _articles(path: Path, limit: int | None) -> list[_Source]:
    sources = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            highlights = [h.strip() for h in (record.get("summary") or "").split("\n") if h.strip()]
            sources.append(_Source(record["id"].split("-")[-1], record.get("title"), record["text"], highlights))
            if limit and len(sources) >= limit:
                break
    return sources


def _pages(folder: Path, limit: int | None) -> list[_Source]:
    from bot.sources.pages import PageError, extract_page

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sources = []
    for entry in manifest[:limit]:
        try:
            page = extract_page((folder / "html" / entry["page"]).read_bytes(), url=entry["url"])
        except PageError:
            continue
        sources.append(_Source(f"page-{entry['page'].split('.')[0]}", page.title, page.text, [], page.site_name))
    return sources


def _closest_pairs(sources: list[_Source], count: int) -> list[tuple[_Source, _Source]]:
    """The `count` most similar pairs of different sources by TF-IDF cosine over their words."""
    bags = [Counter(word.casefold() for word in _WORD.findall(source.text)) for source in sources]
    frequency = Counter(word for bag in bags for word in bag)
    vocabulary = {word: i for i, word in enumerate(w for w, n in frequency.items() if 2 <= n <= len(bags) // 10)}
    matrix = np.zeros((len(bags), len(vocabulary)))
    for row, bag in enumerate(bags):
        for word, n in bag.items():
            if word in vocabulary:
                matrix[row, vocabulary[word]] = (1 + np.log(n)) * np.log(len(bags) / frequency[word])
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
    similarity = np.triu(matrix @ matrix.T, k=1)
    order = np.argsort(similarity, axis=None)[::-1][:count]
    return [(sources[i], sources[j]) for i, j in zip(*np.unravel_index(order, similarity.shape))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--page-limit", type=int)
    parser.add_argument("--cache", type=Path, default=CACHE, help="extracted pages and briefs kept between runs")
    parser.add_argument("--show", type=int, default=20, help="same-topic pairs to print for reading")
    args = parser.parse_args()
    labelled = build(args.data, args.pages, limit=args.limit, page_limit=args.page_limit, cache=args.cache)
    print(f"{len(labelled.tellings)} briefs, {len(labelled.pairs)} pairs:", dict(labelled.counts()))
    for pair in [p for p in labelled.pairs if p.kind in {"same-topic", "cross-outlet"}][:args.show]:
        a, b = labelled.tellings[pair.a], labelled.tellings[pair.b]
        print(f"[{pair.kind}] {a.event[:12]} | {b.event[:12]}\n  A: {a.text()[:150]}\n  B: {b.text()[:150]}")


if __name__ == "__main__":
    main()
