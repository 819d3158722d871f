"""Fits the extractive backend's set scorer (summarizer/weights/scorer.npz) on the training pairs.

    python -m bench.train_scorer [--data ../shared/bench/news_train.jsonl] [--cv] [--out PATH]

For every training article, every set of 3 of its first CANDIDATES sentences is scored with ROUGE against
the reference (the mean of ROUGE-1 and ROUGE-Lsum F1). A linear model over set features is fitted so that
its softmax over an article's sets matches a sharpened softmax of those ROUGE scores (listwise learning
to rank, L2-regularised, L-BFGS from zero: deterministic). `--cv` reports 5-fold cross-validated ROUGE of
the chosen sets next to Lead-3, which is how the settings below were chosen. Never point it at the dev file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import pickle
import sys
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from summarizer.encoder import get_encoder
from summarizer.features import candidate_sets
from summarizer.prepare import prepare
from summarizer.scorer import WEIGHTS, SetScorer
from summarizer.types import ArticleText, SummarizerError

CANDIDATES = 10
SET_SIZE = 3
MAX_TOKENS = 48  # embeddings of the first 48 tokens of a sentence: faster, and as good for scoring
COMPONENTS = 16  # embedding directions kept as features
L2 = 0.01
TEMPERATURE = 0.1  # on the ROUGE F1 scale: sets within a few points of the best share the target
SEED = 20251128  # only the cross-validation folds are random
CACHE = ROOT / "bench" / "results"  # ROUGE of every candidate set, by number of candidates


def load_articles(path: Path) -> list[dict]:
    """Training pairs with their sentences; articles with nothing to summarize are skipped."""
    articles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        try:
            prepared = prepare(ArticleText(text=row["text"]))
        except SummarizerError:
            continue
        if len(prepared.sentences) > SET_SIZE:
            articles.append({"sentences": prepared.sentences, "reference": row["summary"]})
    return articles


def _set_rouge(article: dict, candidates: int) -> np.ndarray:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rougeLsum"], use_stemmer=True)
    head = article["sentences"][:candidates]
    scores = []
    for chosen in candidate_sets(len(head), SET_SIZE):
        result = scorer.score(article["reference"], "\n".join(head[i] for i in chosen))
        scores.append((result["rouge1"].fmeasure, result["rougeLsum"].fmeasure))
    return np.asarray(scores)


def _rouge(article: dict, chosen: list[int]) -> np.ndarray:
    from rouge_score import rouge_scorer

    result = rouge_scorer.RougeScorer(["rouge1", "rougeLsum"], use_stemmer=True).score(
        article["reference"], "\n".join(article["sentences"][i] for i in chosen))
    return np.asarray((result["rouge1"].fmeasure, result["rougeLsum"].fmeasure))


def set_rouge(articles: list[dict], candidates: int) -> list[np.ndarray]:
    """(sets, 2) arrays of ROUGE-1 and ROUGE-Lsum F1 per article; slow, so cached by content."""
    key = hashlib.sha1(pickle.dumps([(a["sentences"][:candidates], a["reference"]) for a in articles])).hexdigest()
    cache = CACHE / f"set_rouge_{candidates}_{SET_SIZE}.pkl"
    if cache.is_file():
        cached = pickle.loads(cache.read_bytes())
        if cached.get("key") == key:
            return cached["scores"]
    with multiprocessing.get_context("spawn").Pool() as pool:
        scores = pool.map(partial(_set_rouge, candidates=candidates), articles, chunksize=8)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps({"key": key, "scores": scores}))
    return scores


def principal_directions(embeddings: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA by SVD, each direction's sign fixed so the result does not depend on the LAPACK build."""
    mean = embeddings.mean(axis=0)
    _, _, directions = np.linalg.svd(embeddings - mean, full_matrices=False)
    directions = directions[:count]
    signs = np.sign(directions[np.arange(count), np.abs(directions).argmax(axis=1)])
    return mean, directions * signs[:, None]


