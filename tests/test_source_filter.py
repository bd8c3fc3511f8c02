"""`source:` terms: a subscription hears only from (or never from) the outlets it names."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel, Story, Subscription
from bot.core.query import QueryError, parse_query
from bot.core.query.sources import SourceFilter, split_sources
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import running_bot

ROOM = Channel("console", "local", "room")
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def story(title: str, source: str, link: str = "https://news.example/a") -> Story:
    return Story(1, title, title, link, "", NOW, source)


def sub(sub_id: int, query: str) -> Subscription:
    return Subscription(sub_id, ROOM, query, "ana", NOW)


def test_source_terms_are_cut_out_and_the_words_keep_their_positions() -> None:
    split = split_sources('NATO source:reuters -source:tabloid.example source:"Moscow  Times"')
    assert split.sources == SourceFilter(("reuters", "moscow times"), ("tabloid.example",))
    assert split.words.strip() == "NATO"
    # A mistake after a source term still points at what the user typed.
    with pytest.raises(QueryError) as err:
        parse_query("source:reuters NATO )")
    assert err.value.position == 20


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source:reuters", "add a word to look for"),
        ("(NATO source:reuters)", "outside \\( \\)"),
        ("NATO OR source:reuters", "one side of an OR"),
        ("NATO source:", "must be followed by a name"),
        ('NATO source:""', "must be followed by a name"),
    ],
)
def test_misplaced_source_terms_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(text)


def test_a_source_word_inside_a_phrase_or_a_longer_word_is_a_word() -> None:
    assert not parse_query('"source:reuters says" NATO').sources
    assert not parse_query("outsource:x NATO").sources


def test_the_filter_reads_the_feed_title_and_hosts_any_case_or_accent() -> None:
    f = SourceFilter(("reuters", "le monde"))
    assert f.accepts("Reuters World News")
    assert f.accepts("LE MONDE")
    assert f.accepts("Wire", "https://feeds.reuters.com/world.xml")
    assert f.accepts("Some aggregator", None, "https://www.reuters.com/story")
    assert not f.accepts("Associated Press", "https://apnews.example/rss")
    assert SourceFilter((), ("tabloid.example",)).accepts("Daily", "https://news.example/")
    assert not SourceFilter((), ("tabloid.example",)).accepts("Daily", "https://tabloid.example/")
    assert SourceFilter(("le monde",)).accepts("Lé Mönde")


def test_the_index_applies_each_subscriptions_sources_after_the_words() -> None:
    index = SubscriptionIndex(
        [
            sub(1, "NATO source:reuters"),
            sub(2, "NATO"),
            sub(3, "NATO -source:tabloid.example"),
            sub(4, 'NATO source:"Moscow Times"'),
        ]
    )

    def topics(s: Story, feed_url: str | None = None) -> set[str]:
        return {t for a in index.alerts_for(s, feed_url) for t in a.topics}

    assert topics(story("NATO summit", "Reuters")) == {
        "NATO source:reuters",
        "NATO",
        "NATO -source:tabloid.example",
    }
    assert topics(story("NATO summit", "Tabloid", "https://tabloid.example/x")) == {"NATO"}
    assert topics(story("NATO summit", "The Moscow Times")) == {
        "NATO",
        "NATO -source:tabloid.example",
        'NATO source:"Moscow Times"',
    }
    # The feed's own host counts, not only its title.
    assert "NATO source:reuters" in topics(
        story("NATO summit", "World"), "https://feeds.reuters.com/world"
    )
    # Words still decide first: a Reuters story without NATO reaches no one.
    assert topics(story("Rain in Spain", "Reuters")) == set()
    index.remove(1)
    assert 1 not in index.sources
    index.add(sub(1, "NATO"))
    assert topics(story("NATO summit", "Tabloid", "https://tabloid.example/x")) == {"NATO"}


async def test_a_subscription_with_a_source_gets_only_that_outlets_stories(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path) as bot:
        old = Item("Rain in Spain", "https://a.example/rain", "rain")
        wire = feed_server.serve("/wire.rss", rss_doc(old, title="Reuters World"))
        rag = feed_server.serve("/rag.rss", rss_doc(old, title="The Daily Rag"))
        await bot.operator_feed(wire)
        await bot.operator_feed(rag)
        await bot.poll()
        reply = await bot.say('/news subscribe NATO source:reuters, Ukraine -source:"daily rag"')
        assert "Subscribed #1: NATO source:reuters" in reply
        assert 'Subscribed #2: Ukraine -source:"daily rag"' in reply
        feed_server.serve(
            "/wire.rss",
            rss_doc(
                Item("NATO and Ukraine talk", "https://w.example/1", "w1"), title="Reuters World"
            ),
        )
        feed_server.serve(
            "/rag.rss",
            rss_doc(
                Item("NATO chief in Ukraine", "https://r.example/1", "r1"), title="The Daily Rag"
            ),
        )
        await bot.next_cycle()
        [alert] = await bot.delivered()
        assert alert.source == "Reuters World"
        assert alert.topics == ("NATO source:reuters", 'Ukraine -source:"daily rag"')
        preview = await bot.say("/news preview NATO -source:reuters")
        assert "caught 1 of the" in preview
        assert "The Daily Rag" in preview


async def test_help_explains_source_terms(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        assert "source:reuters" in await bot.say("/news help")
