"""Feed text built to overflow Slack's limits once escaped still arrives as Block Kit.

`&`, `<` and `>` are five or four characters escaped, so text measured before escaping can
come out several times longer; the strict fake refuses a layout over any limit as Slack
does (invalid_blocks), and the notifier would then fall back to plain text. Each test
goes through the real notifier and checks that the blocks themselves were accepted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bot.adapters.slack.blocks import render
from bot.adapters.slack.home import home_view
from bot.adapters.slack.mrkdwn import units
from bot.core.digest import build_digest
from bot.core.models import Alert, Channel, Feed, Subscription
from tests.support.fake_slack import TEAM, FakeSlack
from tests.support.slack_alerts import notifier_for, slack_alert
from tests.support.slack_limits import MAX_VIEW_BLOCKS, block_problems
from tests.support.slack_workspace import NEWS

# Source names full of the three characters mrkdwn escapes: 2,000 characters plain, over
# 8,000 escaped.
HOSTILE_SOURCES = ", ".join(f"<&{n}&>" for n in range(300))
ENTITY_PIECE = re.compile(r"&(?!amp;|lt;|gt;)")  # an `&` that does not start an entity


def texts(blocks: list[dict[str, object]]) -> list[str]:
    """Every mrkdwn text in the blocks: sections and context elements."""
    found = []
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            found.append(str(text["text"]))
        for element in block.get("elements") or []:  # type: ignore[attr-defined]
            if isinstance(element, dict) and element.get("type") == "mrkdwn":
                found.append(str(element["text"]))
    return found


async def sent_as_blocks(fake: FakeSlack, alert: Alert) -> list[dict[str, object]]:
    """Send through the real notifier; the blocks Slack accepted, first time."""
    await notifier_for(fake).send(alert)
    [call] = fake.called("chat.postMessage")  # accepted at once: no plain-text fallback
    [post] = fake.posts_in(NEWS)
    assert post.blocks, "Slack refused the blocks; the alert went out as plain text"
    assert call.args["blocks"] == post.blocks
    return post.blocks


async def test_a_hostile_also_reported_by_list_is_cut_after_escaping(
    fake_slack: FakeSlack,
) -> None:
    blocks = await sent_as_blocks(
        fake_slack, slack_alert(extra={"also_reported_by": HOSTILE_SOURCES})
    )
    [also] = [t for t in texts(blocks) if t.startswith("Also reported by: ")]
    assert units(also) <= 2000
    assert also.endswith("…")
    assert "&lt;&amp;0&amp;&gt;" in also  # shown escaped, never as markup
    assert "<&" not in also
    assert not ENTITY_PIECE.search(also)  # no entity split by the cut


async def test_hostile_topics_and_source_stay_within_the_context_limits(
    fake_slack: FakeSlack,
) -> None:
    topics = tuple(f"<&{n}&>" * 40 for n in range(8))
    alert = slack_alert(topics=topics, matched=topics[:1], source="&" * 500)
    blocks = await sent_as_blocks(fake_slack, alert)
    for text in texts(blocks):
        assert not ENTITY_PIECE.search(text.replace("<!date^", "").replace("<https://", ""))


async def test_a_huge_link_drops_the_link_not_the_layout(fake_slack: FakeSlack) -> None:
    link = "https://news.example/" + "a" * 4000
    blocks = await sent_as_blocks(fake_slack, slack_alert(link=link))
    headline = texts(blocks)[0]
    assert "Russia-US talks on security guarantees: Lavrov" in headline
    assert units(headline) <= 3000


async def test_a_digest_of_hostile_sources_is_accepted_as_blocks(fake_slack: FakeSlack) -> None:
    channel = Channel("slack", TEAM, NEWS)
    stories = [
        slack_alert(
            alert_id=n,
            story_id=f"s{n}",
            title=f"Story {n} " + "&" * 250,
            source="<&>" * 700,
            topics=tuple("&<>" * 300 for _ in range(3)),
            published=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for n in range(1, 4)
    ]
    digest = build_digest(channel, stories, "quiet hours ended")
    blocks = await sent_as_blocks(fake_slack, digest)
    assert len(blocks) == 5  # headline, three stories, the closing context
    assert block_problems(blocks) == []


def test_the_home_tab_measures_hostile_queries_and_feeds_escaped() -> None:
    channel = Channel("slack", TEAM, NEWS)
    when = datetime(2026, 1, 1, tzinfo=UTC)
    subs = [
        Subscription(1, channel, "&" * 2000, "UALICE", when, paused_reason="<&>" * 400),
        Subscription(2, channel, "NATO <b>", "UALICE", when),
    ]
    feeds = [Feed(1, "https://feeds.example/" + "a" * 2900, "<&>" * 200, trusted=True)]
    view = home_view("UALICE", TEAM, subs, feeds, {})
    assert block_problems(view["blocks"], MAX_VIEW_BLOCKS, "/view") == []
    shown = texts(view["blocks"])
    assert all(not ENTITY_PIECE.search(t.replace("<https://", "")) for t in shown)
    assert any("NATO &lt;b&gt;" in t for t in shown)


async def test_a_crowd_asking_to_be_mentioned_is_pinged_in_sections_of_its_own(
    fake_slack: FakeSlack,
) -> None:
    crowd = tuple(f"U{n:010d}" for n in range(400))  # 400 people who subscribed with @me
    blocks = await sent_as_blocks(fake_slack, slack_alert(mentions=crowd))
    shown = " ".join(texts(blocks))
    assert all(f"<@{user}>" in shown for user in crowd)
    assert blocks[0]["text"]["text"].startswith("*<https://news.example/lavrov-1|")  # type: ignore[index]
    assert blocks[-1]["type"] == "actions"  # the rest of the layout is all there


def test_a_digest_with_nothing_for_its_closing_line_leaves_the_line_out() -> None:
    digest = slack_alert(kind="digest", source="", topics=(), summary="• One story")
    blocks = render(digest).blocks
    assert block_problems(blocks) == []
    assert [b["type"] for b in blocks] == ["section", "section"]
