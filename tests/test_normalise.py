"""Normalisation: plain text, canonical links, UTC times, the source's name, an image."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Story
from bot.feeds.normalise import canonical_link, html_to_text, normalise_entry
from bot.feeds.parse import parse_feed

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def stories(items: str, *, channel_title: str = "World Desk", atom: bool = False) -> list[Story]:
    if atom:
        body = (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>{channel_title}</title>{items}</feed>"
        )
    else:
        body = (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:media='http://search.yahoo.com/mrss/'><channel>"
            f"<title>{channel_title}</title><link>https://news.example/</link>{items}"
            "</channel></rss>"
        )
    parsed = parse_feed(body.encode(), base_url="https://news.example/feeds/world.xml")
    found = [
        normalise_entry(e, feed_id=1, source=parsed.title or "?", now=NOW) for e in parsed.entries
    ]
    return [s for s in found if s is not None]


def one(item: str) -> Story:
    (story,) = stories(f"<item>{item}</item>")
    return story


# --- plain text -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("<p>Hello&nbsp;<b>world</b></p><script>track()</script>", "Hello world"),
        ("Line one<br/>line two<p>para</p>", "Line one line two para"),
        ("  lots \n\t of   space  ", "lots of space"),
        ("caf&eacute; &#8217;quoted&#8217; &amp; more", "café ’quoted’ & more"),
        ("&lt;p&gt;Escaped &amp;amp; twice&lt;/p&gt;", "Escaped & twice"),
        ("x &lt;script&gt;alert(1)&lt;/script&gt; y", "x y"),
        ("5 < 6 & AT&T", "5 < 6 & AT&T"),
        ("&lt;!channel&gt; NATO &amp; friends &lt;@U999&gt;", "<!channel> NATO & friends <@U999>"),
        ("<style>p { color: red }</style>Styled<!-- note -->text", "Styledtext"),
        ("right\u202eto-left override and \u0007bell", "rightto-left override and bell"),
    ],
)
def test_html_becomes_plain_text(raw: str, text: str) -> None:
    assert html_to_text(raw, 500) == text


def test_titles_and_summaries_from_a_feed_are_plain_text_and_capped() -> None:
    story = one(
        "<guid>g1</guid><title>  Talks &amp;amp; &lt;b&gt;truce&lt;/b&gt;\n resume </title>"
        "<description><![CDATA[<p>Delegations <a href='https://x.example'>met</a> in "
        "<em>Geneva</em>.</p>]]></description>"
    )
    assert story.title == "Talks & truce resume"
    assert story.summary == "Delegations met in Geneva."
    long = one(
        f"<guid>g2</guid><title>{'word ' * 400}</title><description>{'x' * 20000}</description>"
    )
    assert len(long.title) == 500
    assert len(long.summary) == 5000


def test_a_megabyte_summary_is_capped() -> None:
    paragraph = "<p>" + "word " * 20 + "</p>"
    huge = one(
        f"<guid>g</guid><title>T</title><description><![CDATA[{paragraph * 10_000}]]></description>"
    )
    assert len(huge.summary) == 5000
    assert huge.summary.startswith("word word")


def test_the_source_is_the_feeds_name_in_plain_text() -> None:
    (story,) = stories(
        "<item><guid>g</guid><title>T</title></item>",
        channel_title="  The &lt;i&gt;World&lt;/i&gt;\n Desk ",
    )
    assert story.source == "The World Desk"


# --- canonical links --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("HTTPS://News.Example/a?id=3&utm_source=x&fbclid=y#top", "https://news.example/a?id=3"),
        ("https://news.example/a?utm_medium=rss&UTM_CAMPAIGN=z", "https://news.example/a"),
        (
            "https://news.example/a?gclid=1&msclkid=2&mc_cid=3&igshid=4&p=5",
            "https://news.example/a?p=5",
        ),
        ("https://news.example/a?b=2&a=1", "https://news.example/a?b=2&a=1"),  # order kept
        ("https://news.example/a?q=a+b%20c", "https://news.example/a?q=a+b%20c"),  # encoding kept
        ("http://news.example:80/a", "http://news.example/a"),
        ("https://news.example:443/a", "https://news.example/a"),
        ("https://news.example:8443/a", "https://news.example:8443/a"),
        ("https://News.Example.", "https://news.example/"),
        ("https://user:secret@news.example/a", "https://news.example/a"),
        ("https://news.example/Path/Case", "https://news.example/Path/Case"),
        ("javascript:alert(1)", ""),
        ("mailto:desk@news.example", ""),
        ("news.example/a", ""),
        ("", ""),
    ],
)
def test_canonical_link(link: str, canonical: str) -> None:
    assert canonical_link(link) == canonical


def test_relative_links_resolve_against_the_feed_address() -> None:
    story = one("<guid>g</guid><title>T</title><link>/world/1?utm_source=rss</link>")
    assert story.link == "https://news.example/world/1"


# --- published time ---------------------------------------------------------------------


def test_published_is_converted_to_utc() -> None:
    story = one("<guid>g</guid><title>T</title><pubDate>Sat, 28 Nov 2026 09:30:00 +0300</pubDate>")
    assert story.published == datetime(2026, 11, 28, 6, 30, tzinfo=UTC)


def test_an_atom_entry_with_only_updated_uses_it() -> None:
    (story,) = stories(
        "<entry><id>urn:x:1</id><title>T</title><updated>2026-11-27T22:15:00-05:00</updated></entry>",
        atom=True,
    )
    assert story.published == datetime(2026, 11, 28, 3, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "date",
    [
        pytest.param("", id="missing"),
        pytest.param("<pubDate>Tue, 28 Nov 2028 09:30:00 GMT</pubDate>", id="in the future"),
        pytest.param("<pubDate>not a date at all</pubDate>", id="unreadable"),
    ],
)
def test_a_missing_future_or_unreadable_date_falls_back_to_first_seen(date: str) -> None:
    story = one(f"<guid>g</guid><title>T</title>{date}")
    assert story.published == NOW


def test_a_date_a_minute_ahead_is_first_seen_too() -> None:
    ahead = (NOW + timedelta(minutes=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert one(f"<guid>g</guid><title>T</title><pubDate>{ahead}</pubDate>").published == NOW


# --- image ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "image"),
    [
        pytest.param(
            "<media:thumbnail url='https://img.example/t.jpg'/>"
            "<media:content url='https://img.example/c.jpg' medium='image'/>",
            "https://img.example/t.jpg",
            id="media:thumbnail first",
        ),
        pytest.param(
            "<media:content url='https://img.example/v.mp4' medium='video'/>"
            "<media:content url='https://img.example/c.jpg' type='image/jpeg'/>",
            "https://img.example/c.jpg",
            id="media:content that is an image",
        ),
        pytest.param(
            "<enclosure url='https://img.example/e.png' type='image/png' length='1'/>",
            "https://img.example/e.png",
            id="image enclosure",
        ),
        pytest.param(
            "<enclosure url='https://cdn.example/ep.mp3' type='audio/mpeg' length='1'/>",
            None,
            id="audio enclosure is no image",
        ),
        pytest.param(
            "<description><![CDATA[<img src='https://t.example/p.gif' width='1' height='1'>"
            "<p>Text</p><img src='/photos/main.jpg'>]]></description>",
            "https://news.example/photos/main.jpg",
            id="img in the summary, tracking pixel skipped, relative resolved",
        ),
        pytest.param(
            "<description><![CDATA[<img src='javascript:alert(1)'>]]></description>",
            None,
            id="no script URLs",
        ),
        pytest.param("<description>No picture here.</description>", None, id="none"),
    ],
)
def test_the_image_comes_from_the_richest_source_the_entry_has(
    markup: str, image: str | None
) -> None:
    story = one(f"<guid>g</guid><title>T</title><link>https://news.example/a</link>{markup}")
    assert story.image == image
