from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.commands.dispatch import split_command
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Channel, Story, Subscription
from bot.core.query import QueryError, parse_query, split_queries
from bot.core.summary import summarise
from bot.feeds.normalise import canonical_link, html_to_text

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def sub(i: int, query: str, channel: str = "c1") -> Subscription:
    return Subscription(i, Channel("console", "local", channel), query, "u", NOW)


def story(title: str, summary: str = "") -> Story:
    return Story(1, title, title, "https://x.example/", summary, NOW, "Wire")


def test_whole_words_case_insensitive() -> None:
    index = SubscriptionIndex([sub(1, "NATO"), sub(2, "ran")])
    assert [a.topics for a in index.alerts_for(story("nato leaders meet"))] == [("NATO",)]
    # "ran" is not a whole word of "Iran" or "grant".
    assert index.alerts_for(story("Iran grant")) == []


def test_one_alert_per_channel_lists_every_topic() -> None:
    index = SubscriptionIndex([sub(1, "Russia"), sub(2, "NATO"), sub(3, "NATO", "c2")])
    alerts = index.alerts_for(story("Russia and NATO talk"))
    by_channel = {a.channel.channel: a.topics for a in alerts}
    assert by_channel == {"c1": ("Russia", "NATO"), "c2": ("NATO",)}


def test_removed_subscription_stops_matching() -> None:
    index = SubscriptionIndex([sub(1, "NATO")])
    index.remove(1)
    assert index.alerts_for(story("NATO")) == []


def test_all_words_required() -> None:
    index = SubscriptionIndex([sub(1, "security guarantees")])
    assert index.alerts_for(story("security talks")) == []
    assert len(index.alerts_for(story("talks", "on security guarantees"))) == 1


def test_commas_split_subscriptions_but_not_inside_quotes() -> None:
    assert split_queries("Russia, NATO,Ukraine") == ["Russia", "NATO", "Ukraine"]
    assert split_queries('"Moscow, Russia", NATO') == ['"Moscow, Russia"', "NATO"]
    assert split_queries(" , ") == []


def test_query_errors_name_the_problem() -> None:
    with pytest.raises(QueryError, match="empty"):
        parse_query("  ")
    with pytest.raises(QueryError, match="longer than 200"):
        parse_query("a" * 201)
    with pytest.raises(QueryError, match="no letter or digit"):
        parse_query("!!!")


def test_split_command() -> None:
    assert split_command("/news subscribe NATO, Russia") == ("subscribe", "NATO, Russia")
    assert split_command("LIST") == ("list", "")


@pytest.mark.parametrize("limit", [20, 50, 300])
def test_summary_is_cut_at_a_boundary_within_the_limit(limit: int) -> None:
    text = "First sentence is here. Second one follows it closely. " * 10
    out = summarise(text, limit)
    assert len(out) <= limit
    assert out.endswith(("…", "."))
    assert text.startswith(out.rstrip("…"))


def test_summary_of_one_long_word_is_still_cut() -> None:
    out = summarise("x" * 1000, 300)
    assert len(out) == 300
    assert out.endswith("…")


def test_short_summary_untouched() -> None:
    assert summarise("  Short   text. ") == "Short text."


def test_canonical_link_drops_tracking_and_fragment() -> None:
    assert (
        canonical_link("HTTPS://News.Example/a?id=3&utm_source=x&fbclid=y#top")
        == "https://news.example/a?id=3"
    )


def test_html_to_text() -> None:
    assert html_to_text("<p>Hello&nbsp;<b>world</b></p><script>x()</script>", 100) == (
        "Hello world"
    )
