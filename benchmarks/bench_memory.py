"""Memory benchmark: `newsbot run` on a large install, with and without a full window.

Builds a SQLite database with 10,000 feeds, 100,000 subscriptions and 1,000,000 seen
stories of which 100,000 were first seen within the duplicate window (the last day: a day
of a large install), then starts `newsbot run` on it as a deployment would (its own
process, console adapter, DATABASE_URL pointing at it). No feed is due, so nothing is
fetched. Once the watcher has logged that it loaded the window, the RSS is sampled from
/proc until it settles. The baseline, in the same run, is the same install with no story
in the window (a copy of the database whose window stories were first seen two days ago).

Prints peak (VmHWM) and settled (VmRSS) memory of both, and what the window costs per
story. Building the database takes a minute or two; `--dir D` keeps it in D for the next
run (rebuilt if absent).

    .venv/bin/python benchmarks/bench_memory.py [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import open_sqlite
from bot.store.database import to_db_time

FEEDS = 10_000
SUBSCRIPTIONS = 100_000
STORIES = 1_000_000
IN_WINDOW = 100_000
WINDOW = timedelta(days=1)
LOADED = "duplicate index loaded"
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def vocabulary(rng: random.Random, size: int = 100_000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(LETTERS, k=rng.randint(3, 11))))
    return sorted(words, key=lambda w: (len(w), w))  # short (common) words first


def stories(rng: random.Random, vocab: list[str], now: datetime) -> Iterator[tuple[object, ...]]:
    """STORIES rows, the last IN_WINDOW first seen within the window, oldest first."""
    cum = [0.0] * len(vocab)
    total = 0.0
    for rank in range(len(vocab)):
        total += 1.0 / (rank + 1)
        cum[rank] = total
    text = " ".join(rng.choices(vocab, cum_weights=cum, k=20_000))
    oldest = now - timedelta(days=30)
    old_step = (timedelta(days=29) - timedelta(minutes=5)) / (STORIES - IN_WINDOW)
    new_start = now - WINDOW + timedelta(minutes=5)
    new_step = (WINDOW - timedelta(minutes=10)) / IN_WINDOW
    for n in range(STORIES):
        feed = rng.randrange(1, FEEDS + 1)
        title = " ".join(rng.choices(vocab, cum_weights=cum, k=rng.randint(6, 14))).capitalize()
        link = f"https://www.outlet{feed}.example.com/news/2026/story-{n}-{title[:20]}"
        start = rng.randrange(len(text) - 400)
        seen = (
            oldest + old_step * n
            if n < STORIES - IN_WINDOW
            else new_start + new_step * (n - (STORIES - IN_WINDOW))
        )
        stamp = to_db_time(seen)
        yield (
            feed,
            link,
            title,
            link,
            text[start : start + 300],
            f"Outlet {feed}",
            None,
            stamp,
            stamp,
        )


def subscriptions(rng: random.Random, vocab: list[str]) -> Iterator[tuple[object, ...]]:
    """A mix like bench_matcher's: words, pairs, phrases, OR, prefixes, exclusions."""
    topics = vocab[2_000:]

    def topic() -> str:
        return rng.choice(topics).capitalize()

    makers = [
        (0.45, topic),
        (0.15, lambda: f"{topic()} {topic()}"),
        (0.10, lambda: f'"{topic()} {topic()}"'),
        (0.10, lambda: " OR ".join(topic() for _ in range(rng.choice((2, 3))))),
        (0.08, lambda: topic()[:5] + "*"),
        (0.07, lambda: f"{topic()} -{topic()}"),
        (0.05, lambda: f"title:{topic()}"),
    ]
    weights = [w for w, _ in makers]
    created = to_db_time(datetime.now(UTC))
    for n in range(SUBSCRIPTIONS):
        query = rng.choices(makers, weights=weights)[0][1]()
        yield ("console", f"w{n // 1000}", f"c{n // 100}", query, "bench", created, None)


