"""`/news preview` and the subscription limits, as a person meets them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.limits import SubscriptionLimits
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel, Story
from bot.store import SqliteStore
from tests.support.console import ConsoleBot
from tests.support.delivery import FakeClock
from tests.support.feed_server import FeedServer, rss
from tests.support.stories import LAVROV, SNOW
from tests.test_console_conversation import bot_env

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
OPS = Channel("slack", "T1", "C-ops")
DESK = Channel("slack", "T1", "C-desk")
ELSEWHERE = Channel("slack", "T2", "C-other")


async def test_preview_lists_what_a_query_would_catch_without_subscribing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    ukraine = ("grain-1", "Ukrainian grain ships leave Odesa", "Ports busy again.")
    url = feed_server.serve("/world.rss", rss(LAVROV, SNOW, ukraine))
    bot = await ConsoleBot.start(bot_env(tmp_path, [url]), tmp_path)
    try:
        # The first poll records the feed's stories as seen (without alerting on them);
        # the second request comes only once the first answer is recorded.
        await feed_server.wait_for_hits("/world.rss", 2)
        reply = await bot.say("/news preview NATO OR Ukraine")
        lines = reply.splitlines()
        assert lines[0] == (
            "`NATO OR Ukraine` would have caught 2 of the 3 stories of the last 24 hours"
            " (not subscribed):"
        )
        # Newest first; these two were first seen in the same poll, so either order.
        assert sorted(lines[1:]) == sorted(
            [
                f"• {LAVROV[1]} (Test Wire), matched NATO, Ukraine",
                "  https://news.example/lavrov-1",
                f"• {ukraine[1]} (Test Wire), matched Ukraine",
                "  https://news.example/grain-1",
            ]
        )
        assert SNOW[1] not in reply

        assert "would have caught none of the 3 stories" in await bot.say(
            "/news preview Japan -snow"
        )
        refused = await bot.say('/news preview "security guarantees')
        assert refused == (
            'Cannot preview `"security guarantees`: this quote is never closed (at character 1)'
        )
        assert "No subscriptions in this channel yet" in await bot.say("/news list")
        assert "/news preview" in await bot.say("/news help")
    finally:
        await bot.stop()


def story(story_id: str, title: str) -> Story:
    return Story(1, story_id, title, f"https://news.example/{story_id}", "", NOW, "Wire")


async def test_preview_covers_the_last_24_hours_only(store: SqliteStore) -> None:
    feed = await store.add_feed("https://news.example/f.rss", trusted=True, added_by=None)
    old = [story("old", "NATO summit opens")]
    fresh = [story("new", "NATO summit closes")]
    await store.record_refresh(feed.id, old, [], NOW - timedelta(hours=25))
    await store.record_refresh(feed.id, fresh, [], NOW - timedelta(hours=1))
    deps = CommandDeps(store=store, index=SubscriptionIndex(), clock=FakeClock(NOW))

    reply = await handle_command("/news preview NATO", Invocation(OPS, "ana"), deps)

    assert "caught 1 of the 1 stories" in reply.text
    assert "NATO summit closes" in reply.text
    assert "opens" not in reply.text


async def test_a_channel_and_a_workspace_hold_a_limited_number(store: SqliteStore) -> None:
    deps = CommandDeps(
        store=store,
        index=SubscriptionIndex(),
        clock=FakeClock(NOW),
        limits=SubscriptionLimits(per_channel=3, per_workspace=4),
    )
    ana = Invocation(OPS, "ana")

    assert (await handle_command("/news subscribe a1, a2", ana, deps)).ok
    refused = await handle_command("/news subscribe a3, a4", ana, deps)
    assert refused.text == (
        "Not subscribed: this channel has 2 subscriptions and may have at most 3; "
        "remove some with /news unsubscribe <id>"
    )
    assert [s.query for s in await store.list_subscriptions(OPS)] == ["a1", "a2"]
    assert (await handle_command("/news subscribe a3", ana, deps)).ok

    desk = Invocation(DESK, "bo")
    assert (await handle_command("/news subscribe b1", desk, deps)).ok
    refused = await handle_command("/news subscribe b2", desk, deps)
    assert refused.text.startswith(
        "Not subscribed: this workspace has 4 subscriptions and may have at most 4"
    )
    assert (await handle_command("/news subscribe c1", Invocation(ELSEWHERE, "cy"), deps)).ok
    # Saying again what is already there is not refused.
    assert (await handle_command("/news subscribe a1", ana, deps)).text == "Already subscribed: a1"
