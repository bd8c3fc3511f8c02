"""Fetching limits, against a local feed server: deadlines, size caps, redirects, encodings."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc

import brotli
import pytest
from aiohttp import web

from bot import __version__
from bot.feeds.fetch import (
    Fetcher,
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    FetchTooLarge,
    FetchTooManyRedirects,
)
from tests.support.feed_server import FeedServer, rss

MiB = 1024 * 1024
STORY = ("a1", "Ceasefire talks resume", "Delegations met in Geneva.")


async def test_sends_a_user_agent_naming_the_bot_and_accepts_gzip_and_brotli(
    feed_server: FeedServer,
) -> None:
    url = feed_server.serve("/plain.rss", rss(STORY))
    async with Fetcher(timeout=5) as fetcher:
        result = await fetcher.fetch(url)
    request = feed_server.hits("/plain.rss")[0]
    assert f"newsbot/{__version__}" in request.headers["User-Agent"]
    accepted = {e.strip() for e in request.headers["Accept-Encoding"].split(",")}
    assert {"gzip", "br"} <= accepted
    assert b"Ceasefire talks resume" in result.body


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("br", brotli.compress)],
)
async def test_compressed_feeds_arrive_decompressed(
    feed_server: FeedServer, encoding: str, compress: object
) -> None:
    document = rss(STORY).encode()
    assert callable(compress)
    url = feed_server.serve(
        "/packed.rss",
        compress(document),
        headers={"Content-Encoding": encoding, "Content-Type": "application/rss+xml"},
    )
    async with Fetcher(timeout=5) as fetcher:
        result = await fetcher.fetch(url)
    assert result.body == document


@pytest.mark.parametrize(
    ("encoding", "bomb"),
    [
        # 64 MiB of zeros, about 65 KB on the wire; the cap is 1 MiB.
        ("gzip", lambda: gzip.compress(bytes(64 * MiB), compresslevel=9)),
        ("br", lambda: brotli.compress(bytes(64 * MiB), quality=5)),
    ],
)
async def test_a_compression_bomb_stops_at_the_cap_on_decompressed_bytes(
    feed_server: FeedServer, encoding: str, bomb: object
) -> None:
    assert callable(bomb)
    payload = bomb()
    assert len(payload) < MiB  # small on the wire: only the decompressed size is over
    url = feed_server.serve(
        "/bomb.rss",
        payload,
        headers={"Content-Encoding": encoding, "Content-Type": "application/rss+xml"},
    )
    async with Fetcher(timeout=10, max_bytes=MiB) as fetcher:
        tracemalloc.start()
        try:
            with pytest.raises(FetchTooLarge, match="larger than 1048576 bytes"):
                await fetcher.fetch(url)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    # Decompressing the whole bomb would have held 64 MiB at once.
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB while reading a bomb"


async def test_a_declared_length_over_the_cap_is_refused_before_reading(
    feed_server: FeedServer,
) -> None:
    url = feed_server.serve("/big.rss", b"x" * (2 * MiB))
    async with Fetcher(timeout=5, max_bytes=MiB) as fetcher:
        with pytest.raises(FetchTooLarge):
            await fetcher.fetch(url)


async def test_a_server_that_never_answers_times_out_while_other_feeds_arrive(
    feed_server: FeedServer,
) -> None:
    silent = feed_server.hang("/silent.rss")
    good = [feed_server.serve(f"/good{i}.rss", rss(STORY)) for i in range(3)]
    finished: list[str] = []

    async def fetch(fetcher: Fetcher, url: str) -> None:
        try:
            await fetcher.fetch(url)
            finished.append(url)
        except FetchTimeout:
            finished.append("timeout:" + url)

    async with Fetcher(timeout=0.5) as fetcher:
        await asyncio.gather(fetch(fetcher, silent), *(fetch(fetcher, u) for u in good))
    assert set(finished[:3]) == set(good)
    assert finished[3] == "timeout:" + silent


async def test_a_body_trickling_forever_hits_the_total_deadline(feed_server: FeedServer) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b"<?xml version='1.0'?><rss><channel>")
        for _ in range(200):  # bounded: stops by itself if the client does not hang up
            await asyncio.sleep(0.05)
            await response.write(b" ")
        return response

    url = feed_server.handle("/trickle.rss", trickle)
    async with Fetcher(timeout=0.5) as fetcher:
        with pytest.raises(FetchTimeout, match=r"timed out after 0\.5 s"):
            await fetcher.fetch(url)


async def test_five_redirects_are_followed_and_a_sixth_is_refused(
    feed_server: FeedServer,
) -> None:
    feed_server.serve("/feed.rss", rss(STORY))
    for i in range(6):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}" if i < 5 else "/feed.rss")
    async with Fetcher(timeout=5) as fetcher:
        five = await fetcher.fetch(feed_server.url("/r1"))  # r1..r5: five redirects
        assert five.url == feed_server.url("/feed.rss")
        with pytest.raises(FetchTooManyRedirects, match="more than 5 redirects"):
            await fetcher.fetch(feed_server.url("/r0"))  # six


@pytest.mark.parametrize("location", ["http://[::1", "http://news.example:99999/"])
async def test_a_redirect_to_a_broken_url_is_a_fetch_error(
    feed_server: FeedServer, location: str
) -> None:
    url = feed_server.redirect("/broken.rss", location)
    async with Fetcher(timeout=5) as fetcher:
        with pytest.raises(FetchError, match="a redirect to an invalid URL"):
            await fetcher.fetch(url)


async def test_only_permanent_redirects_move_the_feed(feed_server: FeedServer) -> None:
    feed_server.serve("/new.rss", rss(STORY))
    feed_server.redirect("/moved.rss", "/new.rss", status=301)
    feed_server.redirect("/detour.rss", "/new.rss", status=302)
    async with Fetcher(timeout=5) as fetcher:
        moved = await fetcher.fetch(feed_server.url("/moved.rss"))
        detour = await fetcher.fetch(feed_server.url("/detour.rss"))
    assert moved.permanent_url == feed_server.url("/new.rss")
    assert detour.permanent_url is None
    assert detour.url == feed_server.url("/new.rss")


async def test_conditional_get_sends_validators_and_a_304_has_no_body(
    feed_server: FeedServer,
) -> None:
    url = feed_server.serve("/same.rss", b"", status=304)
    async with Fetcher(timeout=5) as fetcher:
        result = await fetcher.fetch(
            url, etag='"v1"', last_modified="Mon, 27 Dec 2021 14:10:00 GMT"
        )
    request = feed_server.hits("/same.rss")[0]
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == "Mon, 27 Dec 2021 14:10:00 GMT"
    assert result.not_modified
    assert result.body == b""
    assert result.etag == '"v1"'


async def test_an_http_error_keeps_its_status_and_retry_after(feed_server: FeedServer) -> None:
    url = feed_server.serve("/busy.rss", "slow down", status=503, headers={"Retry-After": "120"})
    async with Fetcher(timeout=5) as fetcher:
        with pytest.raises(FetchHTTPError, match="HTTP 503") as caught:
            await fetcher.fetch(url)
    assert caught.value.status == 503
    assert caught.value.retry_after == "120"
