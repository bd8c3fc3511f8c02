"""Feeds added from chat cannot reach loopback, private or other non-public addresses.

Everything stays on this machine: the address policy is told to treat 127.0.0.2 as
"public" (a feed server listens there), while 127.0.0.1, where an "internal" server
listens, stays forbidden like every other loopback address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from bot.core.clock import SystemClock
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel
from bot.core.ports import FeedRejected
from bot.feeds.fetch import Fetcher, UnsafeURLError
from bot.feeds.netguard import AddressPolicy, GuardedConnector
from bot.feeds.probe import HttpFeedProbe
from bot.feeds.watcher import Watcher
from bot.store import open_sqlite
from tests.support.feed_server import FeedServer, rss

PUBLIC_FOR_TESTS = AddressPolicy(allow=(ipaddress.ip_network("127.0.0.2/32"),))
STORY = ("a1", "Ceasefire talks resume", "Delegations met in Geneva.")


class ScriptedResolver(AbstractResolver):
    """A DNS server that answers each lookup of a name with the next scripted address."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        script = self.answers[host]
        address = script.pop(0) if len(script) > 1 else script[0]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        return None


@pytest.fixture
async def public_server() -> AsyncIterator[FeedServer]:
    server = FeedServer(host="127.0.0.2")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.8.9.10", "a loopback address"),
        ("10.0.0.5", "a private address"),
        ("172.16.3.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("169.254.169.254", "a link-local address"),  # the cloud metadata service
        ("100.64.0.1", "a carrier-grade NAT address"),
        ("100.127.255.254", "a carrier-grade NAT address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("0.0.0.0", "an unspecified address"),
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("fc00::1", "a private address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a loopback address (127.0.0.1 inside an IPv6 address)"),
        ("::ffff:10.0.0.5", "a private address (10.0.0.5 inside"),
        ("64:ff9b::a00:5", "a private address (10.0.0.5 inside"),  # NAT64
        ("2002:7f00:1::", "a loopback address (127.0.0.1 inside"),  # 6to4
    ],
)
def test_the_policy_names_what_is_forbidden(address: str, kind: str) -> None:
    refusal = AddressPolicy().refusal(address)
    assert refusal is not None
    assert refusal.startswith(kind)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_the_policy_lets_public_addresses_through(address: str) -> None:
    assert AddressPolicy().refusal(address) is None


def test_an_exemption_covers_only_what_it_names() -> None:
    assert PUBLIC_FOR_TESTS.refusal("127.0.0.2") is None
    assert PUBLIC_FOR_TESTS.refusal("127.0.0.1") == "a loopback address"


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "/etc/passwd", "ftp://news.example/feed", "gopher://x/1"]
)
async def test_only_http_and_https_urls_can_be_added(url: str) -> None:
    async with Fetcher(timeout=2) as fetcher:
        with pytest.raises(UnsafeURLError, match="only http and https"):
            await fetcher.fetch(url, untrusted=True)


async def test_a_loopback_literal_is_refused_before_any_connection(
    feed_server: FeedServer,
) -> None:
    internal = feed_server.serve("/admin.rss", rss(STORY))
    mapped = internal.replace("127.0.0.1", "[::ffff:127.0.0.1]")
    async with Fetcher(timeout=2) as fetcher:
        with pytest.raises(UnsafeURLError, match=r"^refused: 127\.0\.0\.1 is a loopback address$"):
            await fetcher.fetch(internal, untrusted=True)
        with pytest.raises(UnsafeURLError, match="a loopback address"):
            await fetcher.fetch(mapped, untrusted=True)
    assert feed_server.hits("/admin.rss") == []


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("2130706433", "2130706433 is an IP address written in an unusual form"),
        ("0x7f000001", "0x7f000001 is an IP address written in an unusual form"),
        ("127.1", "127.1 is an IP address written in an unusual form"),
        ("0177.0.0.1", "0177.0.0.1 is an IP address written in an unusual form"),
        ("[::1]", "::1 is a loopback address"),
        ("[0:0:0:0:0:ffff:7f00:1]", "::ffff:7f00:1 is a loopback address"),
        ("[fe80::1%25eth0]", "fe80::1%eth0 is a link-local address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
    ],
)
async def test_odd_spellings_of_internal_addresses_are_refused(host: str, reason: str) -> None:
    async with Fetcher(timeout=2) as fetcher:
        with pytest.raises(UnsafeURLError) as caught:
            await fetcher.fetch(f"http://{host}:9/feed.rss", untrusted=True)
    assert str(caught.value).startswith(f"refused: {reason}")


