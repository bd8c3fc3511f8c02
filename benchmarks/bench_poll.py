"""Poll benchmark: one full poll cycle over 2,000 feeds served from 127.0.0.1.

Half the feeds are unchanged (they answer 304 to the conditional request), half have a new
item each cycle. Prints the wall time of one full cycle, requests per second, CPU seconds
per feed, CPU per unchanged feed, and the ratio against a plain loop of
`feedparser.parse(url)` over the same feeds, measured in the same run (on a sample of the
feeds, scaled to all of them, as the output says).

Then the first cycle over feeds with templated titles: 2,000 feeds never seen before, 20
items each, on 50 local hosts (ports), every title of the form "Feed 123 story 5" (they all
share their longest word, the worst case for the duplicate index), against the same plain
sequential `feedparser.parse(url)` loop over those feeds; it also prints the event loop's
longest stall during that cycle (a task that ticks every millisecond).

The feed server runs in a child process, so the CPU counted is the bot's own.
`--latency-ms` makes the server wait before each answer, like a server across the
internet would (a round trip plus its think time); 0, the default, is pure loopback.

    .venv/bin/python benchmarks/bench_poll.py [--feeds 2000] [--latency-ms 0] [--profile]
        [--part all|cycle|templated]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
import feedparser
from aiohttp import web

from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel
from bot.feeds.fetch import Fetcher
from bot.feeds.watcher import Watcher, WatchPolicy
from bot.store import open_sqlite

ITEMS = 10
CHANNEL = Channel("console", "local", "bench")
TEMPLATED_ITEMS = 20
TEMPLATED_HOSTS = 50


def _vocabulary(size: int = 3000) -> list[str]:
    """Made-up words: headlines drawn from them share words about as often as real ones."""
    rng = random.Random(2026)
    syllables = [
        "ka",
        "lo",
        "mi",
        "ne",
        "ru",
        "sa",
        "ti",
        "vo",
        "ze",
        "pra",
        "stan",
        "dor",
        "gel",
        "mun",
        "rik",
    ]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


VOCABULARY = _vocabulary()


def headline(feed: int, n: int) -> str:
    rng = random.Random(feed * 100_003 + n)
    words = rng.sample(VOCABULARY, rng.randint(6, 11))
    if rng.random() < 0.05:  # now and then a story the bench channel subscribed to
        words.insert(rng.randrange(len(words)), "NATO")
    return " ".join(words).capitalize()


def document(feed: int, version: int) -> bytes:
    """Feed `feed` at `version`: its newest ITEMS stories, one more per version."""
    items = []
    for n in range(version + ITEMS, version, -1):
        items.append(
            f"<item><guid isPermaLink='false'>f{feed}-{n}</guid>"
            f"<title>{headline(feed, n)}</title>"
            f"<link>https://outlet{feed}.example/story/{n}?utm_source=rss</link>"
            f"<description>&lt;p&gt;Story {n} of outlet {feed}: {headline(n, feed)}."
            "&lt;/p&gt;</description>"
            f"<pubDate>Mon, 27 Dec 2021 {n % 24:02d}:10:00 GMT</pubDate></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Outlet {feed}</title><link>https://outlet{feed}.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def templated_document(feed: int) -> bytes:
    """Feed `feed` with TEMPLATED_ITEMS stories titled "Feed <feed> story <n>"."""
    items = "".join(
        f"<item><guid isPermaLink='false'>t{feed}-{n}</guid>"
        f"<title>Feed {feed} story {n}</title>"
        f"<link>https://templated{feed}.example/story/{n}</link>"
        f"<description>Story {n} of feed {feed}.</description>"
        f"<pubDate>Mon, 27 Dec 2021 {n % 24:02d}:10:00 GMT</pubDate></item>"
        for n in range(TEMPLATED_ITEMS, 0, -1)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Templated {feed}</title><link>https://templated{feed}.example/</link>"
        f"{items}</channel></rss>"
    ).encode()


def serve(conn: Connection, latency: float) -> None:
    """The feed server (child process): odd feeds gain an item per request until frozen."""
    versions: dict[int, int] = {}
    frozen = False

    async def feed(request: web.Request) -> web.StreamResponse:
        if latency:
            await asyncio.sleep(latency)
        n = int(request.match_info["n"])
        if n % 2 and not frozen:
            versions[n] = versions.get(n, 0) + 1
        version = versions.get(n, 0)
        tag = f'"{n}-{version}"'
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(
            body=document(n, version), headers={"ETag": tag}, content_type="application/rss+xml"
        )

    async def templated(request: web.Request) -> web.StreamResponse:
        if latency:
            await asyncio.sleep(latency)
        body = templated_document(int(request.match_info["n"]))
        return web.Response(body=body, content_type="application/rss+xml")

    async def freeze(request: web.Request) -> web.StreamResponse:
        nonlocal frozen
        frozen = True
        return web.Response(text="frozen")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}.rss", feed)
        app.router.add_get("/templated/{n}.rss", templated)
        app.router.add_post("/freeze", freeze)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        ports = []
        # One site per "host": the watcher caps requests per host (host and port).
        for _ in range(1 + TEMPLATED_HOSTS):
            site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
            await site.start()
            server = site._server
            assert server is not None
            ports.append(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
        conn.send(ports)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told
        await runner.cleanup()

    asyncio.run(main())


class Clock:
    def __init__(self) -> None:
        self.current = datetime.now(UTC) + timedelta(seconds=1)

    def now(self) -> datetime:
        return self.current


async def measure_cycle(watcher: Watcher, profile: cProfile.Profile | None) -> tuple[float, float]:
    """(wall s, CPU s) of one full poll cycle."""
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    await watcher.poll_once()
    if profile is not None:
        profile.disable()
    return time.perf_counter() - wall, time.process_time() - cpu


async def run_watcher(
    base: str, feeds: int, concurrency: int, profile: cProfile.Profile | None
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        store = await open_sqlite(str(Path(tmp) / "bench.db"))
        fetcher = Fetcher(timeout=60)
        try:
            for n in range(feeds):
                await store.add_feed(f"{base}/feed/{n}.rss", trusted=True, added_by=None)
            subs = await store.add_subscriptions(CHANNEL, ["NATO"], "bench")
            clock = Clock()
            watcher = Watcher(
                store=store,
                index=SubscriptionIndex(subs),
                fetcher=fetcher,
                clock=clock,
                policy=WatchPolicy(poll_interval=60, concurrency=concurrency, per_host=concurrency),
            )
            prime_wall, _ = await measure_cycle(watcher, None)
            clock.current += timedelta(minutes=10)
            wall, cpu = await measure_cycle(watcher, profile)
            async with aiohttp.ClientSession() as session, session.post(f"{base}/freeze") as resp:
                assert resp.status == 200
            clock.current += timedelta(minutes=10)
            still_wall, still_cpu = await measure_cycle(watcher, None)
            async with store.db.reading() as conn, conn.execute("SELECT COUNT(*) FROM outbox") as c:
                row = await c.fetchone()
            alerts = int(row[0]) if row else 0
        finally:
            await fetcher.close()
            await store.close()
    return {
        "prime_wall": prime_wall,
        "wall": wall,
        "cpu": cpu,
        "still_wall": still_wall,
        "still_cpu": still_cpu,
        "alerts": alerts,
    }


async def loop_monitor(stalls: list[float], stop: asyncio.Event) -> None:
    """Tick every millisecond; the longest gap between ticks is the loop's longest stall."""
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        stalls.append(now - last)
        last = now


