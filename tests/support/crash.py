"""Killing `newsbot run` mid-request: the harness the crash tests share.

A fake Discord route is held (a set latency, a drawn one, or until the test releases it)
and finishes even if the bot dies meanwhile, so a kill lands while a request is in flight;
the test sees each request arrive and knows by state, not by waiting, when none is left.
The randomness (latency, when each kill lands) comes from generators derived from one
seed, printed with a failure: `NEWSBOT_FAULT_SEED=<seed>` replays the same draws.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from asyncio import FIRST_COMPLETED
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bot.core.models import Channel
from bot.store import open_sqlite
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer
from tests.support.process import start_newsbot

DEFAULT_SEED = 20261128  # NEWSBOT_FAULT_SEED replays another run
MESSAGE_LATENCY = (0.005, 0.03)  # seconds the fake takes to create one message


def feed_of(count: int) -> str:
    """An RSS feed of `count` NATO stories, s0 oldest, a minute apart."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    items = "".join(
        f"<item><guid isPermaLink='false'>s{n}</guid><title>NATO story {n}</title>"
        f"<link>https://news.example/s{n}</link><description>About NATO.</description>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate></item>"
        for n in range(count)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Wire</title><link>https://news.example/</link>{items}</channel></rss>"
    )


@dataclass(frozen=True)
class Seeds:
    """One base seed and, derived from it, one generator per purpose (the fake's latency,
    when each kill lands): drawing more from one never shifts another."""

    base: int

    @classmethod
    def from_env(cls) -> Seeds:
        return cls(int(os.environ.get("NEWSBOT_FAULT_SEED", DEFAULT_SEED)))

    def rng(self, purpose: str) -> random.Random:
        return random.Random(f"{self.base}:{purpose}")  # str seeds are hashed stably

    def __str__(self) -> str:
        return f"NEWSBOT_FAULT_SEED={self.base} (latency and kill timing derived from it)"


class HeldRoute:
    """One of the fake Discord's route handlers, held by `hold()` before the fake handles
    the request. The request finishes even if the bot dies meanwhile; the test sees each
    one arrive (`arrived`, `requests`) and when none is in progress (`idle`)."""

    def __init__(
        self, fake: FakeDiscord, handler: Any, hold: Callable[[], Awaitable[object]]
    ) -> None:
        self.handler = handler
        self.hold = hold
        self.arrived = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.in_flight = 0
        self.requests = 0
        fake._routes = [  # type: ignore[misc]
            (method, rx, self._handle if h is handler else h) for method, rx, h in fake._routes
        ]

    async def _handle(self, fake: FakeDiscord, body: Any, **ids: str) -> Any:
        self.requests += 1
        self.arrived.set()
        self.in_flight += 1
        self.idle.clear()
        try:
            await self.hold()
            return await self.handler(fake, body, **ids)
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()


def slow_messages(
    fake: FakeDiscord, rng: random.Random, latency: tuple[float, float] = MESSAGE_LATENCY
) -> HeldRoute:
    """Each message the fake creates takes a moment drawn from `rng` within `latency`."""
    return HeldRoute(
        fake, FakeDiscord._create_message, lambda: asyncio.sleep(rng.uniform(*latency))
    )


async def subscribed_to_wire(
    feed_server: FeedServer, cwd: Path, stories: int, channel: Channel, by: str
) -> Path:
    """cwd/feeds.txt lists a feed of `stories` NATO stories (feed_of) and a new SQLite
    database in `cwd` has `channel` subscribed to NATO: the database's path."""
    url = feed_server.serve("/wire.xml", feed_of(stories))
    (cwd / "feeds.txt").write_text(url + "\n")
    db = cwd / "bot.db"
    store = await open_sqlite(str(db))
    await store.add_subscriptions(channel, ["NATO"], by)
    await store.close()
    return db


