"""Keyword matching: the index against the naive approach (one regex search per subscription and text).

    .venv/bin/python -m bench.matching [--subscriptions 10000] [--texts 100]

Prints the time of each and the ratio. The workload is tests/matching_reference.make_workload; the
test suite checks that both approaches give the same matches on it.
"""

from __future__ import annotations

import argparse
import sys
import time

from bot.domain.matching import SubscriptionIndex, normalize_text
from tests.support.matching_reference import RegexQuery, make_workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=100)
    args = parser.parse_args()
    subscriptions, texts = make_workload(args.subscriptions, args.texts)

    started = time.perf_counter()
    index = SubscriptionIndex(subscriptions)
    built = time.perf_counter()
    fast = [index.match(text) for text in texts]
    matched = time.perf_counter()

    regexes = [(sub_id, RegexQuery(query)) for sub_id, query in subscriptions]
    compiled = time.perf_counter()
    naive = []
    for text in texts:
        normal = normalize_text(text)  # once per text, to be fair to the naive approach
        naive.append({sub_id for sub_id, regex in regexes if regex.matches(normal)})
    done = time.perf_counter()

    if fast != naive:
        sys.exit("the index and the naive approach disagree")
    total = sum(len(ids) for ids in fast)
    print(f"{len(subscriptions)} subscriptions x {len(texts)} texts, {total} matches")
    print(f"index:  build {built - started:.3f} s, match {matched - built:.3f} s")
    print(f"naive:  compile {compiled - matched:.3f} s, match {done - compiled:.3f} s")
    print(f"matching is {(done - compiled) / (matched - built):.0f}x faster with the index "
          f"({(done - matched) / (matched - started):.0f}x counting build/compile)")


if __name__ == "__main__":
    main()
