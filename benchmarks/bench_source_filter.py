"""`source:` terms cost nothing per subscription: the index with them against without.

    .venv/bin/python benchmarks/bench_source_filter.py [--subscriptions N] [--stories N]
                                                        [--rounds N] [--seed S]

Two SubscriptionIndex builds over the same synthetic subscriptions (Zipf-distributed
words, as in bench_matcher.py): the baseline has no `source:` terms; in the other, every
tenth subscription also says `source:wireK` or `-source:tabloid.example`. Measured in this
process, in CPU time, interleaved rounds, best of each kept: building each index from the
subscriptions, and `alerts_for` over the same stories (from ten feeds, wire0..wire9).
The ratios (with / without) are what to read: the source terms are cut out as the index
is built and checked only on the matches the words found, so both stay near 1.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime

from cpu_time import timed  # benchmarks/, the script's own folder

from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel, Story, Subscription

LETTERS = "abcdefghijklmnopqrstuvwxyz"
NOW = datetime(2026, 12, 6, tzinfo=UTC)


def vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(LETTERS, k=rng.randint(4, 10))))
    return sorted(words)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--stories", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    vocab = vocabulary(rng, 200_000)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    stories = [
        Story(
            n % 10,
            f"s{n}",
            " ".join(rng.choices(vocab, weights=weights, k=12)),
            f"https://wire{n % 10}.example/s{n}",
            " ".join(rng.choices(vocab, weights=weights, k=120)),
            NOW,
            f"Wire{n % 10} News",
        )
        for n in range(args.stories)
    ]
    topics = vocab[2_000:]
    plain = [
        rng.choice(topics) if rng.random() < 0.6 else f"{rng.choice(topics)} {rng.choice(topics)}"
        for _ in range(args.subscriptions)
    ]
    sourced = [
        q if i % 10 else (f"{q} source:wire{i % 7}" if i % 20 else f"{q} -source:tabloid.example")
        for i, q in enumerate(plain)
    ]

    def subs(queries: list[str]) -> list[Subscription]:
        # A thousand channels, so an alert count says how many channels a story reached.
        return [
            Subscription(i, Channel("console", "local", f"c{i % 1000}"), q, "bench", NOW)
            for i, q in enumerate(queries)
        ]

    plain_subs, sourced_subs = subs(plain), subs(sourced)
    built: dict[str, list[float]] = {"without": [], "with": []}
    matched: dict[str, list[float]] = {"without": [], "with": []}
    alerts: dict[str, int] = {}
    for _ in range(args.rounds):
        for name, these in (("without", plain_subs), ("with", sourced_subs)):
            holder: list[SubscriptionIndex] = []

            def build(
                these: list[Subscription] = these, holder: list[SubscriptionIndex] = holder
            ) -> None:
                holder.append(SubscriptionIndex(these))

            built[name].append(timed(build))
            index = holder[0]
            count: list[int] = [0]

            def run(index: SubscriptionIndex = index, count: list[int] = count) -> None:
                for story in stories:
                    count[0] += len(
                        index.alerts_for(story, f"https://wire{story.feed_id}.example/rss")
                    )

            matched[name].append(timed(run))
            alerts[name] = count[0]
    b0, b1 = min(built["without"]), min(built["with"])
    m0, m1 = min(matched["without"]), min(matched["with"])
    print(f"{args.subscriptions} subscriptions, {args.stories} stories, best of {args.rounds}")
    print(f"build:   without {b0:.3f} s, with source terms {b1:.3f} s, ratio {b1 / b0:.2f}")
    print(
        f"match:   without {args.stories / m0:,.0f} stories/s, with {args.stories / m1:,.0f}"
        f" stories/s, ratio {m1 / m0:.2f} (time with / without)"
    )
    print(f"alerts:  without {alerts['without']}, with {alerts['with']} (fewer: sources filter)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
