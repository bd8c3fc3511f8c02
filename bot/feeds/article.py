"""Reading the article behind a story's link: guarded fetch, then trafilatura's main text.

The link comes from feed content, so it is untrusted even in an operator's feed: it is
fetched with `untrusted=True` (bot/feeds/netguard.py: public addresses only, every DNS
answer, redirect hop and connected peer checked) and with the feeds' limits (size cap
after decompression, deadline, redirects), under the same per-host cap as feed polls.

trafilatura (https://trafilatura.readthedocs.io) extracts the main text: it keeps the
article's paragraphs and drops navigation, comments, share bars and footers, offline and
in tens of milliseconds (benchmarks/bench_summaries.py measures it on saved real pages).
It runs in a worker thread so chat commands are answered meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import trafilatura

from bot.core.enrichment import ARTICLE_TEXT_LIMIT, looks_like_wall
from bot.feeds.errors import FetchError
from bot.feeds.fetch import Fetcher
from bot.feeds.hosts import HostSlots

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
WALL = "paywall or consent page"


@dataclass(frozen=True, slots=True)
class ArticleText:
    """What reading one article page gave: its main text, or None and why not."""

    text: str | None
    note: str  # "ok" or the reason there is no text


def extract_text(body: bytes | str) -> str:
    """The page's main text, one paragraph a line ("" when there is none)."""
    text = trafilatura.extract(
        body,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        output_format="txt",
    )
    return text or ""


def article_from_page(body: bytes | str) -> ArticleText:
    """Extract, and refuse what is a wall in front of the article rather than the article."""
    text = extract_text(body)
    if looks_like_wall(text):
        return ArticleText(None, WALL)
    return ArticleText(text[: ARTICLE_TEXT_LIMIT * 2], "ok")


class ArticleReader:
    """Fetches and extracts article pages; `fetcher` is dedicated to articles (its
    deadline is NEWSBOT_ARTICLE_TIMEOUT) and `host_slots` the watcher's."""

    def __init__(self, fetcher: Fetcher, host_slots: HostSlots) -> None:
        self.fetcher = fetcher
        self.host_slots = host_slots

    async def read(self, url: str) -> ArticleText:
        try:
            async with self.host_slots.slot(url):
                result = await self.fetcher.fetch(url, untrusted=True)
        except FetchError as exc:
            log.info("article not fetched: %s", exc, extra={"article_url": url})
            return ArticleText(None, str(exc) or type(exc).__name__)
        kind = result.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in _HTML_TYPES:
            return ArticleText(None, f"not a web page ({kind})")
        article = await asyncio.to_thread(article_from_page, result.body)
        if article.text is None:
            log.info("article skipped: %s", article.note, extra={"article_url": url})
        return article
