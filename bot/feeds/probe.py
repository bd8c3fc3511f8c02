"""`/news feed add` asks this whether a URL from chat may become a feed.

The URL is fetched as untrusted (http(s) only, public addresses only, every redirect and
the connected peer checked: bot/feeds/netguard.py) and must parse as a feed before it is
stored. Every refusal is one line saying why, for the person who asked.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.ports import FeedRejected, ProbedFeed
from bot.feeds.fetch import MAX_URL, Fetcher, FetchError, UnsafeURLError
from bot.feeds.parse import FeedParseError, parse_feed

log = logging.getLogger(__name__)


class HttpFeedProbe:
    """The FeedProbe of bot/core/ports.py, over the bot's own Fetcher."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher

    async def probe(self, url: str) -> ProbedFeed:
        url = url.strip()
        if url.startswith("<") and url.endswith(">"):
            # Slack sends a pasted link as <https://...> or <https://...|label>.
            url = url[1:-1].split("|", 1)[0]
        if len(url) > MAX_URL:
            raise FeedRejected(f"refused: the URL is longer than {MAX_URL} characters")
        try:
            result = await self.fetcher.fetch(url, untrusted=True)
        except UnsafeURLError as exc:
            log.info("feed refused: %s", exc, extra={"feed_url": url})
            raise FeedRejected(str(exc)) from None
        except FetchError as exc:
            raise FeedRejected(f"could not fetch {url}: {exc}") from None
        try:
            # Off the event loop: a large feed takes a while to parse, and chat platforms
            # want their answer within seconds.
            parsed = await asyncio.to_thread(
                parse_feed, result.body, result.headers, base_url=result.url
            )
        except FeedParseError as exc:
            raise FeedRejected(f"{url} is not an RSS, Atom or RDF feed: {exc.detail}") from None
        return ProbedFeed(
            url=result.permanent_url or url, title=parsed.title, entries=len(parsed.entries)
        )
