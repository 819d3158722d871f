"""Story grouping in digests: which briefs are one event, measured on the labelled set of bench/story_pairs.py.

    python -m bench.grouping [--data ../shared/bench/news_dev.jsonl] [--pages ../shared/pages]

What separates same-event pairs from different events on one topic: the MiniLM cosine of the two briefs
alone, or with the overlap of their names and numbers (`bot.domain.digest.story_marks`). Each rule is
tuned on this data (choose on dev only): the threshold that never merges a different-event pair with
the most same-event pairs merged. Printed side by side with the rule the bot shipped before (cosine
>= 0.55) and the rule it uses now (`bot.domain.digest.same_story_affinity`, SAME_STORY_THRESHOLD):

- pairs: precision and recall of the merge decision over the labelled pairs, by kind;
- digests: every brief of the articles (then of the pages) grouped at once by `group_stories`, the
  digest's own complete-linkage clustering, scored over all pairs of briefs (two briefs are one event
  when they come from one article, or from two articles read as one event).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import numpy as np

from bench.story_pairs import CACHE, DEFAULT_DATA, DEFAULT_PAGES, TOLD_TWICE, UNCLEAR, LabelledSet, build
from bot.domain.digest import (
    MARKS_WEIGHT,
    SAME_STORY_THRESHOLD,
    DigestBrief,
    group_stories,
    marks_overlap,
    same_story_affinity,
    story_marks,
)

OLD_THRESHOLD = 0.55  # the cosine rule before marks were measured
AT = datetime(2026, 1, 1, tzinfo=UTC)


def features(labelled: LabelledSet) -> tuple[np.ndarray, list[frozenset[str]]]:
    from summarizer import get_summarizer

    embed = get_summarizer().embed
    vectors = embed([telling.text() for telling in labelled.tellings])
    marks = story_marks([[t.headline, *t.points] for t in labelled.tellings])  # as one digest would
    return vectors, marks


def pair_scores(labelled: LabelledSet, vectors: np.ndarray, marks: list[frozenset[str]], weight: float) -> np.ndarray:
    cosine = np.array([float(vectors[p.a] @ vectors[p.b]) for p in labelled.pairs])
    overlap = np.array([marks_overlap(marks[p.a], marks[p.b]) for p in labelled.pairs])
    return cosine + weight * (overlap - 0.5)


def best_threshold(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold that merges no different-event pair and the most same-event ones: mid-gap above
    the highest different-event score. Returns (threshold, recall)."""
    top_different = scores[~same].max()
    above = np.sort(scores[same & (scores > top_different)])
    threshold = (top_different + above[0]) / 2 if len(above) else top_different + 1e-6
    return float(threshold), float((scores[same] >= threshold).mean())


def precision_recall(merged: np.ndarray, same: np.ndarray) -> tuple[float, float, int]:
    true = int((merged & same).sum())
    wrong = int((merged & ~same).sum())
    precision = true / (true + wrong) if true + wrong else 1.0
    return precision, true / max(int(same.sum()), 1), wrong


def pool_scores(labelled: LabelledSet, vectors: np.ndarray, marks: list[frozenset[str]], members: list[int],
                weight: float, threshold: float) -> tuple[float, float, int]:
    """All these briefs grouped in one digest; precision/recall over every pair of them."""
    briefs = [DigestBrief(i, labelled.tellings[i].headline, labelled.tellings[i].points, None, AT) for i in members]
    affinity = same_story_affinity(vectors[members], [marks[i] for i in members], weight=weight)
    groups = group_stories(briefs, affinity=affinity, threshold=threshold)
    story_of = {brief.brief_id: number for number, story in enumerate(groups) for brief in story.briefs}
    event = _events(labelled)
    merged, same = [], []
    for i, j in combinations(members, 2):
        a, b = labelled.tellings[i].event, labelled.tellings[j].event
        if frozenset({a[:12], b[:12]}) in UNCLEAR:
            continue
        merged.append(story_of[i] == story_of[j])
        same.append(event[a] == event[b])
    return precision_recall(np.array(merged), np.array(same))


def _events(labelled: LabelledSet) -> dict[str, str]:
    """Event of each source: its own, or the one it shares with an article read as the same event."""
    event = {t.event: t.event for t in labelled.tellings}
    by_prefix = defaultdict(list)
    for name in event:
        by_prefix[name[:12]].append(name)
    for pair in TOLD_TWICE:
        first, second = sorted(pair)
        for name in by_prefix[second]:
            event[name] = by_prefix[first][0] if by_prefix[first] else name
    return event


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", type=Path, default=DEFAULT_PAGES)
    parser.add_argument("--cache", type=Path, default=CACHE)
    args = parser.parse_args()
    labelled = build(args.data, args.pages, cache=args.cache)
    vectors, marks = features(labelled)
    same = np.array([p.same for p in labelled.pairs])
    kinds = sorted({p.kind for p in labelled.pairs})
    counts = labelled.counts()
    print(f"{len(labelled.tellings)} briefs, {len(labelled.pairs)} labelled pairs: "
          + ", ".join(f"{kind} {counts[kind]}" for kind in kinds))

    print("\nTuned on this data (no different-event pair merged, the most same-event pairs):")
    print("| marks weight | threshold | recall |\n| ---: | ---: | ---: |")
    tuned = []
    for weight in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8):
        threshold, recall = best_threshold(pair_scores(labelled, vectors, marks, weight), same)
        tuned.append((recall, weight, threshold))
        print(f"| {weight:.1f} | {threshold:.3f} | {recall:.3f} |")
    best_recall, best_weight, best_at = max(tuned)
    print(f"best: weight {best_weight:.1f}, threshold {best_at:.3f} (recall {best_recall:.3f})")

    rules = {f"before: cosine >= {OLD_THRESHOLD}": (0.0, OLD_THRESHOLD),
             f"cosine alone, tuned (>= {next(t for _, w, t in tuned if w == 0.0):.3f})":
                 (0.0, next(t for _, w, t in tuned if w == 0.0)),
             f"shipped: cosine + {MARKS_WEIGHT} x (marks overlap - 0.5) >= {SAME_STORY_THRESHOLD}":
                 (MARKS_WEIGHT, SAME_STORY_THRESHOLD)}
    print("\nPairs (merge decision of two briefs):")
    print("| rule | precision | recall | different events merged | " + " | ".join(kinds) + " |")
    print("| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in kinds) + " |")
    for name, (weight, threshold) in rules.items():
        merged = pair_scores(labelled, vectors, marks, weight) >= threshold
        precision, recall, wrong = precision_recall(merged, same)
        by_kind = [f"{merged[[p.kind == kind for p in labelled.pairs]].mean():.3f}" for kind in kinds]
        print(f"| {name} | {precision:.3f} | {recall:.3f} | {wrong} | " + " | ".join(by_kind) + " |")
    print("(per kind: the share of pairs merged; for same-topic and unrelated pairs that share is an error)")

    pools = {"articles": [i for i, t in enumerate(labelled.tellings) if not t.event.startswith("page-")],
             "pages": [i for i, t in enumerate(labelled.tellings) if t.event.startswith("page-")]}
    print("\nDigests (all briefs of a pool grouped at once, every pair scored):")
    print("| rule | pool | briefs | precision | recall | pairs of different events merged |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, (weight, threshold) in rules.items():
        for pool, members in pools.items():
            if members:
                precision, recall, wrong = pool_scores(labelled, vectors, marks, members, weight, threshold)
                print(f"| {name} | {pool} | {len(members)} | {precision:.3f} | {recall:.3f} | {wrong} |")


if __name__ == "__main__":
    main()