def fit_listwise(features: list[np.ndarray], targets: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Standardisation and weights of a linear set scorer (softmax cross-entropy against soft targets)."""
    from scipy.optimize import minimize

    stacked = np.vstack(features)
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-9
    standardized = [(rows - mean) / scale for rows in features]
    wanted = []
    for target in targets:
        weights = np.exp((target - target.max()) / TEMPERATURE)
        wanted.append(weights / weights.sum())

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = L2 * w @ w * len(standardized), 2 * L2 * w * len(standardized)
        for rows, goal in zip(standardized, wanted):
            logits = rows @ w
            logits -= logits.max()
            probabilities = np.exp(logits)
            probabilities /= probabilities.sum()
            total -= goal @ np.log(probabilities + 1e-12)
            gradient += rows.T @ (probabilities - goal)
        return total / len(standardized), gradient / len(standardized)

    result = minimize(loss, np.zeros(stacked.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 1000})
    return mean, scale, result.x


def build(articles: list[dict], embeddings: list[np.ndarray], fold: list[int], candidates: int,
          max_tokens: int) -> tuple[SetScorer, list[np.ndarray]]:
    """A scorer with the projection fitted on `fold`, and the set features of each article of it."""
    mean, directions = principal_directions(np.vstack([embeddings[i] for i in fold]), COMPONENTS)
    provisional = SetScorer(candidates=candidates, max_tokens=max_tokens, projection_mean=mean,
                            projection=directions, mean=np.zeros(1), scale=np.ones(1), weights=np.zeros(1))
    features = []
    for i in fold:
        sets = candidate_sets(len(embeddings[i]), SET_SIZE)
        features.append(provisional.set_rows(sets, articles[i]["sentences"], embeddings[i]))
    return provisional, features


def train(articles, embeddings, scores, fold: list[int], candidates: int, max_tokens: int) -> SetScorer:
    provisional, features = build(articles, embeddings, fold, candidates, max_tokens)
    targets = [scores[i].mean(axis=1) for i in fold]
    mean, scale, weights = fit_listwise(features, targets)
    return SetScorer(candidates=candidates, max_tokens=max_tokens,
                     projection_mean=provisional.projection_mean,
                     projection=provisional.projection, mean=mean, scale=scale, weights=weights)


def cross_validate(articles, embeddings, scores, candidates: int, max_tokens: int, folds: int = 5,
                   repeats: int = 2) -> None:
    rng = np.random.default_rng(SEED)
    chosen_scores, lead_scores = [], []
    for _ in range(repeats):
        order = rng.permutation(len(articles))
        for part in np.array_split(order, folds):
            held = set(part.tolist())
            fold = [i for i in order if i not in held]
            scorer = train(articles, embeddings, scores, fold, candidates, max_tokens)
            for i in part:
                sets = candidate_sets(len(embeddings[i]), SET_SIZE)
                chosen, _ = scorer.choose(articles[i]["sentences"], embeddings[i], SET_SIZE)
                row = next((j for j, candidate in enumerate(sets) if list(candidate) == chosen), None)
                # A set of fewer sentences (the article repeats itself) has no cached score: score it here.
                chosen_scores.append(scores[i][row] if row is not None else _rouge(articles[i], chosen))
                lead_scores.append(scores[i][0])  # the first set is sentences 0, 1, 2: Lead-3
    ours, lead = 100 * np.mean(chosen_scores, axis=0), 100 * np.mean(lead_scores, axis=0)
    print(f"{folds}-fold CV x{repeats}: scorer R-1 {ours[0]:.2f} R-Lsum {ours[1]:.2f} | "
          f"Lead-3 R-1 {lead[0]:.2f} R-Lsum {lead[1]:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "news_train.jsonl")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--cv", action="store_true", help="report cross-validated ROUGE, do not write weights")
    parser.add_argument("--candidates", type=int, default=CANDIDATES, help="leading sentences that compete")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS, help="tokens of a sentence the model reads")
    args = parser.parse_args(argv)
    if "dev" in args.data.name:
        parser.error("refusing to fit on a dev file: the benchmark numbers would mean nothing")

    articles = load_articles(args.data)
    encoder = get_encoder()
    heads = [article["sentences"][:args.candidates] for article in articles]
    flat = encoder.encode([sentence for head in heads for sentence in head], max_tokens=args.max_tokens)
    offsets = np.cumsum([0, *map(len, heads)])
    embeddings = [flat[start:end] for start, end in zip(offsets, offsets[1:])]
    scores = set_rouge(articles, args.candidates)
    print(f"{len(articles)} articles, {sum(map(len, scores))} candidate sets", file=sys.stderr)

    if args.cv:
        cross_validate(articles, embeddings, scores, args.candidates, args.max_tokens)
        return
    scorer = train(articles, embeddings, scores, list(range(len(articles))), args.candidates, args.max_tokens)
    scorer.save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
