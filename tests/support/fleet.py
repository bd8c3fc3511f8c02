"""A fleet of real `newsbot run` processes on one PostgreSQL database, fed by local feed
servers and posting to the fake Discord and Slack: what tests/test_fleet_processes.py
checks and benchmarks/bench_fleet.py measures.

The world is made here and only watched from outside: feeds on loopback servers (several
addresses of 127.0.0.0/8, as many hosts), subscriptions written through the store
contract, stories published while the processes run, processes killed with SIGKILL and
started again. Every message the fakes receive is stamped when first seen and mapped back
to its (channel, story) by the story's link, so lost and twice-delivered alerts are
counted where a person would see them.
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.core.models import Channel
from bot.store import open_store
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import APP_TOKEN, BOT_TOKEN, TEAM, FakeSlack
from tests.support.feed_server import FeedServer
from tests.support.process import start_newsbot

GUILD = "830000000000000001"
STORY_LINK = re.compile(r"https://news\.example/fleet/(\d+)")
# Words that make the titles of two stories unlike each other (the duplicate check folds
# nearly equal titles from several feeds into one alert, by design).
VOCABULARY = [
    "harbour", "ministers", "drought", "vaccine", "railway", "election", "glacier", "tariff",
    "satellite", "orchestra", "wildfire", "refinery", "museum", "cyclone", "treaty", "lithium",
    "airport", "festival", "pipeline", "senate", "reactor", "fishery", "marathon", "copper",
    "volcano", "startup", "bridge", "monsoon", "budget", "telescope", "vineyard", "strike",
]  # fmt: skip


def topic(n: int) -> str:
    """The word channel n subscribes to: letters only, unlike every other channel's."""
    return "topic" + chr(97 + n // 26 % 26) + chr(97 + n % 26)


@dataclass(frozen=True)
class FleetShape:
    feeds: int = 20
    hosts: int = 4  # loopback addresses 127.0.0.2 ... serving the feeds
    discord_channels: int = 12
    slack_channels: int = 12
    subscriptions_per_channel: int = 1  # the first matches; the rest are other channels'
    poll_interval: int = 1
    lease_seconds: int = 3


@dataclass
class Published:
    story: int
    channel: Channel
    at: float  # time.monotonic() when it appeared in its feed


@dataclass
class Outcome:
    expected: int
    delivered: int
    lost: int
    duplicated: int
    latencies: list[float]
    most_in_window: dict[str, int]  # platform -> most messages a channel got in one window
    rate_limited: int  # 429s the fakes answered (their limits are the platforms')


class FeedFarm:
    """`shape.feeds` RSS feeds spread over loopback hosts; stories appended while watched."""

    def __init__(self, shape: FleetShape) -> None:
        self.shape = shape
        self.servers = [FeedServer(host=f"127.0.0.{2 + h}") for h in range(shape.hosts)]
        self.items: dict[int, list[str]] = defaultdict(list)  # feed -> its <item>s, newest first
        self.urls: list[str] = []

    async def start(self) -> None:
        for server in self.servers:
            await server.start()
        for feed in range(self.shape.feeds):
            seed = _item(-1 - feed, f"Seed story {feed} of the fleet wire", "")
            self.items[feed] = [seed]  # seen at the first poll, alerts nobody
            self.urls.append(self._serve(feed))

    def _serve(self, feed: int) -> str:
        server = self.servers[feed % len(self.servers)]
        body = _rss(f"Fleet wire {feed}", self.items[feed][:50])
        return server.serve(f"/feed{feed}.rss", body)

    def publish(self, story: int, feed: int, title: str) -> None:
        self.items[feed].insert(0, _item(story, title, "Reported from the fleet wire."))
        self._serve(feed)

    def polled_all(self, times: int) -> bool:
        """Every feed was asked for at least `times` times."""
        hits: Counter[str] = Counter()
        for server in self.servers:
            hits.update(r.path for r in server.requests)
        return all(hits[f"/feed{n}.rss"] >= times for n in range(self.shape.feeds))

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()


def _item(story: int, title: str, summary: str) -> str:
    return (
        f"<item><guid isPermaLink='false'>fleet-{story}</guid><title>{title}</title>"
        f"<link>https://news.example/fleet/{story}</link><description>{summary}</description>"
        "</item>"
    )


def _rss(title: str, items: Iterable[str]) -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{title}</title><link>https://news.example/</link>"
        + "".join(items)
        + "</channel></rss>"
    )


