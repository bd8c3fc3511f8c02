"""A `topic:` alert says which names fired, on every platform, and the commands know topics."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.console.render import render_alert as console_alert
from bot.adapters.discord.render import render_alert as discord_alert
from bot.adapters.slack.blocks import render as slack_alert
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Alert, Channel, Story, Subscription
from bot.core.topics import pack as topic_pack
from bot.store import SqliteStore
from tests.support.delivery import FakeClock

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CHANNEL = Channel("discord", "800000000000000001", "810000000000000001")
TITLE = "Лавров: переговоры возможны"
SUMMARY = "The Kremlin said on Monday that talks could resume."
VIA = "Russia (via Лавров, Kremlin)"


@pytest.fixture(autouse=True)
def fresh_pack() -> Iterator[None]:
    topic_pack.install(topic_pack.load(overrides=Path("/nonexistent")))
    yield
    topic_pack.install(None)


def topic_alert(channel: Channel = CHANNEL) -> Alert:
    """The alert the index makes for a story that names Russia only as Лавров and Kremlin."""
    sub = Subscription(3, channel, "topic:Russia", "ana", NOW)
    index = SubscriptionIndex([sub])
    story = Story(1, "s1", TITLE, "https://news.example/s1", SUMMARY, NOW, "Wire")
    [alert] = index.alerts_for(story)
    return alert


def test_the_alert_names_the_topic_and_the_words_that_fired() -> None:
    alert = topic_alert()
    assert alert.topics == ("topic:Russia",)
    assert alert.matched == (VIA,)


def test_console_says_which_name_fired() -> None:
    text = console_alert(topic_alert())
    assert f"Matched: {VIA}" in text


def test_discord_says_which_name_fired_and_bolds_it() -> None:
    embed = discord_alert(topic_alert(), {"topic:Russia": 3}).embed.to_dict()
    assert {"name": "Matched words", "value": VIA, "inline": True} in embed["fields"]
    assert embed["description"] == "The **Kremlin** said on Monday that talks could resume."


def test_slack_says_which_name_fired_and_bolds_it() -> None:
    message = slack_alert(topic_alert(Channel("slack", "T1", "CNEWS")))
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert f"Matched: {VIA}" in text
    assert "The *Kremlin* said on Monday" in text


def test_a_keyword_alert_on_slack_is_unchanged() -> None:
    sub = Subscription(4, Channel("slack", "T1", "CNEWS"), "Kremlin", "ana", NOW)
    story = Story(1, "s1", TITLE, "https://news.example/s1", SUMMARY, NOW, "Wire")
    [alert] = SubscriptionIndex([sub]).alerts_for(story)
    assert alert.matched == ("Kremlin",)
    assert "Matched:" not in json.dumps(slack_alert(alert).blocks)


async def test_preview_shows_what_a_topic_catches_and_why(store: SqliteStore) -> None:
    feed = await store.add_feed("https://news.example/f.rss", trusted=True, added_by=None)
    stories = [
        Story(feed.id, "a", TITLE, "https://news.example/a", SUMMARY, NOW, "Wire"),
        Story(feed.id, "b", "Snow in Japan", "https://news.example/b", "", NOW, "Wire"),
    ]
    await store.record_refresh(feed.id, stories, [], NOW - timedelta(hours=1))
    deps = CommandDeps(store=store, index=SubscriptionIndex(), clock=FakeClock(NOW))
    inv = Invocation(CHANNEL, "ana")

    reply = await handle_command("/news preview topic:Russia", inv, deps)
    assert "caught 1 of the 2 stories" in reply.text
    assert f"matched {VIA}" in reply.text

    refused = await handle_command("/news preview topic:Rusia", inv, deps)
    assert not refused.ok
    assert 'unknown topic "Rusia": did you mean Russia?' in refused.text


async def test_topics_and_help_commands(store: SqliteStore) -> None:
    deps = CommandDeps(store=store, index=SubscriptionIndex(), clock=FakeClock(NOW))
    inv = Invocation(CHANNEL, "ana")
    listing = await handle_command("/news topics", inv, deps)
    assert "NATO" in listing.text
    assert "every country and territory" in listing.text
    united = await handle_command("/news topics united", inv, deps)
    assert "United Kingdom" in united.text
    assert "United States" in united.text
    assert "Russia" not in united.text.split("\n")[0]
    unknown = await handle_command("/news topics Rusia", inv, deps)
    assert not unknown.ok
    assert "Did you mean Russia?" in unknown.text
    assert "topic:Russia" in (await handle_command("/news help", inv, deps)).text


async def test_a_topic_subscription_is_refused_with_suggestions(store: SqliteStore) -> None:
    deps = CommandDeps(store=store, index=SubscriptionIndex(), clock=FakeClock(NOW))
    inv = Invocation(CHANNEL, "ana")
    reply = await handle_command("/news subscribe topic:Ukrane", inv, deps)
    assert not reply.ok
    assert "did you mean Ukraine?" in reply.text
    assert await store.list_subscriptions(CHANNEL) == []
    ok = await handle_command('/news subscribe topic:"United Kingdom"', inv, deps)
    assert ok.ok