async def test_operator_feeds_are_trusted_and_may_be_local(feed_server: FeedServer) -> None:
    internal = feed_server.serve("/intranet.rss", rss(STORY))
    async with Fetcher(timeout=2) as fetcher:
        result = await fetcher.fetch(internal)
    assert b"Ceasefire" in result.body


async def test_a_redirect_from_a_public_host_to_loopback_is_refused(
    public_server: FeedServer, feed_server: FeedServer
) -> None:
    internal = feed_server.serve("/admin.rss", rss(STORY))
    start = public_server.redirect("/feed.rss", internal)
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        with pytest.raises(UnsafeURLError) as caught:
            await fetcher.fetch(start, untrusted=True)
    assert str(caught.value) == ("refused: 127.0.0.1 is a loopback address (reached by a redirect)")
    assert len(public_server.hits("/feed.rss")) == 1
    assert feed_server.hits("/admin.rss") == []


async def test_a_redirect_to_a_name_that_resolves_to_loopback_is_refused(
    public_server: FeedServer, feed_server: FeedServer
) -> None:
    internal = feed_server.serve("/admin.rss", rss(STORY)).replace("127.0.0.1", "localhost")
    start = public_server.redirect("/feed.rss", internal)
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        with pytest.raises(UnsafeURLError, match=r"refused: localhost resolves to .*loopback"):
            await fetcher.fetch(start, untrusted=True)
    assert feed_server.hits("/admin.rss") == []


async def test_a_dns_answer_that_turns_private_is_refused_at_connect(
    public_server: FeedServer, feed_server: FeedServer
) -> None:
    public_server.serve("/feed.rss", rss(STORY))
    feed_server.serve("/feed.rss", rss(("x", "Internal only", "secret")))
    # First the public address (the check a user's `/news feed add` passes), then a
    # rebinding to loopback for the next poll.
    dns = ScriptedResolver({"news.example": ["127.0.0.2", "127.0.0.1"]})
    url = f"http://news.example:{public_server.port}/feed.rss"
    assert feed_server.port != public_server.port
    internal_url = f"http://news.example:{feed_server.port}/feed.rss"
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS, resolver=dns) as fetcher:
        first = await fetcher.fetch(url, untrusted=True)
        with pytest.raises(UnsafeURLError) as caught:
            await fetcher.fetch(internal_url, untrusted=True)
    assert b"Ceasefire" in first.body
    assert str(caught.value) == ("refused: news.example resolves to 127.0.0.1, a loopback address")
    assert dns.lookups == ["news.example", "news.example"]  # no cached answer reused
    assert feed_server.hits("/feed.rss") == []


async def test_a_chat_added_feed_is_guarded_on_every_poll_not_only_when_added(
    tmp_path: Path, public_server: FeedServer
) -> None:
    public_server.serve("/feed.rss", rss(STORY))
    dns = ScriptedResolver({"news.example": ["127.0.0.2", "127.0.0.1"]})
    url = f"http://news.example:{public_server.port}/feed.rss"
    store = await open_sqlite(str(tmp_path / "bot.db"))
    try:
        async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS, resolver=dns) as fetcher:
            probed = await HttpFeedProbe(fetcher).probe(url)  # `/news feed add`: public
        feed, _ = await store.attach_feed(
            probed.url, Channel("console", "local", "newsroom"), added_by="someone"
        )
        assert not feed.trusted
        # A later poll (a fresh connection) meets the rebound answer.
        async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS, resolver=dns) as fetcher:
            watcher = Watcher(
                store=store, index=SubscriptionIndex(), fetcher=fetcher, clock=SystemClock()
            )
            await watcher.refresh_feed(feed)
        (polled,) = await store.list_feeds()
    finally:
        await store.close()
    assert polled.last_error == "refused: news.example resolves to 127.0.0.1, a loopback address"
    assert len(public_server.hits("/feed.rss")) == 1  # the probe's fetch only


