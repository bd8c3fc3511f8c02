"""The watcher, the store and the commands in one process, with a clock the test moves."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from pathlib import Path

from bot.adapters.console.render import render_alert
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Alert, Channel, Feed
from bot.core.ports import FeedRejected, ProbedFeed, Store
from bot.feeds.fetch import Fetcher
from bot.feeds.netguard import AddressPolicy
from bot.feeds.probe import HttpFeedProbe
from bot.feeds.watcher import Watcher, WatchPolicy
from bot.store import SqliteStore, open_sqlite

PLATFORMS = ("console", "discord", "slack")
NEWSROOM = Channel("console", "local", "newsroom")
DESK = Channel("console", "local", "desk")


class ManualClock:
    def __init__(self) -> None:
        # A moment ahead of the wall clock, which the store stamps new feeds with.
        self.current = datetime.now(UTC) + timedelta(seconds=1)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class FakeProbe:
    """Stands in for bot.feeds' probe: accepts what the test says, refuses the rest."""

    refusals: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def probe(self, url: str) -> ProbedFeed:
        self.asked.append(url)
        if url in self.refusals:
            raise FeedRejected(self.refusals[url])
        return ProbedFeed(url=url, title=None, entries=1)


@dataclass
class Bot:
    store: SqliteStore
    index: SubscriptionIndex
    watcher: Watcher
    clock: ManualClock
    deps: CommandDeps
    probe: FakeProbe

    async def say(self, text: str, channel: Channel = NEWSROOM, *, manage: bool = True) -> str:
        inv = Invocation(channel=channel, user="ana", can_manage=manage)
        return (await handle_command(text, inv, self.deps)).text

    async def operator_feed(self, url: str) -> Feed:
        return await self.store.add_feed(url, trusted=True, added_by=None)

    async def poll(self) -> int:
        return await self.watcher.poll_once()

    async def later(self, seconds: float) -> int:
        """Let `seconds` pass and poll what is due by then."""
        self.clock.advance(seconds)
        return await self.poll()

    async def next_cycle(self) -> int:
        """Let one poll interval pass (and its jitter, at most a tenth of it) and poll."""
        return await self.later(self.watcher.policy.poll_interval * 1.1 + 1)

    async def pending(self) -> list[Alert]:
        """Every pending alert, oldest first, through the store's contract (as if the
        platforms could take them all now: retries waiting included)."""
        later = self.clock.now() + timedelta(days=3650)
        due = await self.store.due_deliveries(later, PLATFORMS, per_channel=10**6, limit=10**6)
        return [d.alert for d in due]

    async def delivered(self, channel: Channel | None = None) -> list[Alert]:
        """What reaches the channels now: pending alerts, marked sent as they are read."""
        out = []
        for alert in await self.pending():
            if channel is None or alert.channel == channel:
                assert alert.id is not None
                await self.store.mark_sent(alert.id, None, self.clock.now())
                out.append(alert)
        return out

    async def rendered(self, channel: Channel = NEWSROOM) -> list[str]:
        return [render_alert(a) for a in await self.delivered(channel)]

    async def feed(self, feed_id: int) -> Feed:
        found = await self.store.get_feed(feed_id)
        assert found is not None
        return found


@asynccontextmanager
async def running_bot(
    tmp_path: Path, *, real_probe: bool = False, **policy: float
) -> AsyncIterator[Bot]:
    store = await open_sqlite(str(tmp_path / "bot.db"))
    clock = ManualClock()
    index = SubscriptionIndex(await store.all_subscriptions())
    # Chat-added feeds go through the address guard; these tests serve them from this
    # machine, so loopback is let through here (the guard has tests of its own).
    fetcher = Fetcher(timeout=5, policy=AddressPolicy(allow=(ip_network("127.0.0.0/8"),)))
    probe = FakeProbe()
    settings = {"poll_interval": 60.0, **policy}
    watcher = Watcher(
        store=store,
        index=index,
        fetcher=fetcher,
        clock=clock,
        policy=WatchPolicy(**settings),  # type: ignore[arg-type]
        rng=random.Random(7),
    )
    # The real probe goes through the same (loopback-allowing) fetcher as the watcher.
    deps = CommandDeps(
        store=store, index=index, clock=clock, probe=HttpFeedProbe(fetcher) if real_probe else probe
    )
    try:
        yield Bot(store, index, watcher, clock, deps, probe)
    finally:
        await fetcher.close()
        await store.close()


@asynccontextmanager
async def loopback_watcher(
    store: Store, clock: ManualClock, policy: WatchPolicy, owner: str = "one"
) -> AsyncIterator[Watcher]:
    """A watcher on `store` that fetches from the loopback feed servers, the index made
    from the store's subscriptions; its fetcher closed afterwards."""
    fetcher = Fetcher(timeout=5, policy=AddressPolicy(allow=(ip_network("127.0.0.0/8"),)))
    try:
        yield Watcher(
            store=store,
            index=SubscriptionIndex(await store.all_subscriptions()),
            fetcher=fetcher,
            clock=clock,
            policy=policy,
            rng=random.Random(1),
            owner=owner,
        )
    finally:
        await fetcher.close()
