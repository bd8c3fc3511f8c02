"""Several outlets, one story: a channel gets one alert, "also reported by" the others."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.console.render import render_alert
from bot.core.models import Story
from bot.core.titles import title_words
from bot.feeds.dedupe import DuplicateIndex
from tests.support.feed_server import FeedServer
from tests.support.reference_dedupe import jaccard
from tests.support.rss import Item, rss_doc
from tests.support.watch import DESK, NEWSROOM, Bot, running_bot

SUMMIT = "NATO leaders agree new Ukraine aid package at Vilnius summit"
OTHER = Item("Heavy snow disrupts flights in Japan", "https://a.example/snow", "snow")


async def two_outlets(bot: Bot, server: FeedServer) -> tuple[str, str]:
    """Outlet A and Outlet B, both primed with an unrelated story."""
    a = server.serve("/a.rss", rss_doc(OTHER, title="Outlet A"))
    b = server.serve("/b.rss", rss_doc(OTHER, title="Outlet B"))
    await bot.operator_feed(a)
    await bot.operator_feed(b)
    await bot.poll()
    return a, b


async def test_the_same_link_from_two_outlets_is_one_alert_also_reported_by_the_other(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await two_outlets(bot, feed_server)
        first = Item(SUMMIT, "https://agency.example/summit", "a-1")
        # Outlet B words it differently, with its own guid and tracking on the link.
        second = Item(
            "Vilnius: allies back more aid for Ukraine, NATO says",
            "https://agency.example/summit?utm_source=outlet-b",
            "b-77",
        )
        feed_server.serve("/a.rss", rss_doc(first, OTHER, title="Outlet A"))
        feed_server.serve("/b.rss", rss_doc(second, OTHER, title="Outlet B"))
        await bot.next_cycle()
        # Both were fetched in the same cycle: whichever was recorded first is the alert.
        [alert] = await bot.delivered()
        also = alert.extra["also_reported_by"]
        assert {alert.source, also} == {"Outlet A", "Outlet B"}
        assert alert.title == (SUMMIT if alert.source == "Outlet A" else second.title)
        assert f"Also reported by: {also}" in render_alert(alert)


async def test_a_near_identical_title_on_another_link_is_the_same_story(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await two_outlets(bot, feed_server)
        feed_server.serve(
            "/a.rss",
            rss_doc(Item(SUMMIT, "https://a.example/1", "a-1"), OTHER, title="Outlet A"),
        )
        await bot.next_cycle()
        # Outlet B a cycle later: punctuation and case differ, one word added.
        copy = "NATO Leaders agree new Ukraine aid package at Vilnius summit - live"
        feed_server.serve(
            "/b.rss", rss_doc(Item(copy, "https://b.example/9", "b-9"), OTHER, title="Outlet B")
        )
        await bot.next_cycle()
        [alert] = await bot.delivered()
        assert alert.title == SUMMIT
        assert alert.extra == {"also_reported_by": "Outlet B"}


async def test_after_the_alert_went_out_a_copy_is_recorded_and_not_sent_again(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await two_outlets(bot, feed_server)
        feed_server.serve(
            "/a.rss",
            rss_doc(Item(SUMMIT, "https://agency.example/s", "a-1"), OTHER, title="Outlet A"),
        )
        await bot.next_cycle()
        assert len(await bot.delivered()) == 1
        feed_server.serve(
            "/b.rss",
            rss_doc(Item(SUMMIT, "https://agency.example/s", "b-1"), OTHER, title="Outlet B"),
        )
        await bot.next_cycle()
        assert await bot.delivered() == []
        async with (
            bot.store.db.reading() as conn,
            conn.execute(
                "SELECT feed_id, story_id, original_feed_id, original_story_id, source"
                " FROM story_duplicates"
            ) as cur,
        ):
            rows = [tuple(r) for r in await cur.fetchall()]
        # The snow story both outlets carried from the start is a recorded copy too.
        assert sorted(rows) == [
            (2, "b-1", 1, "a-1", "Outlet B"),
            (2, "snow", 1, "snow", "Outlet B"),
        ]


async def test_a_channel_the_first_copy_did_not_match_gets_the_later_one(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.say("/news subscribe Lithuania", DESK)  # only outlet B's text says it
        await two_outlets(bot, feed_server)
        a = Item(SUMMIT, "https://agency.example/s", "a-1", "Allies met on Tuesday.")
        b = Item(SUMMIT, "https://agency.example/s", "b-1", "Allies met in Lithuania.")
        feed_server.serve("/a.rss", rss_doc(a, OTHER, title="Outlet A"))
        await bot.next_cycle()
        feed_server.serve("/b.rss", rss_doc(b, OTHER, title="Outlet B"))
        await bot.next_cycle()
        [newsroom] = await bot.delivered(NEWSROOM)
        [desk] = await bot.delivered(DESK)
        assert (newsroom.source, newsroom.extra) == ("Outlet A", {"also_reported_by": "Outlet B"})
        assert (desk.source, desk.extra) == ("Outlet B", {})


async def test_different_stories_with_similar_words_both_alert(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await two_outlets(bot, feed_server)
        a = Item("NATO leaders meet in Vilnius on Tuesday", "https://a.example/1", "a-1")
        b = Item("NATO ministers meet in Brussels on Friday", "https://b.example/1", "b-1")
        feed_server.serve("/a.rss", rss_doc(a, OTHER, title="Outlet A"))
        feed_server.serve("/b.rss", rss_doc(b, OTHER, title="Outlet B"))
        await bot.next_cycle()
        assert sorted(x.source for x in await bot.delivered()) == ["Outlet A", "Outlet B"]


async def test_copies_are_caught_after_a_restart_and_not_after_the_window(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    story = Item(SUMMIT, "https://agency.example/s", "a-1")
    async with running_bot(tmp_path, duplicate_window=3600) as bot:
        await bot.say("/news subscribe NATO")
        await two_outlets(bot, feed_server)
        feed_server.serve("/a.rss", rss_doc(story, OTHER, title="Outlet A"))
        await bot.next_cycle()
        assert len(await bot.delivered()) == 1
        clock = bot.clock.now()
    # A new process: the index of recent stories is rebuilt from the database.
    async with running_bot(tmp_path, duplicate_window=3600) as bot:
        bot.clock.current = clock
        feed_server.serve("/b.rss", rss_doc(story, OTHER, title="Outlet B"))
        await bot.next_cycle()
        assert await bot.delivered() == []
        # Two hours on, outside the window, the same link is news again.
        bot.clock.advance(7200)
        feed_server.serve(
            "/b.rss", rss_doc(Item(SUMMIT, story.link, "b-2"), OTHER, title="Outlet B")
        )
        await bot.next_cycle()
        assert [a.source for a in await bot.delivered()] == ["Outlet B"]


WORDS = st.sampled_from(
    [
        "nato",
        "ukraine",
        "russia",
        "summit",
        "aid",
        "leaders",
        "vilnius",
        "talks",
        "minister",
        "oil",
        "price",
        "gas",
        "snow",
        "flights",
        "japan",
        "storm",
        "court",
        "vote",
        "election",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(WORDS, min_size=1, max_size=9), min_size=2, max_size=40))
def test_the_title_index_finds_exactly_what_comparing_every_pair_finds(
    titles: list[list[str]],
) -> None:
    """Prefix filtering is an optimisation: it must not miss a pair nor invent one."""
    index = DuplicateIndex(timedelta(days=1), threshold=0.8, min_words=4)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    earlier: list[tuple[str, frozenset[str]]] = []
    rng = random.Random(1)
    for n, words in enumerate(titles):
        title = " ".join(rng.sample(words, len(words)))
        story = Story(n, f"s{n}", title, "", "", start, f"Outlet {n}")
        copy = index.check_and_add(story, start + timedelta(seconds=n))
        mine = title_words(title)
        expected = [
            sid
            for sid, theirs in earlier
            if len(mine) >= 4 and len(theirs) >= 4 and jaccard(mine, theirs) >= 0.8
        ]
        if expected:
            assert copy is not None
            assert copy.earlier[0][1] in [s for s, _ in earlier]
            assert any(sid in expected for _, sid in copy.earlier)
        else:
            assert copy is None
        earlier.append((f"s{n}", mine))
