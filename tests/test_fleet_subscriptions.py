"""Subscriptions changed through one process reach every other (issue 13, item 9).

Two stores opened on one PostgreSQL schema stand for two processes. The second keeps a
subscription index in step with the database through SubscriptionSync: the change
feed's notifications (LISTEN/NOTIFY), a reconnect when its connection is lost, and a
periodic reconcile for what a lost notification missed. Each test waits for the state
it expects (bounded well below the reconcile period when it proves a notification).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel, Story, Subscription
from bot.core.ports import Store
from bot.feeds.subscription_sync import SubscriptionSync, SyncStore, apply_subscriptions
from bot.store import open_store
from bot.store.postgres.changes import APPLICATION_NAME
from tests.store_contract.backends import pg_schema, pg_server_url

NEWS = Channel("slack", "T1", "C1")
START = datetime(2026, 1, 1, tzinfo=UTC)
NEVER = 3600.0  # a reconcile period no test waits for: what it sees came by notification


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `check()` holds (the other process's index tells no one it changed)."""
    async with asyncio.timeout(timeout):
        for _ in itertools.count():
            if check():
                return
            await asyncio.sleep(0.02)


@asynccontextmanager
async def two_processes() -> AsyncIterator[tuple[Store, Store]]:
    async with pg_schema() as urls:
        one = await open_store(urls.url)
        two = await open_store(urls.url)
        try:
            yield one, two
        finally:
            await two.close()
            await one.close()


@asynccontextmanager
async def syncing(
    store: SyncStore, index: SubscriptionIndex, reconcile_every: float = NEVER
) -> AsyncIterator[SubscriptionSync]:
    sync = SubscriptionSync(store, index, reconcile_every=reconcile_every)
    stop = asyncio.Event()
    task = asyncio.create_task(sync.run(stop))
    try:
        yield sync
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def state(index: SubscriptionIndex) -> dict[int, tuple[str, str | None]]:
    return {i: (s.query, s.paused_reason) for i, s in index.by_id.items()}


def alerted(index: SubscriptionIndex) -> list[Channel]:
    """The channels a NATO story alerts through `index`."""
    story = Story(1, "s1", "NATO summit opens", "https://a.example/1", "", START, "Wire")
    return [a.channel for a in index.alerts_for(story)]


async def test_a_change_through_one_process_reaches_the_others_index(tmp_path: Path) -> None:
    async with two_processes() as (one, two):
        index = SubscriptionIndex(await two.all_subscriptions())
        async with syncing(two, index) as sync:
            await eventually(lambda: sync.reloads == 1)  # listening: reloaded once at start
            [nato] = await one.add_subscriptions(NEWS, ["NATO"], "ana")
            await eventually(lambda: state(index) == {nato.id: ("NATO", None)})
            assert alerted(index) == [NEWS]  # matched by this process from now on
            await one.pause_channel(NEWS, "channel archived")
            await eventually(lambda: state(index) == {nato.id: ("NATO", "channel archived")})
            assert alerted(index) == []
            await one.resume_channel(NEWS)
            await eventually(lambda: state(index) == {nato.id: ("NATO", None)})
            await one.remove_subscription(NEWS, nato.id)
            await eventually(lambda: state(index) == {})
            assert alerted(index) == []


async def test_a_lost_connection_is_reopened_and_what_was_missed_reloaded() -> None:
    async with two_processes() as (one, two):
        index = SubscriptionIndex(await two.all_subscriptions())
        async with syncing(two, index) as sync:
            await eventually(lambda: sync.reloads == 1)
            admin = await asyncpg.connect(pg_server_url())
            try:
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = $1 AND pid <> pg_backend_pid()",
                    APPLICATION_NAME,
                )
            finally:
                await admin.close()
            assert killed >= 1
            # Added while nobody listens: only the reload after reconnecting brings it.
            [added] = await one.add_subscriptions(NEWS, ["Ukraine"], "ana")
            await eventually(lambda: added.id in index.by_id)
            assert sync.reloads >= 2  # at start, and again once listening anew


class Deaf:
    """A store whose notifications never arrive (all lost)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def watch_changes(self, on_change: Callable[[str], None], stop: asyncio.Event) -> None:
        await stop.wait()

    async def all_subscriptions(self) -> list[Subscription]:
        return await self.store.all_subscriptions()


async def test_the_reconcile_corrects_a_lost_notification() -> None:
    async with two_processes() as (one, two):
        index = SubscriptionIndex(await two.all_subscriptions())
        async with syncing(Deaf(two), index, reconcile_every=0.2):
            [added] = await one.add_subscriptions(NEWS, ["Russia"], "ana")
            await eventually(lambda: added.id in index.by_id)


async def test_sqlite_has_nothing_to_watch(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        told: list[str] = []
        # One process per SQLite file: the feed returns at once, having told nothing.
        await asyncio.wait_for(store.watch_changes(told.append, asyncio.Event()), 5)
        assert told == []
    finally:
        await store.close()


@pytest.mark.parametrize("query", ["NATO", "NATO AND Ukraine"])
def test_a_changed_query_is_reindexed(query: str) -> None:
    index = SubscriptionIndex([Subscription(1, NEWS, "Russia", "ana", START)])
    assert apply_subscriptions(index, [Subscription(1, NEWS, query, "ana", START)]) == 1
    assert index.by_id[1].query == query
    assert alerted(index) == ([NEWS] if query == "NATO" else [])
    assert apply_subscriptions(index, [Subscription(1, NEWS, query, "ana", START)]) == 0
