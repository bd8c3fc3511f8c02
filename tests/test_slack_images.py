"""The story's image in Slack alerts: shown when Slack can fetch it, never worth an alert.

Slack downloads every image_url itself while accepting chat.postMessage and refuses the
whole message when it cannot. FakeSlack does the same for the URLs and hosts a test
declares unreachable, with the error payload Slack gives.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack.blocks import IMAGE_POINTER, render
from bot.adapters.slack.errors import image_refused
from bot.core.models import Alert, Channel
from tests.support.fake_slack import TEAM, FakeSlack, Posted
from tests.support.feed_server import FeedServer
from tests.support.rss import Item, rss_doc
from tests.support.slack_alerts import notifier_for, slack_alert
from tests.support.slack_workspace import NEWS, LiveFeed, Workspace

PICTURE = "https://img.example/lavrov.jpg"
TITLE = "Russia-US talks on security guarantees: Lavrov"


def alert(alert_id: int = 7, **changes: object) -> Alert:
    """The seed story with a picture, one story per outbox row."""
    fields: dict[str, object] = {"story_id": f"lavrov-{alert_id}", "title": TITLE, "image": PICTURE}
    fields.update(changes)
    return slack_alert(NEWS, alert_id, **fields)


def accessory(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    return blocks[0].get("accessory") if blocks else None


def without_accessory(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in b.items() if k != "accessory"} for b in blocks]


def posted_blocks(fake_slack: FakeSlack) -> list[list[dict[str, Any]]]:
    """The blocks of every chat.postMessage the bot made, accepted or refused."""
    return [list(c.args.get("blocks") or []) for c in fake_slack.called("chat.postMessage")]


# -- rendering ---------------------------------------------------------------------------


def test_the_image_is_an_accessory_of_the_main_section_with_the_title_as_alt_text() -> None:
    message = render(alert())
    assert accessory(message.blocks) == {"type": "image", "image_url": PICTURE, "alt_text": TITLE}
    assert message.image == PICTURE
    assert message.blocks[0]["text"]["text"].startswith("*<https://news.example/lavrov-1|")


def test_rendering_without_the_image_changes_nothing_else() -> None:
    with_image, bare = render(alert()), render(alert(), image=False)
    assert accessory(bare.blocks) is None
    assert bare.image is None
    assert bare.blocks == without_accessory(with_image.blocks)
    assert (bare.text, bare.metadata) == (with_image.text, with_image.metadata)
    # An alert with no image renders exactly as one whose image is left out.
    assert render(alert(image=None)) == bare


def test_a_long_title_is_cut_to_slacks_alt_text_limit() -> None:
    image = accessory(render(alert(title="Lavrov speaks " * 300)).blocks)
    assert image is not None
    assert 0 < len(image["alt_text"]) <= 2000
    assert image["alt_text"].endswith("…")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://img.example/a.jpg",
        "javascript:alert(1)",
        "data:image/png;base64,AAAA",
        "/relative/a.jpg",
        "https://img.example/a b.jpg",
        "https://img.example/" + "a" * 2990 + ".jpg",  # 3,014 characters: over 3,000
        "",
    ],
)
def test_urls_slack_would_refuse_are_left_out(url: str) -> None:
    message = render(alert(image=url))
    assert accessory(message.blocks) is None
    assert message.image is None


def test_a_url_of_exactly_the_limit_is_kept() -> None:
    url = "https://img.example/" + "a" * (3000 - len("https://img.example/") - 4) + ".jpg"
    assert len(url) == 3000
    assert render(alert(image=url)).image == url


def test_notices_and_digests_carry_no_image() -> None:
    for kind in ("notice", "digest"):
        assert render(alert(kind=kind)).image is None


# -- which refusals are the image's -------------------------------------------------------


def refusal(data: dict[str, Any]) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="http://127.0.0.1/api/chat.postMessage",
        req_args={},
        data=data,
        headers={},
        status_code=200,
    )
    return SlackApiError("refused", response)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("data", "image"),
    [
        (
            {
                "error": "invalid_blocks",
                "errors": ["downloading image failed [json-pointer:/blocks/0/accessory/image_url]"],
            },
            True,
        ),
        (
            {
                "error": "invalid_blocks_format",
                "response_metadata": {
                    "messages": ["[ERROR] invalid url [json-pointer:/blocks/0/accessory]"]
                },
            },
            True,
        ),
        ({"error": "invalid_blocks", "errors": ["downloading image failed"]}, True),
        (
            {
                "error": "invalid_blocks",
                "errors": ["must be less than 3001 characters [json-pointer:/blocks/0/text]"],
            },
            False,
        ),
        (
            {  # the image and another block: without the image it would still fail
                "error": "invalid_blocks",
                "errors": [
                    "downloading image failed [json-pointer:/blocks/0/accessory/image_url]",
                    "must be less than 76 characters [json-pointer:/blocks/2/elements/0/text]",
                ],
            },
            False,
        ),
        ({"error": "invalid_blocks"}, False),  # nothing says it is the image
        ({"error": "invalid_blocks", "errors": ["[json-pointer:/blocks/0/accessoryX]"]}, False),
        ({"error": "msg_too_long", "errors": ["image [json-pointer:/blocks/0/accessory]"]}, False),
    ],
)
def test_only_a_refusal_of_the_image_alone_counts(data: dict[str, Any], image: bool) -> None:
    assert image_refused(refusal({"ok": False, **data}), IMAGE_POINTER) is image


# -- sending against the fake Web API ----------------------------------------------------


async def test_an_alert_with_a_good_image_shows_it(fake_slack: FakeSlack) -> None:
    result = await notifier_for(fake_slack).send(alert())
    [post] = fake_slack.posts_in(NEWS)
    assert accessory(post.blocks) == {"type": "image", "image_url": PICTURE, "alt_text": TITLE}
    assert len(fake_slack.called("chat.postMessage")) == 1
    assert result.remote_id == post.ts


@pytest.mark.parametrize("unreachable", [PICTURE, "img.example"], ids=["url", "host"])
async def test_an_image_slack_cannot_fetch_is_dropped_and_the_alert_arrives_once(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, unreachable: str
) -> None:
    fake_slack.unreachable_images.add(unreachable)
    with caplog.at_level(logging.WARNING, logger="bot.adapters.slack.notifier"):
        result = await notifier_for(fake_slack).send(alert())

    [post] = fake_slack.posts_in(NEWS)
    assert result.remote_id == post.ts
    assert accessory(post.blocks) is None
    refused, sent = fake_slack.called("chat.postMessage")
    # The retry is the same message, the image's accessory aside.
    assert accessory(refused.args["blocks"]) is not None
    assert sent.args["blocks"] == without_accessory(refused.args["blocks"])
    assert sent.args["blocks"] == post.blocks
    assert {k: v for k, v in sent.args.items() if k != "blocks"} == {
        k: v for k, v in refused.args.items() if k != "blocks"
    }
    [line] = [r for r in caplog.records if "image" in r.getMessage()]
    assert "downloading image failed" in line.getMessage()
    assert getattr(line, "alert_id", None) == 7
    assert getattr(line, "channel", None) == f"slack:{TEAM}/{NEWS}"


async def test_an_alert_without_an_image_is_unchanged(fake_slack: FakeSlack) -> None:
    fake_slack.unreachable_images.add("img.example")
    await notifier_for(fake_slack).send(alert(image=None))
    [post] = fake_slack.posts_in(NEWS)
    assert len(fake_slack.called("chat.postMessage")) == 1
    assert post.blocks == render(alert(), image=False).blocks
    assert all("accessory" not in block for block in post.blocks)


async def test_another_layout_refusal_is_not_retried_without_the_image(
    fake_slack: FakeSlack,
) -> None:
    # Slack refuses a button label, not the image: today's plain-text fallback, nothing else.
    fake_slack.refuse_blocks = [
        "must be less than 76 characters [json-pointer:/blocks/2/elements/0]"
    ]
    await notifier_for(fake_slack).send(alert())
    assert posted_blocks(fake_slack) == [render(alert()).blocks, []]
    [post] = fake_slack.posts_in(NEWS)
    assert post.blocks == []
    assert TITLE in post.text


async def test_image_and_another_refusal_together_go_straight_to_plain_text(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.unreachable_images.add(PICTURE)
    fake_slack.refuse_blocks = [
        "must be less than 76 characters [json-pointer:/blocks/2/elements/0]"
    ]
    await notifier_for(fake_slack).send(alert())
    assert posted_blocks(fake_slack) == [render(alert()).blocks, []]
    assert len(fake_slack.posts_in(NEWS)) == 1


@pytest.mark.parametrize("reachable", [True, False], ids=["posted-with-image", "without"])
async def test_a_resend_after_a_crash_finds_the_first_post_with_or_without_image(
    fake_slack: FakeSlack, reachable: bool
) -> None:
    if not reachable:
        fake_slack.unreachable_images.add(PICTURE)
    notifier = notifier_for(fake_slack)
    first = await notifier.send(alert())
    [post] = fake_slack.posts_in(NEWS)
    assert (accessory(post.blocks) is not None) is reachable
    # The process died before recording it sent; delivery resends with maybe_sent.
    calls = len(fake_slack.called("chat.postMessage"))
    again = await notifier.send(alert(), maybe_sent=True)
    assert again.remote_id == first.remote_id
    assert len(fake_slack.called("chat.postMessage")) == calls
    assert len(fake_slack.posts_in(NEWS)) == 1


# -- a story with a picture, from the feed to the channel -----------------------------------


def story(guid: str, title: str, picture: str) -> Item:
    return Item(
        title=title,
        link=f"https://news.example/{guid}",
        guid=guid,
        description=f"<img src='{picture}'><p>Talks with NATO over Ukraine.</p>",
    )


async def test_stories_from_a_feed_arrive_with_their_image_or_without_a_broken_one(
    fake_slack: FakeSlack, tmp_path: Path, feed_server: FeedServer
) -> None:
    fake_slack.unreachable_images.add("gone.example")
    old = Item(title="Heavy snow in Japan", link="https://news.example/snow", guid="snow")
    feed = LiveFeed(feed_server, "/world.rss", rss_doc(old))
    slack = await Workspace.start(fake_slack, tmp_path, [feed.url])
    try:
        await slack.say("/news subscribe NATO")
        await feed.fetched()
        good = story("a", "NATO talks: Lavrov", "https://img.example/a.jpg")
        broken = story("b", "NATO summit: Stoltenberg", "https://gone.example/b.jpg")
        feed.serve(rss_doc(good, broken, old))

        posts: list[Posted] = await fake_slack.wait_for(
            lambda: p if len(p := fake_slack.posts_in(NEWS)) == 2 else None
        )
        by_title = {p.text.split(" (")[0]: p for p in posts}
        assert accessory(by_title["NATO talks: Lavrov"].blocks) == {
            "type": "image",
            "image_url": "https://img.example/a.jpg",
            "alt_text": "NATO talks: Lavrov",
        }
        # The broken picture is left out, the rest of the layout is not.
        bare = by_title["NATO summit: Stoltenberg"].blocks
        assert accessory(bare) is None
        assert "<https://news.example/b|NATO summit: Stoltenberg>" in bare[0]["text"]["text"]
        channel = Channel("slack", TEAM, NEWS)
        # Both outbox rows marked sent (the dispatcher logs it after the store write).
        await slack.logged("alert sent", count=2)
        status = await slack.app.store.delivery_status(channel)
        assert (status.pending, status.rejected) == (0, 0)
        assert len(fake_slack.posts_in(NEWS)) == 2
        assert len(fake_slack.called("chat.postMessage")) == 3  # one refused for its image
    finally:
        await slack.close()