async def run_templated(urls: list[str], concurrency: int) -> dict[str, float]:
    """The first cycle over feeds never seen before, with templated titles."""
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        store = await open_sqlite(str(Path(tmp) / "bench.db"))
        fetcher = Fetcher(timeout=60)
        try:
            for url in urls:
                await store.add_feed(url, trusted=True, added_by=None)
            subs = await store.add_subscriptions(CHANNEL, ["NATO"], "bench")
            watcher = Watcher(
                store=store,
                index=SubscriptionIndex(subs),
                fetcher=fetcher,
                clock=Clock(),
                # The default per-host cap (2): 50 hosts keep `concurrency` requests busy.
                policy=WatchPolicy(poll_interval=60, concurrency=concurrency),
            )
            stalls: list[float] = []
            stop = asyncio.Event()
            monitor = asyncio.create_task(loop_monitor(stalls, stop))
            wall, cpu = await measure_cycle(watcher, None)
            stop.set()
            await monitor
            async with (
                store.db.reading() as conn,
                conn.execute("SELECT COUNT(*) FROM stories") as cur,
            ):
                row = await cur.fetchone()
            duplicates = watcher.refresher.duplicates
        finally:
            await fetcher.close()
            await store.close()
    return {
        "wall": wall,
        "cpu": cpu,
        "stories": int(row[0]) if row else 0,
        "stall": max(stalls, default=0.0),
        "reads": duplicates.postings_read / max(len(duplicates), 1),
        "comparisons": duplicates.comparisons / max(len(duplicates), 1),
    }


def parse_loop(urls: list[str]) -> float:
    """Seconds for the plain sequential feedparser.parse(url) loop over `urls`."""
    start = time.perf_counter()
    for url in urls:
        result = feedparser.parse(url)
        assert result.entries, f"baseline got no entries from {url}"
    return time.perf_counter() - start


