"""Differential fuzzing of the matcher: compiled core vs pure Python vs the reference.

    .venv/bin/python -m tests.fuzz_matcher [--seconds S] [--seed N]

Random and hostile subscriptions are added and removed in both matchers, and random and
hostile stories matched by both; every answer must equal the other backend's and the plain
reference evaluator's (tests/support/reference_matcher.py). Hostile means: words whose old
FNV-1a-64 hashes collide or share a window of slots, prefixes sharing their first bytes,
possessives, non-ASCII and very long words, deep nesting. `make test` runs this under
AddressSanitizer and UBSan (see .ci/sanitize-core), where a memory error or undefined
behaviour in the core aborts the run. Prints its seed; exits 1 on the first mismatch with
what reproduces it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from bot.core.matching.matcher import NATIVE_AVAILABLE, Matcher
from bot.core.models import Match
from bot.core.query import MAX_QUERY_LENGTH, Query, QueryError, parse_query
from tests.support.hostile_words import FNV_COLLISION, words_in_one_window
from tests.support.reference_matcher import reference_matches

PLAIN = ["nato", "russia", "talks", "gas", "eu", "Москва", "café", "policy", "o'neill"]
FORMS = ["nato's", "russians", "talk", "gases", "москвы", "cafe", "policies", "O'Neill's"]
SEPARATORS = [" ", " ", ", ", "-", ". ", "’", "'", " (", ") ", " — ", "\u200b"]
# `topic:` terms (bot.core.topics) and some of their names, in and out of their right case
TOPICS = ["topic:Russia", "topic:NATO", "topic:Ukraine", "topic:US", 'topic:"United Kingdom"']
TOPIC_NAMES = ["Kremlin", "Лаврова", "России", "НАТО", "Kyiv", "US", "us", "UK", "Britain"]


def vocabulary(rng: random.Random) -> list[str]:
    hostile = [
        *FNV_COLLISION,
        *words_in_one_window(40, 1024, 16, seed=rng.randrange(1 << 30)),
        *(f"abcd{c}{d}" for c in "xyz" for d in "pq"),
        "abcd",
        "a" * 300,
        "ß" * 40,
        "x's",
        "'s",
    ]
    return PLAIN + FORMS + TOPIC_NAMES + hostile


def random_query(rng: random.Random, words: list[str], depth: int = 0) -> str:
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        word = rng.choice(words)
        kind = rng.random()
        if kind < 0.15:
            word = "=" + word
        elif kind < 0.3 and len(word) >= 3:
            word = word[: rng.randint(3, len(word))] + "*"
        elif kind < 0.4:
            word = '"' + " ".join(rng.choice(words) for _ in range(rng.randint(2, 3))) + '"'
        elif kind < 0.45:
            word = rng.choice(TOPICS)
        return ("title:" if rng.random() < 0.1 else "") + word
    parts = [random_query(rng, words, depth + 1) for _ in range(rng.randint(2, 3))]
    if roll < 0.7:
        return " ".join(parts)
    if roll < 0.9:
        return "(" + " OR ".join(parts) + ")"
    return f"{parts[0]} -({parts[1]})"


def parsed_query(rng: random.Random, words: list[str]) -> Query | None:
    text = random_query(rng, words)
    for candidate in (text, f"{rng.choice(words)} ({text})"):
        if len(candidate) > MAX_QUERY_LENGTH:
            continue
        try:
            return parse_query(candidate)
        except QueryError:
            continue
    return None


def random_text(rng: random.Random, words: list[str]) -> str:
    return "".join(rng.choice(words) + rng.choice(SEPARATORS) for _ in range(rng.randint(0, 30)))


def as_data(matches: list[Match]) -> list[tuple[int, str, tuple[str, ...], tuple[object, ...]]]:
    return [(m.subscription_id, m.query, m.matched, tuple(m.spans)) for m in matches]


def run(seed: int, seconds: float) -> int:
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    rounds = stories = 0
    while time.monotonic() < deadline:
        rounds += 1
        words = vocabulary(rng)
        native, python = Matcher(native=True), Matcher(native=False)
        live: dict[int, Query] = {}
        for step in range(rng.randint(5, 60)):
            sub_id = rng.randrange(40)
            if rng.random() < 0.7:
                query = parsed_query(rng, words)
                if query is None:
                    continue
                native.add(sub_id, query)
                python.add(sub_id, query)
                live[sub_id] = query
            else:
                native.remove(sub_id)
                python.remove(sub_id)
                live.pop(sub_id, None)
            if step % 3:
                continue
            for _ in range(3):
                title, summary = random_text(rng, words), random_text(rng, words)
                stories += 1
                got = as_data(native.match(title, summary))
                if got != as_data(python.match(title, summary)):
                    return report(seed, "compiled and pure Python differ", live, title, summary)
                expected = sorted(
                    i for i, q in live.items() if reference_matches(q, title, summary)
                )
                if [m[0] for m in got] != expected:
                    return report(
                        seed, "the matcher and the reference differ", live, title, summary
                    )
    print(f"fuzz_matcher: seed {seed}: {rounds} rounds, {stories} stories, all agreed")
    return 0


def report(seed: int, what: str, live: dict[int, Query], title: str, summary: str) -> int:
    print(f"fuzz_matcher: seed {seed}: {what}", file=sys.stderr)
    for sub_id, query in sorted(live.items()):
        print(f"  subscription {sub_id}: {query.text!r}", file=sys.stderr)
    print(f"  title {title!r}\n  summary {summary!r}", file=sys.stderr)
    return 1


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--seconds", type=float, default=30.0)
    args.add_argument("--seed", type=int, default=None)
    opts = args.parse_args()
    if not NATIVE_AVAILABLE:
        print("fuzz_matcher: the compiled core is not built: nothing to compare", file=sys.stderr)
        return 1
    seed = opts.seed if opts.seed is not None else random.SystemRandom().randrange(1 << 32)
    from bot.core.matching import _matchcore

    print(
        f"fuzz_matcher: seed {seed} ({opts.seconds:.0f} s), core {_matchcore.__file__}", flush=True
    )
    return run(seed, opts.seconds)


if __name__ == "__main__":
    sys.exit(main())
