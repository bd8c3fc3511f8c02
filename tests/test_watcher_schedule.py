"""Conditional GET, when each feed is checked next, and how many fetches run at once."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from pathlib import Path

import pytest
from aiohttp import web

import bot.feeds.read_document as read_document_module
from bot.feeds.parse import parse_feed
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import Bot, running_bot

NATO = Item("NATO ministers meet in Brussels over Ukraine", "https://wire.example/nato", "n1")
SNOW = Item("Heavy snow disrupts flights in Japan", "https://wire.example/snow", "s1")


class Publisher:
    """A feed server that honours If-None-Match / If-Modified-Since like a real one."""

    def __init__(self, server: FeedServer, path: str, *, etag: bool = True) -> None:
        self.server = server
        self.path = path
        self.use_etag = etag
        self.body = b""
        self.answers: list[int] = []
        self.url = server.handle(path, self._answer)

    def publish(self, *items: Item, headers: dict[str, str] | None = None) -> None:
        self.body = rss_doc(*items).encode()
        self.extra = headers or {}

    @property
    def tag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:12] + '"'

    @property
    def modified(self) -> str:
        return f"Mon, 27 Dec 2021 14:{len(self.body) % 60:02d}:00 GMT"

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        validators = {"ETag": self.tag} if self.use_etag else {"Last-Modified": self.modified}
        fresh = (
            request.headers.get("If-None-Match") == self.tag
            if self.use_etag
            else request.headers.get("If-Modified-Since") == self.modified
        )
        if fresh:
            self.answers.append(304)
            return web.Response(status=304, headers={**validators, **self.extra})
        self.answers.append(200)
        return web.Response(
            body=self.body,
            headers={**validators, **self.extra},
            content_type="application/rss+xml",
        )


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times the watcher parsed a feed body."""
    count: Counter[str] = Counter()

    def counting(*args: object, **kwargs: object) -> object:
        count["parse"] += 1
        return parse_feed(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(read_document_module, "parse_feed", counting)
    return count


@pytest.mark.parametrize("etag", [True, False], ids=["etag", "last-modified"])
async def test_a_304_round_trip_costs_no_parsing(
    tmp_path: Path, feed_server: FeedServer, parses: Counter[str], etag: bool
) -> None:
    wire = Publisher(feed_server, "/wire.rss", etag=etag)
    wire.publish(SNOW)
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(wire.url)
        await bot.poll()
        await bot.next_cycle()
        await bot.next_cycle()
        assert wire.answers == [200, 304, 304]
        [first, second, _] = feed_server.hits("/wire.rss")
        header = "If-None-Match" if etag else "If-Modified-Since"
        assert header not in first.headers
        assert second.headers[header] == (wire.tag if etag else wire.modified)
        assert parses["parse"] == 1

        wire.publish(NATO, SNOW)
        await bot.next_cycle()
        assert wire.answers[-1] == 200
        assert parses["parse"] == 2
        assert [a.title for a in await bot.delivered()] == [NATO.title]


async def test_the_same_bytes_from_a_server_without_validators_cost_no_parsing(
    tmp_path: Path, feed_server: FeedServer, parses: Counter[str]
) -> None:
    url = feed_server.serve("/plain.rss", rss_doc(SNOW))
    async with running_bot(tmp_path) as bot:
        await bot.operator_feed(url)
        await bot.poll()
        await bot.next_cycle()
        assert len(feed_server.hits("/plain.rss")) == 2
        assert parses["parse"] == 1


async def seconds_until_next_request(bot: Bot, server: FeedServer, path: str) -> float:
    """Advance the clock in 10 s steps until the watcher asks for `path` again."""
    before = len(server.hits(path))
    waited = 0.0
    while len(server.hits(path)) == before:
        assert waited < 10 * 86400, "never asked again"
        await bot.later(10)
        waited += 10
    return waited


@pytest.mark.parametrize(
    ("headers", "ttl", "status", "expected"),
    [
        ({}, None, 200, 60),
        ({"Cache-Control": "public, max-age=600"}, None, 200, 600),
        ({}, 30, 200, 1800),  # <ttl> is in minutes
        ({"Cache-Control": "max-age=120"}, 30, 200, 1800),  # the latest wins
        ({"Retry-After": "900"}, None, 429, 900),
        ({"Retry-After": "900"}, None, 503, 900),
        ({"Cache-Control": "max-age=31536000"}, None, 200, 3600),  # clamped
        ({"Retry-After": "99999999"}, None, 429, 3600),  # clamped
    ],
    ids=["interval", "max-age", "ttl", "ttl-over-max-age", "429", "503", "clamp", "clamp-retry"],
)
async def test_next_check_is_the_latest_of_interval_ttl_max_age_and_retry_after_clamped(
    tmp_path: Path,
    feed_server: FeedServer,
    headers: dict[str, str],
    ttl: int | None,
    status: int,
    expected: int,
) -> None:
    body = rss_doc(SNOW, ttl=ttl) if status == 200 else ""
    url = feed_server.serve("/f.rss", body, status=status, headers=headers)
    async with running_bot(tmp_path, poll_interval=60, max_interval=3600) as bot:
        await bot.operator_feed(url)
        await bot.poll()
        waited = await seconds_until_next_request(bot, feed_server, "/f.rss")
        # Never early; late by at most the jitter (a tenth, at most a minute) and one step.
        assert expected <= waited <= expected + min(expected / 10, 60) + 10


async def test_retry_after_as_an_http_date(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, poll_interval=60) as bot:
        when = bot.clock.now().timestamp() + 1200
        url = feed_server.serve(
            "/busy.rss", "", status=503, headers={"Retry-After": formatdate(when, usegmt=True)}
        )
        await bot.operator_feed(url)
        await bot.poll()
        waited = await seconds_until_next_request(bot, feed_server, "/busy.rss")
        assert 1190 <= waited <= 1200 + 60 + 10


class ConcurrencyMeter:
    def __init__(self) -> None:
        self.now: Counter[str] = Counter()
        self.most: Counter[str] = Counter()

    def handler(self, host: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def answer(request: web.Request) -> web.StreamResponse:
            self.now[host] += 1
            self.now["all"] += 1
            self.most[host] = max(self.most[host], self.now[host])
            self.most["all"] = max(self.most["all"], self.now["all"])
            await asyncio.sleep(0.05)
            self.now[host] -= 1
            self.now["all"] -= 1
            return web.Response(body=rss_doc(SNOW), content_type="application/rss+xml")

        return answer


async def test_fetches_are_capped_overall_and_per_host(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    other = FeedServer()
    await other.start()
    meter = ConcurrencyMeter()
    try:
        async with running_bot(tmp_path, concurrency=3, per_host=2) as bot:
            for server, host in ((feed_server, "a"), (other, "b")):
                for n in range(5):
                    await bot.operator_feed(server.handle(f"/{n}.rss", meter.handler(host)))
            await bot.poll()
        assert len(feed_server.requests) == len(other.requests) == 5
        assert meter.most["a"] == meter.most["b"] == 2
        assert meter.most["all"] == 3
    finally:
        await other.stop()


async def test_a_feed_that_never_answers_does_not_hold_up_the_others(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    hung = feed_server.hang("/hung.rss")
    answered = asyncio.Event()

    async def ok(request: web.Request) -> web.StreamResponse:
        answered.set()
        return web.Response(body=rss_doc(SNOW), content_type="application/rss+xml")

    url = feed_server.handle("/ok.rss", ok)
    async with running_bot(tmp_path, poll_interval=60) as bot:
        await bot.operator_feed(hung)
        await bot.operator_feed(url)
        stop = asyncio.Event()
        task = asyncio.create_task(bot.watcher.run(stop, tick=0.01))
        try:
            for _ in range(3):
                await answered.wait()
                answered.clear()
                bot.clock.advance(70)
            assert len(feed_server.hits("/ok.rss")) == 3
            [waiting] = feed_server.hits("/hung.rss")  # asked once, not re-sent
            # Its fetch is still waiting (a fetch that gave up closes its connection), so the
            # other feed was refreshed three times while it waited, not after it.
            assert waiting.transport is not None
            assert not waiting.transport.is_closing()
        finally:
            stop.set()
            await task


async def test_a_feed_added_in_chat_that_moved_for_good_is_asked_at_its_new_address(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    new = feed_server.serve("/new.rss", rss_doc(SNOW))
    old = feed_server.redirect("/old.rss", new, status=301)
    async with running_bot(tmp_path) as bot:
        await bot.say(f"/news feed add {old}")
        await bot.poll()
        assert (await bot.feed(1)).url == new
        await bot.next_cycle()
        assert len(feed_server.hits("/old.rss")) == 1
        assert len(feed_server.hits("/new.rss")) == 2
