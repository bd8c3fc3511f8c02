"""Score topic subscriptions on the labelled development set (tests/data/topics_dev).

Shared by benchmarks/bench_topics.py (the table) and tests/test_topic_quality.py (floors).
Each item goes through the real Matcher (parsing, either backend, the topic judge), with
the pack as of its feed's snapshot date, so officials are those then in office.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.core.matching.matcher import Matcher
from bot.core.topics import pack as topic_pack

DATA = Path(__file__).resolve().parent.parent / "data"
DEV = DATA / "topics_dev"
EXTRA = DATA / "topics_extra"  # more topics, labelled for this project (its README)
ORGS = DATA / "topics_orgs"  # the EU and the UN, labelled for this project (its README)
# (topic query, plain-keyword baseline, label)
TOPICS = (
    ("topic:Russia", "Russia", "about_russia"),
    ("topic:Ukraine", "Ukraine", "about_ukraine"),
    ("topic:NATO", "NATO", "about_nato"),
)
EXTRA_TOPICS = (
    ('topic:"United States"', '"United States"', "about_us"),
    ("topic:China", "China", "about_china"),
)
# Baselines: what a user without topics would type. `EU` counts (the matcher folds case, so
# it also fires on Portuguese "eu": a plain keyword's real cost); bare `UN` would fire on
# every French, Spanish and Italian "un", so the UN's is its name and the dotted form.
ORG_TOPICS = (
    ('topic:"European Union"', 'EU OR "European Union"', "about_eu"),
    ('topic:"United Nations"', '"United Nations" OR "U.N."', "about_un"),
)


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    title: str
    summary: str
    labels: dict[str, bool]
    weight: float
    day: date


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float
    f1: float
    positives: int  # labelled items that are about the topic


def items(directory: Path = DEV, topics: tuple[tuple[str, str, str], ...] = TOPICS) -> list[Item]:
    out: list[Item] = []
    with (directory / "items.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            found = re.search(r"\d{4}-\d{2}-\d{2}", row["file"])
            assert found is not None, row["file"]
            out.append(
                Item(
                    file=row["file"],
                    title=row["title"],
                    summary=row["summary"],
                    labels={k: bool(row[k]) for _, _, k in topics},
                    weight=float(row["sample_weight"]),
                    day=date.fromisoformat(found.group(0)),
                )
            )
    return out


@contextmanager
def pack_as_of(day: date) -> Iterator[topic_pack.Pack]:
    """The process's topic pack as of `day` while the block runs (no operator file)."""
    loaded = topic_pack.load(as_of=day, overrides=Path("/nonexistent"))
    topic_pack.install(loaded)
    try:
        yield loaded
    finally:
        topic_pack.install(None)


def predictions(
    queries: list[str], dev: list[Item], *, native: bool | None = None
) -> dict[str, list[bool]]:
    """For each query, whether it matches each item (in `dev` order)."""
    out = {q: [False] * len(dev) for q in queries}
    for day in sorted({i.day for i in dev}):
        with pack_as_of(day):
            matcher = Matcher(native=native)
            for n, query in enumerate(queries):
                matcher.add(n, query)
            for at, item in enumerate(dev):
                if item.day != day:
                    continue
                for match in matcher.match(item.title, item.summary):
                    out[queries[match.subscription_id]][at] = True
    return out


def score(predicted: list[bool], dev: list[Item], label: str) -> Score:
    tp = fp = fn = 0.0
    for hit, item in zip(predicted, dev, strict=True):
        truth = item.labels[label]
        if hit and truth:
            tp += item.weight
        elif hit:
            fp += item.weight
        elif truth:
            fn += item.weight
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1, sum(1 for i in dev if i.labels[label]))