def build(path: Path) -> None:
    """The database (schema by the bot's own migrations, rows in one transaction)."""
    asyncio.run(_migrate(path))
    rng = random.Random(2026)
    vocab = vocabulary(rng)
    now = datetime.now(UTC)
    future = to_db_time(now + timedelta(days=365))  # no feed is due during the run
    added = to_db_time(now - timedelta(days=60))
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA synchronous = OFF")
        with conn:
            conn.executemany(
                "INSERT INTO feeds (id, url, title, trusted, added_at, primed, next_check_at)"
                " VALUES (?, ?, ?, 1, ?, 1, ?)",
                (
                    (n, f"https://www.outlet{n}.example.com/rss", f"Outlet {n}", added, future)
                    for n in range(1, FEEDS + 1)
                ),
            )
            conn.executemany(
                "INSERT INTO subscriptions (platform, workspace, channel, query, created_by,"
                " created_at, mention) VALUES (?, ?, ?, ?, ?, ?, ?)",
                subscriptions(rng, vocab),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO stories (feed_id, story_id, title, link, summary, source,"
                " image, published, first_seen_at) VALUES (?,?,?,?,?,?,?,?,?)",
                stories(rng, vocab, now),
            )


async def _migrate(path: Path) -> None:
    store = await open_sqlite(str(path))
    await store.close()


def without_window(source: Path, target: Path) -> None:
    """The same install, its window's stories first seen two days ago instead."""
    shutil.copyfile(source, target)
    since = to_db_time(datetime.now(UTC) - WINDOW)
    old = to_db_time(datetime.now(UTC) - 2 * WINDOW)
    with closing(sqlite3.connect(target)) as conn, conn:
        conn.execute("UPDATE stories SET first_seen_at = ? WHERE first_seen_at >= ?", (old, since))


def window_count(path: Path) -> int:
    since = to_db_time(datetime.now(UTC) - WINDOW)
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT COUNT(*) FROM stories WHERE first_seen_at >= ?", (since,))
        return int(row.fetchone()[0])


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of `pid`, in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0])
    return found


@dataclass(frozen=True)
class Run:
    peak: float  # MiB
    settled: float  # MiB
    ready_s: float  # from start until the window was loaded
    loaded: str  # the watcher's log line


def run_bot(path: Path, workdir: Path) -> Run:
    """Start `newsbot run` on `path`; its memory once the window is loaded and settled."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "LOG_LEVEL": "INFO",
        "NEWSBOT_DUPLICATE_WINDOW": str(int(WINDOW.total_seconds())),
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir,
        text=True,
    )
    loaded = threading.Event()
    log: list[str] = []

    def read_log() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            log.append(line)
            if LOADED in line:
                loaded.set()

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        while not loaded.wait(0.2):
            if proc.poll() is not None:
                raise SystemExit("newsbot run exited:\n" + "".join(log[-20:]))
        load_s = time.perf_counter() - start
        # Settled: no more than 1 MiB of change over two seconds (sampled every 0.25 s).
        samples = [status(proc.pid)["VmRSS"]]
        while len(samples) < 8 or max(samples[-8:]) - min(samples[-8:]) > 1024:
            time.sleep(0.25)
            samples.append(status(proc.pid)["VmRSS"])
            if len(samples) > 240:
                break
        final = status(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    line = next(x for x in log if LOADED in x)
    return Run(final["VmHWM"] / 1024, final["VmRSS"] / 1024, load_s, line[line.index(LOADED) :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="keep the databases here between runs")
    args = parser.parse_args()
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="newsbot-mem-"))
    workdir.mkdir(parents=True, exist_ok=True)
    full, empty = workdir / "window.db", workdir / "no-window.db"
    try:
        # The window is the last day by the wall clock: a kept database is rebuilt once
        # its window stories have aged out of it.
        if not full.exists() or window_count(full) < IN_WINDOW * 0.95:
            started = time.perf_counter()
            full.unlink(missing_ok=True)
            build(full)
            print(f"built {full} in {time.perf_counter() - started:.0f} s")
        without_window(full, empty)
        in_window = window_count(full)
        base = run_bot(empty, workdir)
        with_window = run_bot(full, workdir)
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    cost = (with_window.settled - base.settled) * 1024 * 1024 / max(in_window, 1)
    print(
        f"memory benchmark: `newsbot run`, {FEEDS:,} feeds, {SUBSCRIPTIONS:,} subscriptions, "
        f"{STORIES:,} seen stories"
    )
    for name, r in (("none in the window", base), (f"{in_window:,} in the window", with_window)):
        print(
            f"  {name}: peak {r.peak:.0f} MB, settled {r.settled:.0f} MB "
            f"({r.loaded.strip()}, {r.ready_s:.1f} s after start)"
        )
    print(f"  the window costs {cost:.0f} bytes a story (settled, against the baseline)")
    print(f"  total with the window: {with_window.settled:.0f} MB (aim < 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