async def test_the_connected_peer_is_checked_even_if_resolution_was_not(
    feed_server: FeedServer,
) -> None:
    # The last layer on its own: a connector whose resolver lies unchecked still
    # refuses the connection by the address it actually reached.
    feed_server.serve("/feed.rss", rss(STORY))
    lying = ScriptedResolver({"news.example": ["127.0.0.1"]})
    connector = GuardedConnector(PUBLIC_FOR_TESTS, resolver=lying, use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        with pytest.raises(UnsafeURLError) as caught:
            await session.get(f"http://news.example:{feed_server.port}/feed.rss")
    assert str(caught.value) == ("refused: news.example connected to 127.0.0.1, a loopback address")
    assert feed_server.hits("/feed.rss") == []


async def test_adding_a_public_feed_probes_it(public_server: FeedServer) -> None:
    url = public_server.serve("/world.rss", rss(STORY, title="World Desk"))
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        probed = await HttpFeedProbe(fetcher).probe(url)
    assert (probed.url, probed.title, probed.entries) == (url, "World Desk", 1)


async def test_a_link_as_slack_sends_it_is_probed_as_the_plain_url(
    public_server: FeedServer,
) -> None:
    url = public_server.serve("/world.rss", rss(STORY, title="World Desk"))
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        probed = await HttpFeedProbe(fetcher).probe(f"<{url}|{url}>")
    assert probed.url == url


async def test_a_feed_that_moved_for_good_is_stored_at_its_new_address(
    public_server: FeedServer,
) -> None:
    new = public_server.serve("/v2/world.rss", rss(STORY))
    old = public_server.redirect("/world.rss", new, status=301)
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        probed = await HttpFeedProbe(fetcher).probe(old)
    assert probed.url == new


async def test_probing_a_private_address_says_why_in_one_line(feed_server: FeedServer) -> None:
    url = feed_server.serve("/feed.rss", rss(STORY))
    async with Fetcher(timeout=2) as fetcher:
        with pytest.raises(FeedRejected) as caught:
            await HttpFeedProbe(fetcher).probe(url)
    assert str(caught.value) == "refused: 127.0.0.1 is a loopback address"


async def test_probing_a_page_that_is_not_a_feed_says_so(public_server: FeedServer) -> None:
    url = public_server.serve(
        "/index.html",
        "<!DOCTYPE html><html><body><h1>News</h1></body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        with pytest.raises(FeedRejected) as caught:
            await HttpFeedProbe(fetcher).probe(url)
    assert str(caught.value) == (
        f"{url} is not an RSS, Atom or RDF feed: the address serves an HTML page"
    )


def page_naming(feed: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>World Desk</title>"
        '<link rel="stylesheet" href="/site.css">'
        f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{feed}">'
        "</head><body><h1>News</h1></body></html>"
    )


async def test_a_site_address_is_probed_as_the_feed_its_page_names(
    public_server: FeedServer,
) -> None:
    feed = public_server.serve("/feeds/world.rss", rss(STORY, title="World Desk"))
    page = public_server.serve(
        "/", page_naming("/feeds/world.rss"), headers={"Content-Type": "text/html"}
    )
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        probed = await HttpFeedProbe(fetcher).probe(page)
    assert (probed.url, probed.title, probed.entries) == (feed, "World Desk", 1)


async def test_a_page_naming_a_feed_on_an_internal_address_is_refused(
    public_server: FeedServer, feed_server: FeedServer
) -> None:
    internal = feed_server.serve("/feed.rss", rss(STORY))
    page = public_server.serve("/", page_naming(internal), headers={"Content-Type": "text/html"})
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        with pytest.raises(FeedRejected) as caught:
            await HttpFeedProbe(fetcher).probe(page)
    assert str(caught.value) == "refused: 127.0.0.1 is a loopback address"
    assert feed_server.hits("/feed.rss") == []


async def test_a_page_naming_something_that_is_no_feed_says_which(
    public_server: FeedServer,
) -> None:
    public_server.serve(
        "/other.html", "<html><body>no</body></html>", headers={"Content-Type": "text/html"}
    )
    page = public_server.serve(
        "/", page_naming("/other.html"), headers={"Content-Type": "text/html"}
    )
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        with pytest.raises(FeedRejected) as caught:
            await HttpFeedProbe(fetcher).probe(page)
    assert str(caught.value) == (
        f"{page} names the feed {public_server.url('/other.html')}, which is not an RSS, "
        "Atom or RDF feed: the address serves an HTML page"
    )


async def test_probing_a_missing_feed_reports_the_http_status(public_server: FeedServer) -> None:
    url = public_server.url("/nothing-here.rss")
    async with Fetcher(timeout=2, policy=PUBLIC_FOR_TESTS) as fetcher:
        with pytest.raises(FeedRejected, match=r"could not fetch .*: HTTP 404 Not Found"):
            await HttpFeedProbe(fetcher).probe(url)