class Fleet:
    """The world and the processes; `run(n)` starts n `newsbot run` processes."""

    def __init__(
        self,
        shape: FleetShape,
        database_url: str,
        workdir: Path,
        discord: FakeDiscord | None,
        slack: FakeSlack | None,
        *,
        seed: int = 13,
    ) -> None:
        self.shape = shape
        self.database_url = database_url
        self.workdir = workdir
        self.discord = discord
        self.slack = slack
        self.farm = FeedFarm(shape)
        self.random = random.Random(seed)
        self.channels: list[Channel] = []
        self.published: list[Published] = []
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.logs: dict[int, IO[bytes]] = {}
        self.peak_rss: dict[int, int] = {}  # pid -> VmHWM in kB
        self.kills = 0
        self.seen: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
        self._counted: dict[str, int] = defaultdict(int)  # messages looked at, per list
        self._stamper: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()  # set whenever the stamper saw new messages
        self._story = 0

    # -- the world ---------------------------------------------------------------------

    async def prepare(self) -> None:
        """Feeds served, fakes given their channels, every subscription stored."""
        await self.farm.start()
        (self.workdir / "feeds.txt").write_text("\n".join(self.farm.urls) + "\n")
        if self.discord is not None:
            ids = [str(840000000000000000 + n) for n in range(self.shape.discord_channels)]
            self.discord.add_guild(GUILD, *ids)
            self.channels += [Channel("discord", GUILD, c) for c in ids]
        if self.slack is not None:
            for n in range(self.shape.slack_channels):
                self.slack.join(f"CFLEET{n}")
                self.channels.append(Channel("slack", TEAM, f"CFLEET{n}"))
        store = await open_store(self.database_url)
        try:
            for n, channel in enumerate(self.channels):
                # One topic that is the channel's own, plus others no story carries: the
                # matcher works through the whole set, as with real subscribers.
                queries = [topic(n)] + [
                    f"{topic(n)} {word}"
                    for word in VOCABULARY[: self.shape.subscriptions_per_channel - 1]
                ]
                await store.add_subscriptions(channel, queries, "UFLEET")
        finally:
            await store.close()
        self._stamper = asyncio.create_task(self._stamp(), name="fleet-stamper")

    def publish(self, count: int) -> None:
        """`count` new stories, each in one feed and matching one channel's topic."""
        for _ in range(count):
            story = self._story
            self._story += 1
            n = story % len(self.channels)
            words = " ".join(self.random.sample(VOCABULARY, 5))
            title = f"Report {story}: {topic(n)} {words}"
            self.farm.publish(story, self.random.randrange(self.shape.feeds), title)
            self.published.append(Published(story, self.channels[n], time.monotonic()))

    # -- processes ---------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = {
            "DATABASE_URL": self.database_url,
            "NEWSBOT_FEEDS_FILE": str(self.workdir / "feeds.txt"),
            "NEWSBOT_POLL_INTERVAL": str(self.shape.poll_interval),
            "NEWSBOT_LEASE_SECONDS": str(self.shape.lease_seconds),
            "NEWSBOT_BURST_WINDOW": "0",  # every alert its own message: counted one by one
            "NEWSBOT_DUPLICATE_WINDOW": "0",
            # The stories' links lead nowhere on this machine: no article is fetched.
            "NEWSBOT_ARTICLE_FETCH": "off",
            "LOG_LEVEL": "WARNING",
        }
        if self.discord is not None:
            env.update(self.discord.env())
        if self.slack is not None:
            env.update(
                {
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_APP_TOKEN": APP_TOKEN,
                    "SLACK_API_URL": self.slack.api_url,
                }
            )
        return env

    async def start(self, slot: int) -> None:
        log = (self.workdir / f"newsbot-{slot}.log").open("ab")
        self.logs[slot] = log
        self.procs[slot] = await start_newsbot(
            self.env(), self.workdir, stdout=log, stderr=asyncio.subprocess.STDOUT
        )

    async def run(self, processes: int) -> None:
        for slot in range(processes):
            await self.start(slot)

    def _note_rss(self, proc: asyncio.subprocess.Process) -> None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                self.peak_rss[proc.pid] = int(line.split()[1])

    def note_memory(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                self._note_rss(proc)

    async def kill_one(self) -> int:
        """SIGKILL a process picked at random (no chance to finish anything); its slot."""
        slot = self.random.choice(sorted(self.procs))
        proc = self.procs[slot]
        self._note_rss(proc)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        self.kills += 1
        return slot

    async def stop_all(self) -> list[int]:
        """SIGTERM every process and wait for it: after this nothing more can arrive."""
        self.note_memory()
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.terminate()
        codes = []
        async with asyncio.timeout(30):
            for proc in self.procs.values():
                codes.append(await proc.wait())
        for log in self.logs.values():
            log.close()
        return codes

    def log_text(self) -> str:
        return "\n".join(
            (self.workdir / f"newsbot-{slot}.log").read_text(errors="replace")[-3000:]
            for slot in sorted(self.logs)
        )

    # -- what the fakes got ------------------------------------------------------------

    def _new_messages(self) -> Iterable[tuple[str, list[tuple[str, float]]]]:
        """(platform:channel, [(message as text, when the fake received it)]) for the
        messages not looked at yet; each is looked at once."""
        if self.discord is not None:
            received = self.discord.received_at
            for channel_id, messages in self.discord.messages.items():
                key = f"discord:{channel_id}"
                fresh = messages[self._counted[key] :]
                self._counted[key] += len(fresh)
                yield key, [(repr(m), received[str(m["id"])]) for m in fresh]
        if self.slack is not None:
            fresh_posts = self.slack.posted[self._counted["slack"] :]
            self._counted["slack"] += len(fresh_posts)
            by_channel: dict[str, list[tuple[str, float]]] = defaultdict(list)
            for posted in fresh_posts:
                by_channel[f"slack:{posted.channel}"].append((repr(posted), posted.at))
            yield from by_channel.items()

    def _stamp_new(self) -> None:
        """Map the messages the fakes got since the last look to their stories, with the
        time each fake received each one."""
        for key, messages in self._new_messages():
            for text, at in messages:
                found = STORY_LINK.search(text)
                story = int(found.group(1)) if found else -1
                self.seen[(key, str(story))].append((story, at))
                self._arrived.set()

    async def _stamp(self) -> None:
        # The fakes stamp each message as it arrives; this only maps them to stories,
        # and wakes wait_delivered.
        while True:
            self._stamp_new()
            await asyncio.sleep(0.01)

    def delivered(self) -> int:
        self._stamp_new()
        return sum(1 for key, hits in self.seen.items() if hits and key[1] != "-1")

    async def wait_delivered(self, count: int, timeout: float) -> None:
        try:
            async with asyncio.timeout(timeout):
                while self.delivered() < count:
                    self._arrived.clear()
                    await self._arrived.wait()
        except TimeoutError:
            # Say what is missing, so a failure names the channels and stories to look at.
            raise AssertionError(
                f"{self.delivered()} of {count} alerts delivered after {timeout} s; "
                f"missing: {self.missing()[:20]}\n{self.log_text()}"
            ) from None

    def missing(self) -> list[str]:
        """The published (channel, story) pairs no fake has received yet."""
        self._stamp_new()
        return [
            f"{p.channel.platform}:{p.channel.channel}/{p.story}"
            for p in self.published
            if not self.seen.get((f"{p.channel.platform}:{p.channel.channel}", str(p.story)))
        ]

    def outcome(self, window: float = 1.0) -> Outcome:
        """Lost, duplicated, latency and the busiest window, counted at the fakes."""
        self._stamp_new()
        if self._stamper is not None:
            self._stamper.cancel()
        expected = {
            (f"{p.channel.platform}:{p.channel.channel}", str(p.story)): p for p in self.published
        }
        latencies = []
        duplicated = 0
        for key, published in expected.items():
            hits = self.seen.get(key, [])
            if hits:
                latencies.append(hits[0][1] - published.at)
            duplicated += max(0, len(hits) - 1)
        unexpected = [k for k in self.seen if k not in expected]
        lost = sum(1 for key in expected if not self.seen.get(key))
        most = self.busiest(window)
        limited = len(self.discord.rate_limited) if self.discord is not None else 0
        limited += len(self.slack.rate_limited) if self.slack is not None else 0
        return Outcome(
            expected=len(expected),
            delivered=len(expected) - lost,
            lost=lost,
            duplicated=duplicated + len(unexpected),
            latencies=sorted(latencies),
            most_in_window=most,
            rate_limited=limited,
        )

    def busiest(self, window: float) -> dict[str, int]:
        """Per platform: the most messages one channel received within `window` seconds,
        by the times the fakes received them (send-to-arrival jitter included)."""
        arrivals: dict[str, list[float]] = defaultdict(list)
        for (channel_key, _), hits in self.seen.items():
            arrivals[channel_key] += [at for _, at in hits]
        most: dict[str, int] = defaultdict(int)
        for channel_key, times in arrivals.items():
            platform = channel_key.split(":")[0]
            most[platform] = max(most[platform], _most_within(sorted(times), window))
        return dict(most)

    async def close(self) -> None:
        if self._stamper is not None:
            self._stamper.cancel()
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await self.farm.stop()


def _most_within(times: list[float], window: float) -> int:
    """The most of `times` (sorted) inside any `window` seconds."""
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(share * len(values)))]
