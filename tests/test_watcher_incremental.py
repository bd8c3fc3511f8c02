"""A changed feed costs a parse of what changed only, and never a missed or repeated alert.

The watcher cuts out the items whose exact bytes it already recorded before feedparser
sees the document (bot/feeds/incremental.py). A spy around feedparser.parse shows what
it was given.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from typing import Any

import feedparser
import pytest

from bot.feeds.incremental import split_items
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.watch import running_bot

NATO = Item("NATO ministers meet in Brussels over Ukraine", "https://wire.example/nato", "n1")
SNOW = Item("Heavy snow disrupts flights in Japan", "https://wire.example/snow", "s1")
RAIN = Item("Rain expected across the north", "https://wire.example/rain", "r1")
SUMMIT = Item("NATO summit opens in Vilnius", "https://wire.example/summit", "n2")


class ParserSpy:
    """Records each document feedparser is given, then lets feedparser parse it."""

    def __init__(self) -> None:
        self.documents: list[bytes] = []
        self._parse = feedparser.parse

    def __call__(self, source: BytesIO, *args: Any, **kwargs: Any) -> Any:
        self.documents.append(source.getvalue())
        source.seek(0)
        return self._parse(source, *args, **kwargs)

    def titles_given(self) -> list[str]:
        """Titles of the items in the last document parsed."""
        text = self.documents[-1].decode()
        return re.findall(r"<item>.*?<title>(.*?)</title>", text)


@pytest.fixture
def parser(monkeypatch: pytest.MonkeyPatch) -> ParserSpy:
    spy = ParserSpy()
    monkeypatch.setattr(feedparser, "parse", spy)
    return spy


async def test_only_the_new_item_is_parsed_and_alerted(
    tmp_path: Path, feed_server: FeedServer, parser: ParserSpy
) -> None:
    feed_server.serve("/wire.rss", rss_doc(SNOW, RAIN))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(feed_server.url("/wire.rss"))
        await bot.poll()
        assert parser.titles_given() == [SNOW.title, RAIN.title]

        feed_server.serve("/wire.rss", rss_doc(NATO, SNOW, RAIN))
        await bot.next_cycle()
        assert parser.titles_given() == [NATO.title]
        assert b"<title>Test Wire</title>" in parser.documents[-1]  # the channel header stays
        assert [a.title for a in await bot.delivered()] == [NATO.title]

        feed_server.serve("/wire.rss", rss_doc(SUMMIT, NATO, SNOW, RAIN))
        await bot.next_cycle()
        assert parser.titles_given() == [SUMMIT.title]
        assert [a.title for a in await bot.delivered()] == [SUMMIT.title]


async def test_an_item_whose_date_changed_is_parsed_again_but_not_alerted_again(
    tmp_path: Path, feed_server: FeedServer, parser: ParserSpy
) -> None:
    feed_server.serve("/wire.rss", rss_doc(SNOW))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(feed_server.url("/wire.rss"))
        await bot.poll()
        feed_server.serve("/wire.rss", rss_doc(NATO, SNOW))
        await bot.next_cycle()
        assert [a.title for a in await bot.delivered()] == [NATO.title]

        updated = Item(NATO.title, NATO.link, NATO.guid, pub_date="Tue, 28 Dec 2021 09:00:00 GMT")
        feed_server.serve("/wire.rss", rss_doc(updated, SNOW))
        await bot.next_cycle()
        assert parser.titles_given() == [NATO.title]
        assert b"Tue, 28 Dec 2021" in parser.documents[-1]
        assert await bot.delivered() == []


def with_cdata(title: str, link: str, guid: str) -> str:
    """An item whose description hides a literal `</item>` (and `<item>`) in CDATA."""
    return (
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
        f"<link>{link}</link><description><![CDATA[<p>a quoted </item> tag, and "
        "<item> too</p>]]></description></item>"
    )


async def test_cdata_hiding_an_item_tag_falls_back_to_a_full_parse(
    tmp_path: Path, feed_server: FeedServer, parser: ParserSpy
) -> None:
    feed_server.serve("/wire.rss", rss_doc(SNOW, RAIN))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(feed_server.url("/wire.rss"))
        await bot.poll()

        tricky = with_cdata(NATO.title, NATO.link, "n1")
        document = rss_doc(SNOW, RAIN).replace("<item>", tricky + "<item>", 1)
        feed_server.serve("/wire.rss", document)
        await bot.next_cycle()
        assert parser.documents[-1].count(b"<title>") == 4  # channel + all three items
        assert [a.title for a in await bot.delivered()] == [NATO.title]

        # The next poll cannot trust the scan either, and still loses nothing.
        document = document.replace(tricky, SUMMIT.xml() + tricky, 1)
        feed_server.serve("/wire.rss", document)
        await bot.next_cycle()
        assert parser.documents[-1].count(b"<title>") == 5
        assert [a.title for a in await bot.delivered()] == [SUMMIT.title]


async def test_after_a_restart_the_first_poll_parses_the_whole_feed(
    tmp_path: Path, feed_server: FeedServer, parser: ParserSpy
) -> None:
    feed_server.serve("/wire.rss", rss_doc(SNOW, RAIN))
    async with running_bot(tmp_path) as bot:
        await bot.say("/news subscribe NATO")
        await bot.operator_feed(feed_server.url("/wire.rss"))
        await bot.poll()
        feed_server.serve("/wire.rss", rss_doc(NATO, SNOW, RAIN))
        await bot.next_cycle()
        assert parser.titles_given() == [NATO.title]
        assert [a.title for a in await bot.delivered()] == [NATO.title]

    feed_server.serve("/wire.rss", rss_doc(SUMMIT, NATO, SNOW, RAIN))
    async with running_bot(tmp_path) as bot:
        await bot.later(3600)  # a fresh clock: let the feed be due whatever it said before
        assert parser.titles_given() == [SUMMIT.title, NATO.title, SNOW.title, RAIN.title]
        assert [a.title for a in await bot.delivered()] == [SUMMIT.title]

        feed_server.serve("/wire.rss", rss_doc(NATO, SNOW, RAIN))  # one dropped: nothing new
        await bot.next_cycle()
        assert parser.titles_given() == []
        assert await bot.delivered() == []


@pytest.mark.parametrize(
    ("document", "items"),
    [
        (b"<feed><title>t</title><entry><id>1</id></entry><entry><id>2</id></entry></feed>", 2),
        (b"<a:feed><a:entry xml:lang='en'><a:id>1</a:id></a:entry ></a:feed>", 1),
        (b"<rdf:RDF><channel/><item rdf:about='x'><title>1</title></item></rdf:RDF>", 1),
        (b"<rss><channel><items>none</items><item><x/></item></channel></rss>", 1),
        (b"<rss><channel><title>no items</title></channel></rss>", None),
        (b"<rss><channel><item><item>nested</item></item></channel></rss>", None),
        (b"<rss><channel><item/><item>x</item></channel></rss>", None),
        (b"<rss><channel><item>unclosed</channel></rss>", None),
        (b"<feed><entry>mismatched</item></feed>", None),
        (b"<rss><channel><!-- <item>old</item> --><item>x</item></channel></rss>", None),
        (b"<rss><channel><item><![CDATA[ unclosed </item></channel></rss>", None),
    ],
    ids=[
        "atom",
        "prefixed",
        "rdf",
        "similar-names",
        "none",
        "nested",
        "self-closing",
        "unclosed",
        "mismatched",
        "comment",
        "open-cdata",
    ],
)
def test_the_item_scan_trusts_only_plain_balanced_items(document: bytes, items: int | None) -> None:
    split = split_items(document)
    assert (None if split is None else len(split.spans)) == items