def baseline(base: str, sample: int, feeds: int) -> float:
    """Seconds for feedparser.parse(url) over `sample` feeds spread over all of them."""
    step = max(feeds // sample, 1)
    picked = list(range(0, feeds, step))[:sample]
    # Keep the half-and-half mix of the sample whatever the step's parity.
    picked = [n if i % 2 == 0 else min(n | 1, feeds - 1) for i, n in enumerate(picked)]
    start = time.perf_counter()
    for n in picked:
        result = feedparser.parse(f"{base}/feed/{n}.rss")
        assert result.entries, f"baseline got no entries from feed {n}"
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--sample", type=int, default=200, help="feeds in the baseline loop")
    parser.add_argument("--profile", action="store_true", help="profile the measured cycle")
    parser.add_argument("--templated-feeds", type=int, default=2000)
    parser.add_argument("--part", choices=["all", "cycle", "templated"], default="all")
    args = parser.parse_args()

    here, there = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(there, args.latency_ms / 1000), daemon=True
    )
    server.start()
    try:
        ports = here.recv()
        base = f"http://127.0.0.1:{ports[0]}"
        profile = cProfile.Profile() if args.profile else None
        if args.part in ("all", "cycle"):
            r = asyncio.run(run_watcher(base, args.feeds, args.concurrency, profile))
            sample = min(args.sample, args.feeds)
            base_s = baseline(base, sample, args.feeds)
        if args.part in ("all", "templated"):
            tpl = args.templated_feeds
            urls = [
                f"http://127.0.0.1:{ports[1 + n % TEMPLATED_HOSTS]}/templated/{n}.rss"
                for n in range(tpl)
            ]
            t = asyncio.run(run_templated(urls, args.concurrency))
            tpl_sample = min(args.sample, tpl)
            tpl_base = parse_loop(urls[:: max(tpl // tpl_sample, 1)][:tpl_sample])
        here.send("stop")
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.kill()

    if args.part in ("all", "cycle"):
        print_cycle(args, r, base_s, sample, profile)
    if args.part in ("all", "templated"):
        scaled = tpl_base * tpl / tpl_sample
        print(
            f"templated first cycle: {tpl} feeds never seen before on {TEMPLATED_HOSTS} local "
            f'hosts, {TEMPLATED_ITEMS} items each, titles "Feed N story K", concurrency '
            f"{args.concurrency} (per host 2)"
        )
        print(
            f"  first cycle: {t['wall']:.2f} s wall, {t['cpu']:.2f} s CPU, "
            f"{t['stories']:.0f} stories recorded"
        )
        print(
            f"  duplicate index per story: {t['reads']:.1f} postings read, "
            f"{t['comparisons']:.2f} titles compared; longest event-loop stall "
            f"{t['stall'] * 1000:.0f} ms"
        )
        print(
            f"  baseline feedparser.parse(url) loop: {tpl_sample} of {tpl} feeds in "
            f"{tpl_base:.2f} s, scaled to {tpl}: {scaled:.2f} s"
        )
        print(f"  ratio: first cycle / baseline = {t['wall'] / scaled:.2f} (aim <= 3)")
    return 0


def print_cycle(
    args: argparse.Namespace,
    r: dict[str, float],
    base_s: float,
    sample: int,
    profile: cProfile.Profile | None,
) -> None:
    feeds = args.feeds
    scaled = base_s * feeds / sample
    ratio = scaled / r["wall"]
    per_unchanged = r["still_cpu"] / feeds
    print(
        f"poll benchmark: {feeds} feeds on 127.0.0.1 ({feeds // 2} unchanged -> 304, "
        f"{feeds - feeds // 2} with a new item), {ITEMS} items each, "
        f"server latency {args.latency_ms:g} ms, concurrency {args.concurrency} "
        f"(per host {args.concurrency}: every feed is on the one local host)"
    )
    print(f"  first sight (priming, not in the ratio): {r['prime_wall']:.2f} s")
    print(
        f"  one full poll cycle: {r['wall']:.2f} s wall, {feeds / r['wall']:.0f} requests/s, "
        f"{r['cpu'] / feeds * 1000:.2f} ms CPU per feed, {r['alerts']:.0f} alerts queued in all"
    )
    print(
        f"  all-unchanged cycle: {r['still_wall']:.2f} s wall, "
        f"{per_unchanged * 1000:.3f} ms CPU per unchanged feed (aim < 1 ms)"
    )
    print(
        f"  baseline feedparser.parse(url) loop: {sample} of {feeds} feeds in {base_s:.2f} s, "
        f"scaled to {feeds}: {scaled:.2f} s"
    )
    print(f"  ratio: {ratio:.1f}x faster than the baseline loop (aim >= 20x)")
    if profile is not None:
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    sys.exit(main())