def delivery_env(fake: FakeDiscord, cwd: Path, db: Path, stories: int) -> dict[str, str]:
    """Settings for a bot that alerts every one of the feed's `stories` at once, without
    pacing, and retries fast: kills land while it delivers, not while it waits."""
    return {
        **fake.env(),
        "DATABASE_URL": f"sqlite:///{db}",
        "NEWSBOT_FEEDS_FILE": str(cwd / "feeds.txt"),
        "NEWSBOT_POLL_INTERVAL": "1",
        "NEWSBOT_BACKFILL": str(stories),  # every story of the feed is an alert
        "NEWSBOT_BURST_WINDOW": "0",
        "NEWSBOT_RATE_DISCORD_CHANNEL": "0",
        "NEWSBOT_RATE_DISCORD_GLOBAL": "0",
        "NEWSBOT_RETRY_BASE": "0.05",
        "NEWSBOT_RETRY_MAX": "0.5",
        # INFO: the notifier says when a resend found its alert already posted.
        "LOG_LEVEL": "INFO",
    }


async def start_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`newsbot run` logging to cwd/bot.log, appended to by every run."""
    with (cwd / "bot.log").open("ab") as log:  # the child keeps its own copy of the handle
        return await start_newsbot(env, cwd, stdout=asyncio.subprocess.DEVNULL, stderr=log)


def log_tail(cwd: Path) -> str:
    return (cwd / "bot.log").read_text()[-2000:]


async def kill_while_delivering(
    env: dict[str, str], cwd: Path, route: HeldRoute, kill_rng: random.Random, seeds: Seeds
) -> None:
    """One run of the bot, killed with SIGKILL a moment (drawn from `kill_rng`) after its
    first request reached `route`."""
    route.arrived.clear()
    bot = await start_bot(env, cwd)
    exited = asyncio.ensure_future(bot.wait())
    arrived = asyncio.ensure_future(route.arrived.wait())
    # Kill only once this run is delivering: a request has arrived.
    await asyncio.wait({exited, arrived}, timeout=30, return_when=FIRST_COMPLETED)
    arrived.cancel()
    assert not exited.done(), f"the bot exited on its own; {seeds}\n{log_tail(cwd)}"
    assert route.arrived.is_set(), f"no request in 30 s; {seeds}"
    await asyncio.sleep(kill_rng.uniform(0, 0.12))
    bot.send_signal(signal.SIGKILL)
    await exited


async def deliver_the_rest(
    env: dict[str, str],
    cwd: Path,
    fake: FakeDiscord,
    channel: str,
    count: int,
    route: HeldRoute,
    seeds: Seeds,
) -> None:
    """One last run, left to post `count` messages in `channel`, then stopped with SIGTERM;
    returns once every request the fake received (from any run) has finished."""
    bot = await start_bot(env, cwd)
    try:
        await fake.wait_for_messages(channel, count, timeout=40)
    finally:
        bot.send_signal(signal.SIGTERM)
        code = await bot.wait()
    assert code == 0, f"{seeds}\n{log_tail(cwd)}"
    # The bot is gone, so nothing more comes from it; once the fake has finished every
    # request it received (from this run or a killed one), no message can still appear.
    # Not a quiet moment: the count of requests in progress is zero.
    async with asyncio.timeout(10):
        await route.idle.wait()


def resends(fake: FakeDiscord, cwd: Path, channel: str = r"\d+") -> tuple[int, int]:
    """How the runs after a kill met an alert the killed run may have posted, in `channel`
    (a pattern; any by default): (posted again and deduped by its nonce, found already
    posted in the channel's history and so not posted again). None of either: no kill
    hit a send in flight, and the hard case went untested."""
    calls = fake.calls("POST", rf"/channels/{channel}/messages$")
    nonces = Counter(r.body.get("nonce") for r in calls)
    resent = sum(1 for n in nonces.values() if n > 1)
    found = (cwd / "bot.log").read_text().count("not posting it again")
    return resent, found
