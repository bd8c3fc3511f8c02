"""A bot whose delivery enriches alerts: the watcher, the store, a dispatcher with an
Enricher (real ArticleReader over the guarded fetcher, optionally the fake model), and a
notifier that records what each channel was sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from bot.core.models import Alert, Channel
from bot.core.ports import SendResult
from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher
from bot.delivery.enrich import Enricher, EnrichPolicy
from bot.delivery.holds import BurstPolicy
from bot.delivery.llm import ChatModel, ModelSettings
from bot.feeds.article import ArticleReader
from bot.feeds.fetch import DEFAULT_MAX_BYTES, Fetcher
from bot.feeds.hosts import HostSlots
from tests.support.article_pages import PUBLIC_FOR_TESTS, ArticleSite
from tests.support.fake_llm import FakeLLM
from tests.support.feed_server import FeedServer
from tests.support.watch import NEWSROOM, Bot, running_bot


@dataclass(frozen=True, slots=True)
class Item:
    guid: str
    title: str
    link: str
    description: str = ""


def rss(items: Sequence[Item], *, language: str | None = None) -> str:
    """An RSS 2.0 document with these items (and the channel's <language> if given)."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{escape(i.guid)}</guid>"
        f"<title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
        f"<description>{escape(i.description)}</description>"
        "<pubDate>Mon, 27 Dec 2021 14:10:00 GMT</pubDate></item>"
        for i in items
    )
    lang = f"<language>{language}</language>" if language else ""
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>World Wire</title><link>https://news.example/</link>{lang}{body}"
        "</channel></rss>"
    )


@dataclass
class Inbox:
    """The console platform's notifier: what each channel received, in order."""

    platform: str = "console"
    sent: list[Alert] = field(default_factory=list)

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        self.sent.append(alert)
        return SendResult(remote_id=f"m{alert.id}")

    def to(self, channel: Channel = NEWSROOM) -> list[Alert]:
        return [a for a in self.sent if a.channel == channel]


@dataclass
class EnrichedBot:
    bot: Bot
    feeds: FeedServer
    site: ArticleSite
    enricher: Enricher
    dispatcher: Dispatcher
    inbox: Inbox
    model: FakeLLM | None

    async def story(self, items: Sequence[Item], *, language: str | None = None) -> None:
        """Serve these items in a new operator feed and poll it (alerting on all)."""
        url = self.feeds.serve(f"/feed{len(self.feeds.routes)}.xml", rss(items, language=language))
        await self.bot.operator_feed(url)
        await self.bot.poll()

    async def deliver(self) -> int:
        return await self.dispatcher.deliver_pending()


@asynccontextmanager
async def enriched_bot(
    tmp_path: Path,
    *,
    article_fetch: bool = True,
    article_timeout: float = 5.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    with_model: bool = False,
    model_timeout: float = 10.0,
    daily_limit: int = 1000,
) -> AsyncIterator[EnrichedBot]:
    site = ArticleSite()
    feeds = FeedServer()
    await site.start()
    await feeds.start()
    model = FakeLLM(api_key="sk-test") if with_model else None
    if model is not None:
        await model.start()
    # The articles' fetcher as the runtime builds it: every article untrusted, its own
    # deadline, the feeds' size cap; 127.0.0.2 stands for the public internet.
    articles = Fetcher(timeout=article_timeout, max_bytes=max_bytes, policy=PUBLIC_FOR_TESTS)
    client = (
        ChatModel(ModelSettings(model.url, "test-model", "sk-test", timeout=model_timeout))
        if model is not None
        else None
    )
    try:
        async with running_bot(tmp_path, backfill=1000) as bot:
            enricher = Enricher(
                store=bot.store,
                clock=bot.clock,
                policy=EnrichPolicy(
                    article_fetch=article_fetch,
                    article_timeout=article_timeout,
                    model_timeout=model_timeout,
                    daily_limit=daily_limit,
                ),
                articles=ArticleReader(articles, HostSlots(2)),
                model=client,
                channel_settings=bot.store.channel_settings,
            )
            inbox = Inbox()
            dispatcher = Dispatcher(
                store=bot.store,
                notifiers={"console": inbox},
                clock=bot.clock,
                # Every alert as itself: no burst folding, a whole test's worth per pass.
                policy=DeliveryPolicy(burst=BurstPolicy(window=0), per_channel_batch=100),
                enricher=enricher,
            )
            try:
                yield EnrichedBot(bot, feeds, site, enricher, dispatcher, inbox, model)
            finally:
                await enricher.close()
    finally:
        await articles.close()
        if client is not None:
            await client.close()
        if model is not None:
            await model.stop()
        await feeds.stop()
        await site.stop()
