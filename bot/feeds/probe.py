"""`/news feed add` asks this whether a URL from chat may become a feed.

The URL is fetched as untrusted (http(s) only, public addresses only, every redirect and
the connected peer checked: bot/feeds/netguard.py) and must parse as a feed before it is
stored. People often paste a site's address rather than its feed's: when the page names
its feed (`<link rel="alternate" type="application/rss+xml">`, the autodiscovery
convention browsers and feed readers follow), that feed is probed instead, as untrusted
as the page. Every refusal is one line saying why, for the person who asked.
"""

from __future__ import annotations

import asyncio
import logging
from html.parser import HTMLParser
from urllib.parse import urljoin

from bot.core.ports import FeedRejected, ProbedFeed
from bot.feeds.fetch import MAX_URL, Fetcher, FetchError, FetchResult, UnsafeURLError
from bot.feeds.parse import FeedParseError, ParsedFeed, parse_feed

log = logging.getLogger(__name__)

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml"}
)
# Autodiscovery links sit in <head>: the first half megabyte of a page is plenty.
MAX_PAGE_SCAN = 512 * 1024


class _FeedLinkFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link" or self.href is not None:
            return
        found = {k: (v or "") for k, v in attrs}
        rel = found.get("rel", "").lower().split()
        kind = found.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rel and kind in FEED_TYPES and found.get("href"):
            self.href = found["href"].strip()


def feed_link_in_page(body: bytes, page_url: str) -> str | None:
    """The first feed a page advertises, as an absolute URL."""
    finder = _FeedLinkFinder()
    finder.feed(body[:MAX_PAGE_SCAN].decode("utf-8", errors="replace"))
    finder.close()
    return urljoin(page_url, finder.href) if finder.href else None


class HttpFeedProbe:
    """The FeedProbe of bot/core/ports/probe.py, over the bot's own Fetcher."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    async def probe(self, url: str) -> ProbedFeed:
        url = url.strip()
        if url.startswith("<") and url.endswith(">"):
            # Slack sends a pasted link as <https://...> or <https://...|label>.
            url = url[1:-1].split("|", 1)[0]
        if len(url) > MAX_URL:
            raise FeedRejected(f"refused: the URL is longer than {MAX_URL} characters")
        result = await self._fetch(url)
        try:
            parsed = await self._parse(result)
        except FeedParseError as exc:
            advertised = feed_link_in_page(result.body, result.url)
            if advertised is None or advertised in (url, result.url):
                raise FeedRejected(f"{url} is not an RSS, Atom or RDF feed: {exc.detail}") from None
            log.info("page names its feed %s", advertised, extra={"feed_url": url})
            return await self._probe_advertised(url, advertised)
        return ProbedFeed(
            url=result.permanent_url or url, title=parsed.title, entries=len(parsed.entries)
        )

    async def _probe_advertised(self, page: str, url: str) -> ProbedFeed:
        """The feed a page names; one step only, so two pages cannot send us in circles."""
        result = await self._fetch(url)
        try:
            parsed = await self._parse(result)
        except FeedParseError as exc:
            raise FeedRejected(
                f"{page} names the feed {url}, which is not an RSS, Atom or RDF feed: {exc.detail}"
            ) from None
        return ProbedFeed(
            url=result.permanent_url or url, title=parsed.title, entries=len(parsed.entries)
        )

    async def _fetch(self, url: str) -> FetchResult:
        try:
            return await self.fetcher.fetch(url, untrusted=True)
        except UnsafeURLError as exc:
            log.info("feed refused: %s", exc, extra={"feed_url": url})
            raise FeedRejected(str(exc)) from None
        except FetchError as exc:
            raise FeedRejected(f"could not fetch {url}: {exc}") from None

    async def _parse(self, result: FetchResult) -> ParsedFeed:
        # Off the event loop: a large feed takes a while to parse, and chat platforms
        # want their answer within seconds.
        return await asyncio.to_thread(parse_feed, result.body, result.headers, base_url=result.url)
