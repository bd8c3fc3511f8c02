"""Topic subscriptions on the labelled development set: quality, and the cost of the pack.

    .venv/bin/python benchmarks/bench_topics.py [--python]

Prints, for topic:Russia, topic:Ukraine and topic:NATO, the weighted precision, recall
and F1 on tests/data/topics_dev (each labelled item counts its sampling weight; see its
README) beside the plain keyword (`Russia`, with its English forms) in the same run; the
same for the United States and China on tests/data/topics_extra, and for the European
Union and the United Nations on tests/data/topics_orgs (baselines `EU OR "European
Union"` and `"United Nations" OR "U.N."`: bare `UN` is the article "un" in French, Spanish
and Italian); and what loading the whole pack costs: the time to load it (the start-up
cost of the first `topic:` query) and to index one subscription to each of its topics,
against parsing 1,000 plain queries in the same process as the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.matching.matcher import Matcher
from bot.core.query import parse_query
from bot.core.topics import pack as topic_pack
from tests.support.topics_dev import (
    EXTRA,
    EXTRA_TOPICS,
    ORG_TOPICS,
    ORGS,
    TOPICS,
    items,
    predictions,
    score,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", action="store_true", help="the pure-Python backend")
    args = parser.parse_args()
    native = False if args.python else None
    print(f"{'topic':<10}{'query':<30}{'P':>7}{'R':>7}{'F1':>7}  positives")
    for title, where, topics in (
        ("development set (tests/data/topics_dev, weighted)", None, TOPICS),
        ("more topics (tests/data/topics_extra)", EXTRA, EXTRA_TOPICS),
        ("organisations (tests/data/topics_orgs)", ORGS, ORG_TOPICS),
    ):
        dev = items(where, topics) if where is not None else items()
        queries = [q for topic, keyword, _ in topics for q in (topic, keyword)]
        predicted = predictions(queries, dev, native=native)
        print(f"{title}: {len(dev)} labelled items")
        for topic, keyword, label in topics:
            for query in (topic, keyword):
                s = score(predicted[query], dev, label)
                name = label.removeprefix("about_")
                print(
                    f"{name:<10}{query:<30}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}"
                    f"  {s.positives}"
                )
    _load_cost(native)


def _load_cost(native: bool | None) -> None:
    nowhere = Path("/nonexistent")
    start = time.perf_counter()
    for _ in range(100):
        parse_query(f"word{_} OR other{_}")
    baseline = (time.perf_counter() - start) * 10  # per 1,000 plain queries
    start = time.perf_counter()
    loaded = topic_pack.load(as_of=date.today(), overrides=nowhere)
    load_s = time.perf_counter() - start
    topic_pack.install(loaded)
    try:
        start = time.perf_counter()
        matcher = Matcher(native=native)
        for n, topic in enumerate(loaded.topics.values()):
            matcher.add(n, f'topic:"{topic.display}"')
        index_s = time.perf_counter() - start
    finally:
        topic_pack.install(None)
    print(
        f"pack: {len(loaded.topics)} topics loaded in {load_s:.3f} s; one subscription to each "
        f"indexed in {index_s:.3f} s; total {load_s + index_s:.3f} s "
        f"(= {(load_s + index_s) / baseline:.1f}x parsing 1,000 plain queries, {baseline:.3f} s)"
    )


if __name__ == "__main__":
    main()
