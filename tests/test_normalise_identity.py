"""Story identity: guid, else canonical link, else a hash of title and date.

Each test publishes a feed, lets the publisher touch it the way publishers do, and checks
the story keeps the identity the seen-set knows it by.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.feeds.identity import story_identity
from bot.feeds.normalise import normalise_entry
from bot.feeds.parse import parse_feed

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def ids(*items: str) -> list[str]:
    body = (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>W</title>"
        + "".join(f"<item>{i}</item>" for i in items)
        + "</channel></rss>"
    ).encode()
    found = [normalise_entry(e, feed_id=1, source="W", now=NOW) for e in parse_feed(body).entries]
    return [s.story_id for s in found if s is not None]


def item(*, guid: str = "", link: str = "", title: str = "Talks resume", date: str = "") -> str:
    return (
        (f"<guid isPermaLink='false'>{guid}</guid>" if guid else "")
        + (f"<link>{link}</link>" if link else "")
        + f"<title>{title}</title>"
        + (f"<pubDate>{date}</pubDate>" if date else "")
    )


MONDAY = "Mon, 23 Nov 2026 08:00:00 GMT"
TUESDAY = "Tue, 24 Nov 2026 09:00:00 GMT"


def test_the_guid_wins_over_link_title_and_date() -> None:
    before = ids(item(guid="story-1", link="https://news.example/a", date=MONDAY))
    after = ids(
        item(
            guid="story-1",
            link="https://news.example/b",
            title="Talks resume (updated)",
            date=TUESDAY,
        )
    )
    assert before == after == ["story-1"]


def test_a_guid_that_is_a_permalink_ignores_tracking_parameters() -> None:
    plain = ids("<guid>https://news.example/a</guid><title>T</title>")
    tracked = ids("<guid>https://News.Example/a?utm_source=rss&amp;fbclid=x</guid><title>T</title>")
    assert plain == tracked == ["https://news.example/a"]


def test_a_permalink_guid_keeps_its_fragment_so_live_blog_posts_stay_apart() -> None:
    posts = ids(
        "<guid>https://news.example/live#post-1</guid><title>First</title>",
        "<guid>https://news.example/live#post-2</guid><title>Second</title>",
    )
    assert posts == ["https://news.example/live#post-1", "https://news.example/live#post-2"]


def test_without_a_guid_the_link_with_tracking_parameters_is_the_link_without() -> None:
    plain = ids(item(link="https://news.example/world/ceasefire", date=MONDAY))
    tracked = ids(
        item(
            link="https://news.example/world/ceasefire?utm_source=rss&amp;utm_medium=feed&amp;gclid=1#top",
            date=TUESDAY,
        )
    )
    assert plain == tracked == ["https://news.example/world/ceasefire"]


def test_without_guid_or_link_title_and_date_make_a_stable_hash() -> None:
    first = ids(item(date=MONDAY))
    again = ids(item(date=MONDAY))
    other_day = ids(item(date=TUESDAY))
    assert first == again
    assert first[0].startswith("sha1:")
    assert other_day != first


def test_reordering_the_feed_changes_no_identity() -> None:
    a = item(guid="a", title="A")
    b = item(link="https://news.example/b", title="B")
    c = item(title="C", date=MONDAY)
    forward = ids(a, b, c)
    backward = ids(c, a, b)
    assert sorted(forward) == sorted(backward)
    assert len(set(forward)) == 3


def test_a_very_long_guid_is_hashed_to_a_bounded_identity() -> None:
    huge = "x" * 5000
    assert story_identity(huge, "", "", "") == story_identity(huge, "https://other", "t", "d")
    assert len(story_identity(huge, "", "", "")) <= 512
