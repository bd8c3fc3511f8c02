"""Block Kit rendering: Slack's limits, escaping, mentions, notices and digests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack.blocks import render
from bot.adapters.slack.mrkdwn import units
from bot.adapters.slack.reply_users import ReplyUsers
from bot.core.models import Alert, Channel

CONTROL = ("<!channel>", "<!here>", "<!everyone>", "<@U", "<#C", "<http")


def alert(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "channel": Channel("slack", "T1", "CNEWS"),
        "feed_id": 1,
        "story_id": "s1",
        "title": "NATO summit opens",
        "link": "https://news.example/s1",
        "source": "Test Wire",
        "published": datetime(2021, 12, 27, 14, 10, tzinfo=UTC),
        "summary": "Leaders of NATO meet in Brussels.",
        "topics": ("NATO",),
        "matched": ("NATO",),
        "id": 1,
    }
    fields.update(changes)
    return Alert(**fields)  # type: ignore[arg-type]


def sections(blocks: list[dict[str, object]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]  # type: ignore[index]


def test_a_huge_summary_full_of_ampersands_stays_within_one_section() -> None:
    message = render(alert(summary="NATO & allies " * 1000, title="T & T " * 200))
    [text] = sections(message.blocks)
    assert units(text) <= 3000
    assert text.endswith("…")
    assert "&amp;" in text
    assert "&am…" not in text  # never a half entity
    assert "*NATO*" in text


@settings(max_examples=30, deadline=None)
@given(
    title=st.text(min_size=1, max_size=400),
    summary=st.text(max_size=4000),
    word=st.text(alphabet="NATO<>&*@!", min_size=1, max_size=6),
)
def test_any_feed_text_renders_within_limits_and_without_control_sequences(
    title: str, summary: str, word: str
) -> None:
    message = render(alert(title=title, summary=summary, matched=(word,), link="javascript:x"))
    everything = json.dumps(message.blocks, ensure_ascii=False) + message.text
    for control in CONTROL:
        assert control not in everything.replace("<!date^", "")
    assert len(message.blocks) <= 50
    assert all(units(text) <= 3000 for text in sections(message.blocks))


def test_only_the_subscribers_who_asked_are_mentioned() -> None:
    message = render(alert(mentions=("U123ABC", "<!channel>", "W9ZZ")))
    [text] = sections(message.blocks)
    assert text.startswith("<@U123ABC> <@W9ZZ>\n")
    assert "<!channel>" not in json.dumps(message.blocks)
    assert message.text.startswith("<@U123ABC> <@W9ZZ> ")


def test_also_reported_by_and_topic_buttons() -> None:
    message = render(
        alert(
            topics=tuple(f"topic {n}" for n in range(8)),
            extra={"also_reported_by": "Reuters, AP <wire>"},
        )
    )
    context = json.dumps(message.blocks[1])
    assert "Also reported by: Reuters, AP &lt;wire&gt;" in context
    buttons = message.blocks[2]["elements"]
    assert [b["value"] for b in buttons] == [f"topic {n}" for n in range(5)]
    assert len({b["action_id"] for b in buttons}) == 5  # Slack wants them unique


def test_a_non_http_link_is_not_linked() -> None:
    message = render(alert(link="javascript:alert(1)"))
    assert "javascript" not in json.dumps(message.blocks)


def test_a_notice_has_its_headline_and_text_and_no_buttons() -> None:
    message = render(
        alert(kind="notice", title="Feed paused: Test Wire", summary="It failed 10 times <x>.")
    )
    [text] = sections(message.blocks)
    assert text == "*Feed paused: Test Wire*\nIt failed 10 times &lt;x&gt;."
    assert all(b["type"] != "actions" for b in message.blocks)


def test_a_digest_of_many_lines_fits_in_fifty_blocks() -> None:
    lines = "\n".join(f"• Story {n} about NATO (Wire) https://news.example/{n}" for n in range(80))
    message = render(alert(kind="digest", title="80 stories for NATO", summary=lines))
    assert len(message.blocks) <= 50
    assert sections(message.blocks)[0] == "*80 stories for NATO*"
    assert "*NATO*" in sections(message.blocks)[1]


def test_a_digest_shows_each_folded_story_linked() -> None:
    from bot.core.digest import build_digest

    stories = [
        alert(id=n, story_id=f"s{n}", title=f"Story {n} <b>", link=f"https://news.example/{n}")
        for n in range(1, 11)
    ]
    digest = build_digest(Channel("slack", "T1", "CNEWS"), stories, "quiet hours ended")
    message = render(digest)
    texts = sections(message.blocks)
    assert texts[0] == "*10 stories for NATO*"
    for n in range(1, 11):
        assert f"<https://news.example/{n}|Story {n} &lt;b&gt;>" in texts[n]
    assert "quiet hours ended" in json.dumps(message.blocks[-1])


def test_escaping_that_multiplies_the_length_still_keeps_most_of_the_room() -> None:
    # "&" is five characters escaped: the cut must shrink by that ratio, not to nothing.
    message = render(alert(summary="& " * 2000, title="Ampersands"))
    [text] = sections(message.blocks)
    assert units(text) <= 3000
    assert text.count("&amp;") > 300


def test_a_reply_names_people_as_mentions_only_where_that_pings_no_one() -> None:
    users = ReplyUsers()
    text = f"#1 NATO <@UBOB> (by {users.show('UALICE')})"
    # Ephemeral: Alice as a mention (no notification); the query's own `<@UBOB>` stays text.
    assert users.render(text, ephemeral=True) == "#1 NATO &lt;@UBOB&gt; (by <@UALICE>)"
    # Posted to the channel a mention would ping Alice: her id is shown as text instead.
    assert users.render(text, ephemeral=False) == "#1 NATO &lt;@UBOB&gt; (by UALICE)"
