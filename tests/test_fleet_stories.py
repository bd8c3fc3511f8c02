"""Two processes polling one database (issue 13, items 5 and 6): each feed is fetched by
one of them per cycle, and a story carried by every outlet is one alert, "also reported
by" the others, whichever process parsed which outlet. Each process's duplicate index
sees only its own stories: the database's unique keys decide across them.

Run on SQLite (two connections to one file) and PostgreSQL (two pools on one schema).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from ipaddress import ip_network

import pytest

from bot.core.matching.index import SubscriptionIndex
from bot.core.ports import Store
from bot.feeds.fetch import Fetcher
from bot.feeds.netguard import AddressPolicy
from bot.feeds.watcher import Watcher, WatchPolicy
from bot.store import open_store
from tests.store_contract.backends import BACKENDS, store_urls
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import NEWSROOM, PLATFORMS, ManualClock

OUTLETS = 6
SUMMIT = Item(
    "NATO leaders agree new Ukraine aid package at Vilnius summit",
    "https://agency.example/summit",
    "summit",
)
OTHER = Item("Heavy snow disrupts flights in Japan", "https://a.example/snow", "snow")
# One refresh at a time (two claimed): the two processes split the outlets between them.
POLICY = WatchPolicy(poll_interval=60.0, per_host=OUTLETS, concurrency=1)


@pytest.fixture(params=BACKENDS)
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[list[Store]]:
    async with store_urls(request.param, request) as urls:
        first = await open_store(urls.url)
        second = await open_store(urls.url)
        try:
            yield [first, second]
        finally:
            await second.close()
            await first.close()


async def processes(stores: list[Store], fetcher: Fetcher, clock: ManualClock) -> list[Watcher]:
    """One watcher a store, as each process runs it: its own owner name and index."""
    return [
        Watcher(
            store=s,
            index=SubscriptionIndex(await s.all_subscriptions()),
            fetcher=fetcher,
            clock=clock,
            policy=POLICY,
            rng=random.Random(n),
            owner=f"process-{n}",
        )
        for n, s in enumerate(stores)
    ]


async def test_two_processes_fetch_each_feed_once_and_alert_a_story_once(
    stores: list[Store], feed_server: FeedServer
) -> None:
    paths = [f"/outlet{n}.rss" for n in range(OUTLETS)]
    for n, path in enumerate(paths):
        url = feed_server.serve(path, rss_doc(OTHER, title=f"Outlet {n}"))
        await stores[0].add_feed(url, trusted=True, added_by=None)
    await stores[0].add_subscriptions(NEWSROOM, ["NATO"], "ana")
    clock = ManualClock()
    fetcher = Fetcher(timeout=5, policy=AddressPolicy(allow=(ip_network("127.0.0.0/8"),)))
    try:
        watchers = await processes(stores, fetcher, clock)
        await asyncio.gather(*(w.poll_once() for w in watchers))  # primes every feed
        for n, path in enumerate(paths):
            feed_server.serve(path, rss_doc(SUMMIT, OTHER, title=f"Outlet {n}"))
        clock.advance(POLICY.poll_interval * 1.1 + 1)
        queued = await asyncio.gather(*(w.poll_once() for w in watchers))
    finally:
        await fetcher.close()
    # Each feed fetched once per cycle, by one process or the other.
    assert [len(feed_server.hits(p)) for p in paths] == [2] * OUTLETS
    assert sum(queued) == 1
    later = clock.now() + timedelta(days=1)
    [alert] = [d.alert for d in await stores[1].due_deliveries(later, PLATFORMS, 10, 10)]
    assert alert.channel == NEWSROOM
    also = alert.extra["also_reported_by"].split(", ")
    assert sorted([alert.source, *also]) == sorted(f"Outlet {n}" for n in range(OUTLETS))


async def test_a_near_copy_parsed_by_another_process_later_folds_into_the_first_alert(
    stores: list[Store], feed_server: FeedServer
) -> None:
    a = feed_server.serve("/a.rss", rss_doc(OTHER, title="Outlet A"))
    b = feed_server.serve("/b.rss", rss_doc(OTHER, title="Outlet B"))
    for url in (a, b):
        await stores[0].add_feed(url, trusted=True, added_by=None)
    await stores[0].add_subscriptions(NEWSROOM, ["NATO"], "ana")
    clock = ManualClock()
    fetcher = Fetcher(timeout=5, policy=AddressPolicy(allow=(ip_network("127.0.0.0/8"),)))
    try:
        one, two = await processes(stores, fetcher, clock)
        await one.poll_once()  # primes both feeds; each process has read the (empty) window
        await two.poll_once()
        feed_server.serve("/a.rss", rss_doc(SUMMIT, OTHER, title="Outlet A"))
        clock.advance(POLICY.poll_interval * 1.1 + 1)
        assert await one.poll_once() == 1  # process one parses outlet A
        # A cycle later outlet B words it a little differently, under its own link; only
        # process two polls, and never saw A's story: it reads it from the database.
        copy = Item(f"{SUMMIT.title} - live", "https://b.example/summit", "b-summit")
        feed_server.serve("/b.rss", rss_doc(copy, OTHER, title="Outlet B"))
        clock.advance(POLICY.poll_interval * 1.1 + 1)
        assert await two.poll_once() == 0
    finally:
        await fetcher.close()
    later = clock.now() + timedelta(days=1)
    [alert] = [d.alert for d in await stores[1].due_deliveries(later, PLATFORMS, 10, 10)]
    assert (alert.source, alert.extra) == ("Outlet A", {"also_reported_by": "Outlet B"})
