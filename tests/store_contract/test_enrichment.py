"""EnrichmentStore and the summary/language channel settings, on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.core.models import Channel
from bot.core.ports import CachedArticle, Store

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CHANNEL = Channel("slack", "T1", "C1")


async def test_an_article_is_kept_once_per_url_with_or_without_text(store: Store) -> None:
    assert await store.cached_article("https://news.example/a") is None
    await store.save_article(CachedArticle("https://news.example/a", "The lead.", "ok", NOW))
    # A second save of the same URL (another process got there too) changes nothing.
    await store.save_article(CachedArticle("https://news.example/a", "Other.", "ok", NOW))
    await store.save_article(
        CachedArticle("https://news.example/wall", None, "paywall or consent page", NOW)
    )
    kept = await store.cached_article("https://news.example/a")
    assert kept == CachedArticle("https://news.example/a", "The lead.", "ok", NOW)
    wall = await store.cached_article("https://news.example/wall")
    assert wall is not None
    assert (wall.text, wall.note) == (None, "paywall or consent page")


async def test_story_facts_are_per_story_kind_and_language_first_one_kept(store: Store) -> None:
    await store.save_story_fact(1, "s1", "language", "", "ru", NOW)
    await store.save_story_fact(1, "s1", "title", "en", "Moscow talks", NOW)
    await store.save_story_fact(1, "s1", "title", "en", "A later answer", NOW)
    await store.save_story_fact(1, "s1", "title", "de", "Moskauer Gespräche", NOW)
    assert await store.story_fact(1, "s1", "language", "") == "ru"
    assert await store.story_fact(1, "s1", "title", "en") == "Moscow talks"
    assert await store.story_fact(1, "s1", "title", "de") == "Moskauer Gespräche"
    assert await store.story_fact(1, "s1", "summary", "en") is None
    assert await store.story_fact(2, "s1", "title", "en") is None


async def test_model_calls_stop_at_the_daily_cap_even_when_asked_at_once(store: Store) -> None:
    day = date(2026, 3, 1)
    granted = await asyncio.gather(*(store.reserve_model_call(day, 3) for _ in range(5)))
    assert sorted(granted) == [False, False, True, True, True]
    # A new day starts a new count; a cap of 0 allows nothing.
    assert await store.reserve_model_call(date(2026, 3, 2), 3) is True
    assert await store.reserve_model_call(date(2026, 3, 3), 0) is False


async def test_summary_mode_and_language_are_channel_settings(store: Store) -> None:
    fresh = await store.channel_settings(CHANNEL)
    assert (fresh.summary_mode, fresh.language) == ("article", None)
    await store.set_summary_mode(CHANNEL, "model", NOW)
    await store.set_language(CHANNEL, "de", NOW)
    settings = await store.channel_settings(CHANNEL)
    assert (settings.summary_mode, settings.language) == ("model", "de")
    await store.set_language(CHANNEL, None, NOW)
    assert (await store.channel_settings(CHANNEL)).language is None
    other = await store.channel_settings(Channel("slack", "T1", "C2"))
    assert other.summary_mode == "article"


async def test_old_articles_facts_and_day_counts_are_forgotten(store: Store) -> None:
    old, new = NOW - timedelta(days=8), NOW
    await store.save_article(CachedArticle("https://news.example/old", "Old.", "ok", old))
    await store.save_article(CachedArticle("https://news.example/new", "New.", "ok", new))
    await store.save_story_fact(1, "old", "language", "", "ru", old)
    await store.save_story_fact(1, "new", "language", "", "de", new)
    await store.reserve_model_call(old.date(), 5)
    await store.reserve_model_call(new.date(), 5)
    assert await store.forget_enrichment(NOW - timedelta(days=7)) == 3
    assert await store.cached_article("https://news.example/old") is None
    assert await store.cached_article("https://news.example/new") is not None
    assert await store.story_fact(1, "old", "language", "") is None
    assert await store.story_fact(1, "new", "language", "") == "de"
    # The old day's count went; today's still counts against the cap.
    assert await store.reserve_model_call(new.date(), 1) is False
