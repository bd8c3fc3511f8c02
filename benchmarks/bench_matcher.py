"""Matcher benchmark: stories per second against 100, 10,000 and 100,000 subscriptions.

    .venv/bin/python benchmarks/bench_matcher.py [--stories N] [--naive-stories N] [--seed S]
                                                 [--rounds N] [--python] [--cli-rounds N]

Everything is measured in this one process, on one core, in CPU time (time.process_time),
the floor and each subscription count in interleaved rounds (--rounds, best of each kept),
so the numbers hold on a machine others share, and the ratios even across machines:

- indexed: `Matcher.match(title, summary)` over every story, for each subscription count
- floor:   only `tokenize(title)` and `tokenize(summary)` over the same stories
- naive:   for each story, every subscription's compiled regexes (one per term, on the
           lower-cased text, combined by the query's AND/OR/NOT); run on a subset of the
           stories (--naive-stories) and reported per story, because it is that slow
- build:   the index from the query texts (`Matcher.add_many`, parsing included), as a
           start-up builds it, best of --rounds, against the same queries parsed and added
           one at a time (`parse_query`, then `Matcher.add`: the full compiler), once
- command: the installed `newsbot match --subscriptions FILE FEED` as a child process,
           whole (start-up, reading, building, parsing the feed, matching, printing), over
           a feed file of the first 2,000 stories, with 100 and with 100,000 subscriptions;
           wall time, interleaved rounds (--cli-rounds), best of each kept

The workload is synthetic and deterministic (seeded). Story words follow Zipf's law over a
1,000,000-word vocabulary (news text has millions of distinct
tokens: names, places, numbers), shorter words being commoner; about 10% of stories carry non-ASCII
text (typographic apostrophes, accents), which takes the tokenizer's slower path. A story
is a 12-word title and a summary of about 2 KB. Subscriptions pick topic words: ranks
2,000-1,000,000, uniformly (people subscribe to names and subjects, not to "the"), mixed as
40% one word, 15% two words, 10% two-word phrases taken from the stories, 10% OR,
8% prefix*, 7% word -word, 5% title:word, 5% (a OR b) c -d.

--topics: the topic mix (issue 14). 10% of the subscriptions are `topic:` queries over 60
topics of the pack (half `topic:X`, a quarter `topic:X word`, 15% `topic:X -word`, 10%
`title:topic:X`), the rest as above; a fifth of the stories name one or two of those topics
(a real name of theirs, in any of its languages and forms, in the title or the summary), so
topic subscriptions match, are judged and report what fired. The index memory aim is then
< 250 MB.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from cpu_time import timed  # benchmarks/, the script's own folder

from bot.core.matching.matcher import Matcher
from bot.core.query import And, Node, Not, Or, Term, parse_query, tokenize
from bot.core.query.inflect import word_forms
from bot.core.topics.triggers import topic_triggers

VOCABULARY = 1_000_000
TOPIC_RANKS = (2_000, VOCABULARY)
COUNTS = (100, 10_000, 100_000)
NAIVE_AT = 10_000
CLI_STORIES = 2_000
LETTERS = "abcdefghijklmnopqrstuvwxyz"
ACCENTED = "éèàöüçñ"


@dataclass
class Story:
    title: str
    summary: str


def make_vocabulary(rng: random.Random) -> list[str]:
    """Distinct pseudo-words, rank 1 first; length grows with rank (Zipf's abbreviation)."""
    words: list[str] = []
    seen: set[str] = set()
    rank = 1
    while len(words) < VOCABULARY:
        length = 2 + int(math.log(rank + 1, 3.2))
        word = "".join(rng.choices(LETTERS, k=length))
        if word not in seen:
            seen.add(word)
            words.append(word)
            rank += 1
    return words


def topic_names(rng: random.Random) -> tuple[list[str], list[list[str]]]:
    """TOPIC_COUNT topics of the pack (Russia, Ukraine, NATO among them): each one's query
    name, and the story words that name it (every form of every name, shuffled)."""
    from bot.core.topics.pack import current

    pack = current()
    keys = ["RU", "UA", "NATO", *rng.sample(sorted(set(pack.topics) - {"RU", "UA", "NATO"}), 57)]
    queries: list[str] = []
    names: list[list[str]] = []
    for key in keys:
        topic = pack.topics[key]
        queries.append(f'"{topic.display}"' if " " in topic.display else topic.display)
        forms = sorted(topic.words) + [
            " ".join((h, *r)) for h, rs in topic.phrases.items() for r, _ in rs
        ]
        names.append(forms)
    return queries, names


def make_stories(
    rng: random.Random, vocab: list[str], count: int, names: list[list[str]] | None = None
) -> list[Story]:
    cum = list(_cumulative(len(vocab)))
    stories: list[Story] = []
    for n in range(count):
        title_words = rng.choices(vocab, cum_weights=cum, k=12)
        title = " ".join(w.capitalize() if i % 3 == 0 else w for i, w in enumerate(title_words))
        parts: list[str] = []
        size = 0
        fancy = n % 10 == 0
        while size < 2000:
            chunk = rng.choices(vocab, cum_weights=cum, k=15)
            if fancy:
                chunk[3] = chunk[3] + "’s"
                chunk[7] = chunk[7][:-1] + rng.choice(ACCENTED)
            elif rng.random() < 0.3:
                chunk[5] = chunk[5] + "'s"
            if names and rng.random() < 0.02:  # about a fifth of stories name a topic
                chunk[rng.randrange(len(chunk))] = rng.choice(rng.choice(names)).capitalize()
            sentence = " ".join(chunk).capitalize() + rng.choice([". ", ", ", "; ", " - "])
            parts.append(sentence)
            size += len(sentence)
        if names and rng.random() < 0.05:
            title = rng.choice(rng.choice(names)).capitalize() + " " + title
        stories.append(Story(title, "".join(parts)))
    return stories


def _cumulative(n: int) -> list[float]:
    total = 0.0
    out: list[float] = []
    for rank in range(1, n + 1):
        total += 1.0 / rank
        out.append(total)
    return out


def make_subscriptions(
    rng: random.Random,
    vocab: list[str],
    stories: list[Story],
    count: int,
    topics: list[str] | None = None,
) -> list[str]:
    low, high = TOPIC_RANKS

    def topic() -> str:
        word = vocab[rng.randrange(low, high)]
        return word.upper() if rng.random() < 0.2 else word.capitalize()

    def phrase() -> str:
        # Two adjacent words of a real story, one of them a topic word, so some match.
        while True:
            words = tokenize(rng.choice(stories).summary)
            i = rng.randrange(len(words) - 1)
            pair = words[i : i + 2]
            if all("'" not in w for w in pair) and any(len(w) >= 9 for w in pair):
                return '"' + " ".join(pair) + '"'

    makers: list[tuple[float, Callable[[], str]]] = [
        (0.40, topic),
        (0.15, lambda: f"{topic()} {topic()}"),
        (0.10, phrase),
        (0.10, lambda: " OR ".join(topic() for _ in range(rng.choice((2, 3))))),
        (0.08, lambda: _prefix(topic())),
        (0.07, lambda: f"{topic()} -{topic()}"),
        (0.05, lambda: f"title:{topic()}"),
        (0.05, lambda: f"({topic()} OR {topic()}) {topic()} -{topic()}"),
    ]
    if topics:  # the topic mix: 10% topic: queries, the rest scaled down to 90%
        makers = [(w * 0.9, m) for w, m in makers]
        makers += [
            (0.05, lambda: f"topic:{rng.choice(topics)}"),
            (0.025, lambda: f"topic:{rng.choice(topics)} {topic()}"),
            (0.015, lambda: f"topic:{rng.choice(topics)} -{topic()}"),
            (0.01, lambda: f"title:topic:{rng.choice(topics)}"),
        ]
    weights = [w for w, _ in makers]
    return [rng.choices(makers, weights=weights)[0][1]() for _ in range(count)]


def _prefix(word: str) -> str:
    return word[: max(4, len(word) - 2)] + "*"


# -- the naive baseline -----------------------------------------------------------------


NaivePredicate = Callable[[str, str], bool]


def naive_compile(node: Node) -> NaivePredicate:
    """A query as regexes, one per term, evaluated on the lower-cased texts."""
    if isinstance(node, Term):
        pieces = []
        for word in node.words:
            if word.mode == "prefix":
                pieces.append(re.escape(word.norm) + r"\w*")
            elif word.mode == "exact":
                pieces.append(re.escape(word.norm))
            elif word.mode == "topic":  # any of its trigger words (a loop would judge more)
                forms = sorted(topic_triggers(word.norm), key=len, reverse=True)
                pieces.append("(?:" + "|".join(re.escape(f) for f in forms) + ")")
            else:
                forms = sorted(word_forms(word.norm), key=len, reverse=True)
                pieces.append("(?:" + "|".join(re.escape(f) for f in forms) + ")")
        pattern = re.compile(r"(?<!\w)" + r"\W+".join(pieces) + r"(?!\w)")
        if node.field == "title":
            return lambda title, summary: pattern.search(title) is not None
        return lambda title, summary: bool(pattern.search(title) or pattern.search(summary))
    if isinstance(node, Not):
        inner = naive_compile(node.child)
        return lambda title, summary: not inner(title, summary)
    children = [naive_compile(c) for c in node.children]
    if isinstance(node, And):
        return lambda title, summary: all(c(title, summary) for c in children)
    assert isinstance(node, Or)
    return lambda title, summary: any(c(title, summary) for c in children)


# -- measurement ------------------------------------------------------------------------


def build(texts: list[str], native: bool | None) -> Matcher:
    """From scratch, from the query texts. native None: the compiled core if built; False
    (--python): pure Python."""
    matcher = Matcher(native=native)
    matcher.add_many(enumerate(texts))
    return matcher


def build_one_at_a_time(texts: list[str], native: bool | None) -> Matcher:
    """The baseline: each query parsed, then added and compiled on its own."""
    matcher = Matcher(native=native)
    for i, text in enumerate(texts):
        matcher.add(i, parse_query(text))
    return matcher


# -- the whole command ------------------------------------------------------------------


def write_feed(path: Path, stories: list[Story]) -> None:
    items = "".join(
        f"<item><title>{escape(s.title)}</title><link>https://example.com/{i}</link>"
        f"<guid>story-{i}</guid><pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>"
        f"<description>{escape(s.summary)}</description></item>"
        for i, s in enumerate(stories)
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench'
        f"</title><link>https://example.com/</link>{items}</channel></rss>",
        encoding="utf-8",
    )


def run_command(subscriptions: Path, feed: Path) -> tuple[float, int]:
    """Wall seconds of one whole `newsbot match` process, and the lines it printed."""
    newsbot = Path(sys.executable).with_name("newsbot")
    start = time.perf_counter()
    done = subprocess.run(
        [str(newsbot), "match", "--subscriptions", str(subscriptions), str(feed)],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start, done.stdout.count(b"\n")


def command_times(
    all_subs: list[str], stories: list[Story], rounds: int
) -> tuple[dict[int, float], dict[int, int]]:
    """Best wall time and output lines of `newsbot match` at the smallest and largest count."""
    counts = (min(COUNTS), max(COUNTS))
    best = dict.fromkeys(counts, math.inf)
    lines: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "feed.xml"
        write_feed(feed, stories)
        files = {n: Path(tmp) / f"subscriptions-{n}.txt" for n in counts}
        for n, path in files.items():
            path.write_text("\n".join(all_subs[:n]) + "\n", encoding="utf-8")
        for _ in range(rounds):  # interleaved, as the in-process timings are
            for n in counts:
                seconds, lines[n] = run_command(files[n], feed)
                best[n] = min(best[n], seconds)
    return best, lines


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--stories", type=int, default=10_000)
    args.add_argument("--naive-stories", type=int, default=50)
    args.add_argument("--seed", type=int, default=4)
    args.add_argument("--rounds", type=int, default=3)
    args.add_argument(
        "--python", action="store_true", help="the pure-Python backend, not the compiled core"
    )
    args.add_argument("--cli-rounds", type=int, default=3, help="0: skip the command")
    args.add_argument("--topics", action="store_true", help="the topic mix (see above)")
    opts = args.parse_args()
    native = False if opts.python else None

    rng = random.Random(opts.seed)
    t0 = time.perf_counter()
    vocab = make_vocabulary(rng)
    topics, names = topic_names(rng) if opts.topics else (None, None)
    stories = make_stories(rng, vocab, opts.stories, names)
    all_subs = make_subscriptions(rng, vocab, stories, max(COUNTS), topics)
    if topics:
        share = sum(1 for s in all_subs if "topic:" in s) / len(all_subs)
        print(f"topic mix: {share:.1%} topic: queries over {len(topics)} topics")
    mean_size = sum(len(s.title) + len(s.summary) for s in stories) / len(stories)
    backend = "compiled core" if Matcher(native=native).native else "pure Python"
    print(f"matcher: {backend}")
    print(
        f"workload: {len(stories):,} stories of {mean_size:,.0f} characters on average, "
        f"{len(all_subs):,} subscriptions (made in {time.perf_counter() - t0:.1f} s)"
    )

    def tokenize_all() -> None:
        for s in stories:
            tokenize(s.title)
            tokenize(s.summary)

    # Each count built --rounds times, the best time kept, as for matching below: one build
    # is a few seconds, which a shared machine's drift moves by a fifth either way.
    matchers: dict[int, Matcher] = {}
    build_times: dict[int, float] = {}
    build_runs: list[float] = []
    for count in COUNTS:
        for _ in range(opts.rounds):
            matchers.pop(count, None)
            gc.collect()
            start = time.process_time()
            matchers[count] = build(all_subs[:count], native)
            elapsed = time.process_time() - start
            build_times[count] = min(build_times.get(count, math.inf), elapsed)
            if count == max(COUNTS):
                build_runs.append(elapsed)
    # The baseline, at the largest count: parse each query, add it on its own.
    start = time.process_time()
    one_at_a_time = build_one_at_a_time(all_subs, native)
    baseline_build = time.process_time() - start
    assert one_at_a_time.distinct_queries == matchers[max(COUNTS)].distinct_queries
    del one_at_a_time

    matches: dict[int, int] = {}

    def runner(count: int) -> Callable[[], None]:
        def run() -> None:
            m = matchers[count]
            matches[count] = sum(len(m.match(s.title, s.summary)) for s in stories)

        return run

    # The floor and each count, timed in turn, ROUNDS times; the best time of each is kept.
    # A shared machine's speed drifts by tens of percent over a minute, so timing the floor
    # once and each count later would put that drift into the ratios; interleaved rounds
    # put it into each measure alike, and the best of a few is the least disturbed.
    runs: dict[str | int, Callable[[], None]] = {"floor": tokenize_all}
    runs.update({count: runner(count) for count in COUNTS})
    for run in runs.values():
        run()  # warm up: caches filled, as a running bot's are
    best = dict.fromkeys(runs, math.inf)
    for _ in range(opts.rounds):
        for name, run in runs.items():
            best[name] = min(best[name], timed(run))
    floor_rate = len(stories) / best["floor"]
    rates = {count: len(stories) / best[count] for count in COUNTS}
    print(f"tokenize floor: {floor_rate:,.0f} stories/s (best of {opts.rounds} rounds)")
    for count in COUNTS:
        print(
            f"{count:>7,} subscriptions ({matchers[count].distinct_queries:,} distinct): "
            f"{rates[count]:>8,.0f} stories/s, {matches[count] / len(stories):6.2f} matches/story, "
            f"index built in {build_times[count]:.2f} s"
        )
    top = max(COUNTS)
    print(
        f"building {top:,} one query at a time (parse_query, then add): {baseline_build:.2f} s; "
        f"from the texts at once (add_many, parsing included): {build_times[top]:.2f} s "
        f"(best of {', '.join(f'{t:.2f}' for t in build_runs)})"
    )

    # Index memory at 100,000: what a build allocates and keeps (tracemalloc, so slower).
    del matchers[max(COUNTS)]
    gc.collect()
    tracemalloc.start()
    kept = build(all_subs, native)
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    # Incremental updates on the full index.
    extra = [parse_query(q) for q in make_subscriptions(rng, vocab, stories, 1000, topics)]
    start = time.process_time()
    for i, q in enumerate(extra):
        kept.add(10_000_000 + i, q)
    for i in range(len(extra)):
        kept.remove(10_000_000 + i)
    update_us = (time.process_time() - start) / (2 * len(extra)) * 1e6
    del kept

    # The naive loop at 10,000 subscriptions, on a subset of the stories.
    naive = [naive_compile(parse_query(q).node) for q in all_subs[:NAIVE_AT]]
    subset = stories[: opts.naive_stories]
    naive_matches = 0

    def run_naive() -> None:
        nonlocal naive_matches
        for s in subset:
            title, summary = s.title.lower(), s.summary.lower()
            naive_matches += sum(1 for p in naive if p(title, summary))

    naive_rate = len(subset) / timed(run_naive)
    indexed_on_subset = sum(len(matchers[NAIVE_AT].match(s.title, s.summary)) for s in subset)
    print(
        f"naive regex loop at {NAIVE_AT:,}: {naive_rate:,.1f} stories/s "
        f"(on {len(subset)} stories; {naive_matches} matches vs {indexed_on_subset} indexed)"
    )

    base = min(COUNTS)
    # The whole command, last: the matchers above are freed, so the machine is as idle as
    # this process can make it.
    matchers.clear()
    gc.collect()
    command, command_lines = command_times(all_subs, stories[:CLI_STORIES], opts.cli_rounds)
    for count in (base, top) if opts.cli_rounds else ():
        print(
            f"newsbot match, {CLI_STORIES:,} stories, {count:>7,} subscriptions: "
            f"{command[count]:.2f} s wall, whole process ({command_lines[count]:,} lines; "
            f"best of {opts.cli_rounds})"
        )
    command_ratio = command[top] / command[base] if opts.cli_rounds else math.nan
    memory_aim = 250e6 if opts.topics else 200e6
    print()
    aims = [
        (f"stories/s at {top:,}", f"{rates[top]:,.0f}", ">= 5,000", rates[top] >= 5000),
        (
            f"throughput {top:,} / {base}",
            f"{rates[top] / rates[base]:.2f}",
            ">= 0.7",
            rates[top] / rates[base] >= 0.7,
        ),
        (
            f"indexed / naive at {NAIVE_AT:,}",
            f"{rates[NAIVE_AT] / naive_rate:,.0f}x",
            ">= 100x",
            rates[NAIVE_AT] / naive_rate >= 100,
        ),
        (
            f"time vs tokenize floor at {top:,}",
            f"{floor_rate / rates[top]:.2f}x",
            "<= 3x",
            floor_rate / rates[top] <= 3,
        ),
        (
            f"index memory at {top:,}",
            f"{index_bytes / 1e6:,.0f} MB",
            f"< {memory_aim / 1e6:.0f} MB",
            index_bytes < memory_aim,
        ),
        (
            f"index build at {top:,} from text",
            f"{build_times[top]:.2f} s",
            "< 2 s",
            build_times[top] < 2,
        ),
        (
            "  one at a time / at once",
            f"{baseline_build / build_times[top]:.1f}x",
            "(baseline, same run)",
            True,
        ),
        (
            f"newsbot match {top:,} / {base}",
            f"{command_ratio:.2f}x",
            "<= 2x (whole process)",
            command_ratio <= 2,
        ),
        ("incremental add/remove", f"{update_us:,.0f} us each", "(no rebuild)", True),
    ]
    if not opts.cli_rounds:  # --cli-rounds 0: the command was not run
        aims = [a for a in aims if not a[0].startswith("newsbot match")]
    for name, value, aim, met in aims:
        print(f"{name:<34} {value:>16}   aim {aim:<22} {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
