"""Alerts as Discord messages: every documented limit, safe mentions, every alert kind."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from bot.adapters.discord import DiscordNotifier, message_nonce
from bot.adapters.discord.render import embed_length, render_alert
from bot.core.digest import build_digest
from bot.core.models import Alert, Channel
from tests.support.discord_bot import rest_client
from tests.support.fake_discord import FakeDiscord

CHANNEL = Channel("discord", "800000000000000001", "810000000000000001")
WHEN = datetime(2021, 12, 27, 14, 10, tzinfo=UTC)


def alert(**changes: object) -> Alert:
    base: dict[str, object] = {
        "channel": CHANNEL,
        "feed_id": 1,
        "story_id": "lavrov-1",
        "title": "Russia-US talks on security guarantees: Lavrov",
        "link": "https://news.example/lavrov-1",
        "source": "Press TV",
        "published": WHEN,
        "summary": "Talks with NATO over Ukraine are scheduled for January.",
        "topics": ("NATO",),
        "matched": ("NATO",),
        "id": 7,
    }
    base.update(changes)
    return Alert(**base)  # type: ignore[arg-type]


def test_an_alert_is_an_embed_with_link_bold_words_source_time_and_topics() -> None:
    msg = render_alert(alert(image="https://img.example/a.jpg"), {"NATO": 3}).embed.to_dict()
    assert msg["title"] == "Russia-US talks on security guarantees: Lavrov"
    assert msg["url"] == "https://news.example/lavrov-1"
    assert msg["description"] == "Talks with **NATO** over Ukraine are scheduled for January."
    assert msg["footer"]["text"] == "Press TV"
    assert msg["timestamp"].startswith("2021-12-27T14:10")
    assert msg["thumbnail"]["url"] == "https://img.example/a.jpg"
    assert {"name": "Matched topics", "value": "NATO", "inline": True} in msg["fields"]


def test_unsubscribe_buttons_carry_the_subscription_id_and_the_alert_key() -> None:
    nato = alert(topics=("NATO", "Ukraine"))
    rendered = render_alert(nato, {"NATO": 3, "Ukraine": 4})
    assert rendered.view is not None
    rows = rendered.view.to_components()
    ids = [c["custom_id"] for c in rows[0]["components"]]
    key = message_nonce(nato)
    assert ids == [f"newsbot:unsub:3:{key}", f"newsbot:unsub:4:{key}"]


def test_the_longest_custom_id_is_within_discords_100_characters() -> None:
    rendered = render_alert(alert(), {"NATO": 10**18 - 1})  # the largest id buttons accept
    assert rendered.view is not None
    [button] = rendered.view.to_components()[0]["components"]
    assert len(button["custom_id"]) <= 100


def test_every_embed_limit_holds_for_oversized_stories() -> None:
    huge = alert(
        title="T" * 1000,
        summary=("word " * 3000).strip(),
        topics=tuple(f"topic{i}" for i in range(300)),
        matched=tuple(f"w{i}" for i in range(300)),
        extra={"also_reported_by": ", ".join(f"Outlet {i}" for i in range(500))},
    )
    embed = render_alert(huge).embed
    data = embed.to_dict()
    assert len(data["title"]) <= 256
    assert len(data["description"]) <= 4096
    assert len(data["fields"]) <= 25
    assert all(len(f["value"]) <= 1024 for f in data["fields"])
    assert embed_length(embed) <= 6000


def test_feed_text_never_pings_only_the_subscribers_who_asked() -> None:
    rendered = render_alert(
        alert(summary="@everyone look <@&123> at this", mentions=("700000000000000001",))
    )
    assert rendered.content == "<@700000000000000001>"
    allowed = rendered.allowed_mentions.to_dict()
    assert allowed["parse"] == []
    assert allowed["users"] == [700000000000000001]
    assert "@everyone" not in (rendered.content or "")


def test_a_link_that_is_not_http_is_left_out_rather_than_refused() -> None:
    data = render_alert(alert(link="javascript:alert(1)", image="ftp://x/y.png")).embed.to_dict()
    assert "url" not in data
    assert "thumbnail" not in data


def test_notices_and_digests_render_too() -> None:
    notice = alert(kind="notice", title="Feed paused", summary="It failed 10 times.", topics=())
    data = render_alert(notice).embed.to_dict()
    assert data["title"] == "Feed paused"
    assert data["description"] == "It failed 10 times."
    assert render_alert(notice).view is None

    stories = [alert(id=i, story_id=f"s{i}", title=f"Story {i}") for i in range(1, 4)]
    digest = build_digest(CHANNEL, stories, "hourly digest")
    data = render_alert(digest).embed.to_dict()
    assert data["title"] == digest.title
    assert data["description"].count("[Story") == 3
    assert "(https://news.example/lavrov-1)" in data["description"]


def test_a_digest_too_long_for_one_embed_keeps_whole_items_and_says_how_many_more() -> None:
    # Ten items with long titles and long links pass Discord's 4,096 for a description:
    # the embed keeps the items that fit whole (no link cut open) and counts the rest.
    long_link = "https://news.example/" + "section/" * 50
    stories = [
        alert(id=i, story_id=f"s{i}", title=f"Story {i} " + "word " * 60, link=f"{long_link}{i}")
        for i in range(1, 11)
    ]
    description = render_alert(build_digest(CHANNEL, stories, "hourly digest")).embed.to_dict()[
        "description"
    ]
    assert len(description) <= 4096
    kept = description.count("• [Story")
    assert 0 < kept < 10
    assert description.count(long_link) == kept  # every kept link whole
    assert description.endswith(f"… and {10 - kept} more")


def test_the_nonce_is_stable_per_alert_and_within_discords_25_characters() -> None:
    first = message_nonce(alert())
    assert first == message_nonce(alert())
    assert len(first) <= 25
    assert message_nonce(alert(id=8)) != first
    assert message_nonce(alert(channel=Channel("discord", "1", "2"))) != first


def test_other_outlets_of_the_same_story_are_named() -> None:
    data = render_alert(alert(extra={"also_reported_by": "Reuters, AP, The *Times*"})).embed
    fields = {f["name"]: f["value"] for f in data.to_dict()["fields"]}
    assert fields["Also reported by"] == "Reuters, AP, The \\*Times\\*"


HOSTILE = {
    "blank outlets": alert(extra={"also_reported_by": " ,  , "}),
    "blank source": alert(source="   "),
    "blank topics": alert(topics=(" ",), matched=("",)),
    "many topics": alert(topics=tuple(f"topic {i}" for i in range(30))),
    "oversized": alert(
        title="T" * 1000,
        summary=("word " * 3000).strip(),
        topics=tuple(f"topic{i}" for i in range(300)),
        matched=tuple(f"w{i}" for i in range(300)),
        extra={"also_reported_by": ", ".join(f"Outlet {i}" for i in range(500))},
    ),
    "many mentions": alert(mentions=tuple(str(700000000000000000 + i) for i in range(200))),
    "empty notice": alert(kind="notice", title="", summary="", topics=(), matched=()),
    "blank digest": build_digest(CHANNEL, [alert(source=" ", topics=(" ",))], "hourly digest"),
}


@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
async def test_discord_accepts_every_alert_the_bot_renders(
    fake_discord: FakeDiscord, hostile: Alert
) -> None:
    """At the wire, against a fake that refuses what Discord refuses (blank fields, too
    many buttons, sizes): every alert, however odd its feed, is posted."""

    async def every_topic(channel: Channel) -> Mapping[str, int]:
        return {topic: n for n, topic in enumerate(hostile.topics, start=1)}

    async with rest_client(fake_discord) as client:
        result = await DiscordNotifier(client, lookup=every_topic).send(hostile)
    assert fake_discord.refused == []
    [message] = fake_discord.posted(CHANNEL.channel)
    assert message["id"] == result.remote_id
    for field in message["embeds"][0].get("fields", []):
        assert field["name"].strip()
        assert field["value"].strip()
    assert message["embeds"][0]["footer"]["text"].strip()
