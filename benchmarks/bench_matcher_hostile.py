"""Matcher benchmark under hostile input: what a story aimed at the index costs.

    .venv/bin/python benchmarks/bench_matcher_hostile.py [--stories N] [--rounds N]

Two attacks from issue 12, each against an ordinary baseline measured in the same run, on
one core, in CPU time (best of --rounds interleaved rounds):

- flood: 20,000 exact-word subscriptions (one workspace's quota) whose words were chosen
  so that the old fixed hash (FNV-1a-64) filed them all in one window of slots, and
  stories made of other words homed in that window; baseline: 20,000 random words, stories
  of other random words. With the fixed hash an aimed story cost ~300 times an ordinary one.
- prefix heads: 20,000 prefix subscriptions `abcdXXXX*`, and stories whose words all start
  with `abcd`; baseline: the same subscriptions, stories of random words. When prefixes were
  filed under their first 4 bytes, each such word was compared with all 20,000.

No story matches anything, so the ratios are the lookups' cost alone.

A ratio near 1 means the attack buys nothing.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cpu_time import timed  # benchmarks/, the script's own folder

from bot.core.matching.matcher import Matcher
from tests.support.hostile_words import (
    old_table_slots,
    random_words,
    shared_head_prefixes,
    words_in_one_window,
)

QUOTA = 20_000
WORDS_PER_STORY = 250


def build(queries: list[str]) -> Matcher:
    matcher = Matcher()
    for i, query in enumerate(queries):
        matcher.add(i, query)
    return matcher


def stories(rng: random.Random, words: list[str], count: int) -> list[str]:
    return [" ".join(rng.choices(words, k=WORDS_PER_STORY)) for _ in range(count)]


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--stories", type=int, default=300)
    args.add_argument("--rounds", type=int, default=5)
    opts = args.parse_args()
    rng = random.Random(12)

    slots = old_table_slots(QUOTA)
    window = slots // 16
    crafted = words_in_one_window(QUOTA, slots, window, seed=1)
    # unindexed words homed in the same window: each lookup walked the whole run
    aimed = sorted(set(words_in_one_window(2_000, slots, window, seed=2)) - set(crafted))
    ordinary = random_words(QUOTA, seed=3)
    prefixes = shared_head_prefixes(QUOTA, "abcd", seed=4)

    flood = build([f"={w}" for w in crafted])
    plain = build([f"={w}" for w in ordinary])
    heads = build([f"{p}*" for p in prefixes])
    story_words = random_words(5_000, seed=5, length=10)  # as long as the abcd words
    heads_in_use = {p[4:] for p in prefixes}
    abcd_words = [
        "abcd" + w for w in random_words(2_000, seed=6, length=6) if w[:4] not in heads_in_use
    ]

    cases: dict[str, tuple[Matcher, list[str]]] = {
        "flood: aimed stories": (flood, stories(rng, aimed, opts.stories)),
        "flood baseline: random words": (plain, stories(rng, story_words, opts.stories)),
        "prefix heads: abcd... stories": (heads, stories(rng, abcd_words, opts.stories)),
        "prefix baseline: random words": (heads, stories(rng, story_words, opts.stories)),
    }

    def runner(matcher: Matcher, texts: list[str]) -> Callable[[], None]:
        def run() -> None:
            for text in texts:
                matcher.match(text, "")

        return run

    runs = {name: runner(*case) for name, case in cases.items()}
    for run in runs.values():
        run()  # warm up
    best = dict.fromkeys(runs, math.inf)
    for _ in range(opts.rounds):
        for name, run in runs.items():
            best[name] = min(best[name], timed(run))
    print(f"matcher: {'compiled core' if flood.native else 'pure Python'}")
    for name, seconds in best.items():
        print(f"{name:<32} {seconds / opts.stories * 1e6:8.1f} us/story")
    flood_ratio = best["flood: aimed stories"] / best["flood baseline: random words"]
    head_ratio = best["prefix heads: abcd... stories"] / best["prefix baseline: random words"]
    print()
    print(f"aimed / ordinary story, 20,000 crafted exact words   {flood_ratio:6.2f}x  (was ~300x)")
    print(f"aimed / ordinary story, 20,000 prefixes on one head  {head_ratio:6.2f}x  (was ~170x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
