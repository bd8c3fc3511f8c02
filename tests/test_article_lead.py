"""The article's lead when a feed gives only a headline: fetched once, guarded, never
holding an alert back."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.cli import demo
from bot.config import Settings, load_settings
from bot.core.enrichment import feed_text_useless, lead_of, looks_like_wall
from bot.core.models import Channel
from bot.feeds.article import WALL, ArticleReader, article_from_page
from bot.runtime import build_app
from tests.support.article_pages import ARTICLE, CONSENT, LEAD, PAYWALL
from tests.support.enriched import Item, enriched_bot
from tests.support.watch import NEWSROOM

TITLE = "Finland passes border bill"
DESK = Channel("console", "local", "desk")


def test_useless_feed_text_is_recognised_and_useful_text_is_not() -> None:
    assert feed_text_useless(TITLE, "")
    assert feed_text_useless(TITLE, "Read more")
    assert feed_text_useless(TITLE, "Continue reading…")
    assert feed_text_useless(TITLE, "Weiterlesen")
    assert feed_text_useless(TITLE, "Photo: Reuters")  # short: a caption
    assert feed_text_useless(TITLE, f"<p>{TITLE}</p>")  # the title again
    assert feed_text_useless(TITLE, f"{TITLE} - World Wire")
    assert not feed_text_useless(TITLE, LEAD)


def test_the_lead_skips_the_headline_byline_and_share_bar() -> None:
    text = f"{TITLE}\nBy Anna Virtanen, Helsinki\nShare on Facebook | Email\n{LEAD}\nMore."
    assert lead_of(text, TITLE).startswith(LEAD)
    assert lead_of("Home\nWorld\nSport", TITLE) == ""
    # A byline without a full stop, a sign-in prompt, a paragraph broken by <br>.
    byline = "Autori: Anna Ūdre (LTV Ziņu dienesta ārzemju ziņu redaktore)"
    prompt = "Already a member? Log in to save this article for later reading."
    broken = "Photos\nwhich were released online show the minister at the border on Tuesday."
    assert lead_of(f"{byline}\n{prompt}\n{LEAD}", TITLE).startswith(LEAD)
    assert lead_of(broken, TITLE).startswith("Photos which were released online")


def test_walls_and_teasers_are_not_articles() -> None:
    assert article_from_page(CONSENT).text is None
    assert article_from_page(PAYWALL).note == WALL
    assert looks_like_wall("Too short to be an article.")
    page = article_from_page(ARTICLE)
    assert page.text is not None
    assert not looks_like_wall(page.text)


async def test_a_headline_only_story_carries_the_articles_lead(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url("/article"))])
        assert await e.deliver() == 1
        [alert] = e.inbox.to(NEWSROOM)
        assert alert.summary.startswith(LEAD)
        assert alert.extra["summary_from"] == "article"
        # Navigation, comments and the footer are not the article.
        for noise in ("Most read", "Helmut77", "Click here", "All rights reserved"):
            assert noise not in alert.summary
        assert len(alert.summary) <= 300  # cut as feed summaries are (NEWSBOT_SUMMARY_LENGTH)


async def test_an_article_is_fetched_once_for_every_channel(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Finland")
        await e.bot.say("/news subscribe border", DESK)
        await e.story([Item("a1", TITLE, e.site.url("/article"))])
        assert await e.deliver() == 2
        assert [a.summary[:40] for a in e.inbox.sent] == [LEAD[:40]] * 2
        assert len(e.site.public.hits("/article")) == 1
        cached = await e.bot.store.cached_article(e.site.url("/article"))
        assert cached is not None
        assert cached.note == "ok"


async def test_useful_feed_text_is_kept_and_no_page_is_fetched(tmp_path: Path) -> None:
    text = "Parliament approved the bill on Tuesday with 167 votes to 31, a two-thirds majority."
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url("/article"), text)])
        await e.deliver()
        assert [a.summary for a in e.inbox.sent] == [text]
        assert e.site.public.hits("/article") == []


async def test_article_fetch_off_fetches_nothing(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, article_fetch=False) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        await e.deliver()
        assert [a.summary for a in e.inbox.sent] == ["Read more"]
        assert e.site.public.requests == []


async def test_a_channel_in_feed_mode_gets_the_feeds_text(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Finland")
        assert "feed" in await e.bot.say("/news summary feed")
        await e.story([Item("a1", TITLE, e.site.url("/article"), "Read more")])
        await e.deliver()
        assert [a.summary for a in e.inbox.sent] == ["Read more"]
        assert e.site.public.hits("/article") == []


@pytest.mark.parametrize("page", ["/consent", "/paywall"])
async def test_a_consent_wall_or_paywall_gives_no_summary(tmp_path: Path, page: str) -> None:
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url(page), "Read more")])
        assert await e.deliver() == 1
        assert [a.summary for a in e.inbox.sent] == ["Read more"]
        cached = await e.bot.store.cached_article(e.site.url(page))
        assert cached is not None
        assert (cached.text, cached.note) == (None, WALL)


async def test_a_redirect_to_a_private_address_is_refused_and_the_alert_goes_out(
    tmp_path: Path,
) -> None:
    async with enriched_bot(tmp_path) as e:
        await e.bot.say("/news subscribe Finland")
        # An operator's feed: trusted for itself, but its links are still untrusted.
        await e.story([Item("a1", TITLE, e.site.url("/to-private"), "Read more")])
        assert await e.deliver() == 1
        assert [a.summary for a in e.inbox.sent] == ["Read more"]
        assert len(e.site.public.hits("/to-private")) == 1
        assert e.site.private.requests == []  # nothing ever reached 127.0.0.1
        cached = await e.bot.store.cached_article(e.site.url("/to-private"))
        assert cached is not None
        assert cached.text is None
        assert "refused: 127.0.0.1 is a loopback address (reached by a redirect)" in cached.note


async def test_a_20_mb_page_stops_at_the_size_cap(tmp_path: Path) -> None:
    async with enriched_bot(tmp_path, max_bytes=1024 * 1024) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url("/huge"), "Read more")])
        assert await e.deliver() == 1
        assert [a.summary for a in e.inbox.sent] == ["Read more"]
        cached = await e.bot.store.cached_article(e.site.url("/huge"))
        assert cached is not None
        assert "larger than 1048576 bytes" in cached.note


async def test_a_slow_page_does_not_hold_the_alert_past_its_budget(tmp_path: Path) -> None:
    # The page never answers while the test runs: the alert can only have gone out by
    # giving up on it at the budget (a hang would fail the test at the guard below).
    async with enriched_bot(tmp_path, article_timeout=0.5) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url("/slow"), "Read more")])
        async with asyncio.timeout(30):
            assert await e.deliver() == 1
        assert [a.summary for a in e.inbox.sent] == ["Read more"]
        assert len(e.site.public.hits("/slow")) == 1


async def test_an_alert_interrupted_while_enriching_is_still_pending_and_sent_once(
    tmp_path: Path,
) -> None:
    async with enriched_bot(tmp_path, article_timeout=60) as e:
        await e.bot.say("/news subscribe Finland")
        await e.story([Item("a1", TITLE, e.site.url("/slow"), "Read more")])
        delivering = asyncio.ensure_future(e.deliver())
        await e.site.public.wait_for_hits("/slow", 1)
        delivering.cancel()  # the process stops while the page is being read
        with pytest.raises(asyncio.CancelledError):
            await delivering
        [pending] = await e.bot.store.due_deliveries(
            e.bot.clock.now(), ["console"], per_channel=10, limit=10
        )
        # Not in flight, not maybe-sent: nothing reached the platform, nothing is lost.
        assert not pending.maybe_sent
        assert e.inbox.sent == []
        # The process is gone with its work under way; the next one reads with its budget.
        await e.enricher.close()
        e.enricher.policy = type(e.enricher.policy)(article_timeout=0.2)
        assert await e.deliver() == 1
        assert await e.deliver() == 0
        assert [a.story_id for a in e.inbox.sent] == ["a1"]


async def test_newsbot_run_wires_one_per_host_cap_for_feeds_and_articles(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        newsbot_per_host_concurrency=3,
        newsbot_llm_url="http://127.0.0.1:9/v1/chat/completions",
        newsbot_llm_model="local",
    )
    app = await build_app(settings, [], feed_urls=[])
    try:
        enricher = app.dispatcher.enricher
        assert enricher is not None
        reader = enricher.articles
        assert isinstance(reader, ArticleReader)
        assert reader.host_slots is app.watcher.host_slots
        assert reader.host_slots.per_host == 3
        # Articles are fetched with their own deadline, the feeds' size cap.
        assert reader.fetcher.timeout == settings.newsbot_article_timeout
        assert reader.fetcher.max_bytes == settings.newsbot_max_feed_bytes
        assert enricher.model is not None
    finally:
        await app.close()


async def test_without_a_model_url_no_model_is_configured(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    app = await build_app(settings, [], feed_urls=[])
    try:
        assert app.dispatcher.enricher is not None
        assert app.dispatcher.enricher.model is None
    finally:
        await app.close()


async def test_the_demo_stays_offline(tmp_path: Path) -> None:
    out = io.StringIO()
    settings = load_settings(_env_file=None, newsbot_llm_url="http://127.0.0.1:9/v1/chat")
    # Settings the demo copies, with enrichment on; it must turn both off.
    captured: list[Settings] = []

    async def spy(settings: Settings, *args: object, **kwargs: object) -> object:
        captured.append(settings)
        return await build_app(settings, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "build_app", spy)
        assert await demo.run_demo(settings, out) == 0
    [used] = captured
    assert used.newsbot_article_fetch == "off"
    assert used.newsbot_llm_url is None


async def test_a_burst_of_slow_pages_waits_one_budget_in_all(tmp_path: Path) -> None:
    # 60 alerts of one channel whose pages never answer, a budget of 1 s each: each waited
    # for in its turn, they took 40 s here (two fetches at a time per host, each ended by
    # its own deadline); the budget runs from when their reads started (all at once, as
    # delivery saw them), so the burst goes out after about one second. The guard is a
    # hang guard with a wide margin, not a measurement.
    count = 60
    async with enriched_bot(tmp_path, article_timeout=1.0) as e:
        await e.bot.say("/news subscribe Finland")
        items = [
            Item(f"s{n}", f"Finland w{n}a w{n}b w{n}c", e.site.url(f"/slow?n={n}"), "Read more")
            for n in range(count)
        ]
        await e.story(items)
        async with asyncio.timeout(15):
            assert await e.deliver() == count
        assert {a.summary for a in e.inbox.sent} == {"Read more"}
