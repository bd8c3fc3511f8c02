"""The App Home tab: a person's subscriptions in every channel, and how the feeds are doing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.adapters.slack import mrkdwn
from bot.adapters.slack.blocks import Block
from bot.core.commands.feeds import health
from bot.core.models import Channel, Feed, Subscription
from bot.core.personal import DM_PREFIX

QUERY_LIMIT = 1500  # a subscription's query on the Home tab, escaped
REASON_LIMIT = 500
HOME_UNSUBSCRIBE = "newsbot_home_unsubscribe"  # action_id prefix of a personal one's Stop
URL_LIMIT = 2000  # a feed's link on the Home tab; with its name and state under 3,000


def home_view(
    user_id: str,
    team_id: str,
    subs: Sequence[Subscription],
    feeds: Sequence[Feed],
    channels_by_feed: Mapping[int, Sequence[Channel]],
) -> dict[str, Any]:
    """`views.publish` payload; everything from users or feeds is escaped."""
    mine = [
        s
        for s in subs
        if s.channel.platform == "slack"
        and s.channel.workspace == team_id
        and (s.created_by == user_id or s.mention == user_id)
    ]
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your news subscriptions"}}
    ]
    if not mine:
        blocks.append(_section("None yet. In a channel, try `/news subscribe NATO`."))
    by_channel: dict[str, list[Subscription]] = {}
    for sub in mine:
        by_channel.setdefault(sub.channel.channel, []).append(sub)
    for channel, channel_subs in by_channel.items():
        if channel.startswith(DM_PREFIX):
            # Yours alone: each with a button to stop it here.
            blocks.append(_section(_where(channel)))
            blocks.extend(_stoppable(sub) for sub in channel_subs)
            continue
        lines = [_where(channel)]
        for sub in channel_subs:
            # Measured escaped, so one line always fits in a section's 3,000.
            line = f"• #{sub.id}  {mrkdwn.escaped(sub.query, QUERY_LIMIT)}"
            if sub.paused_reason:
                line += f"  _(paused: {mrkdwn.escaped(sub.paused_reason, REASON_LIMIT)})_"
            lines.append(line)
        blocks.extend(_sections(lines))
    blocks.append({"type": "divider"})
    # The feeds whose stories reach this person: the operator's (matched for every
    # channel) and those added in a channel where they subscribe.
    channels = {s.channel for s in mine}
    used = [f for f in feeds if f.trusted or channels & set(channels_by_feed.get(f.id, ()))]
    blocks.append(
        {"type": "header", "text": {"type": "plain_text", "text": "Feeds you get stories from"}}
    )
    blocks.extend(_sections([_feed_line(f) for f in used] or ["No feeds yet."]))
    if len(blocks) > mrkdwn.HOME_BLOCK_LIMIT:
        blocks = blocks[: mrkdwn.HOME_BLOCK_LIMIT - 1]
        blocks.append({"type": "context", "elements": [_text("… more than fits here.")]})
    return {"type": "home", "blocks": blocks}


def _stoppable(sub: Subscription) -> Block:
    """A personal subscription's line, with a Stop button (HOME_UNSUBSCRIBE:<id>)."""
    line = f"• #{sub.id}  {mrkdwn.escaped(sub.query, QUERY_LIMIT)}"
    if sub.paused_reason:
        line += f"  _(paused: {mrkdwn.escaped(sub.paused_reason, REASON_LIMIT)})_"
    return {
        "type": "section",
        "text": _text(line),
        "accessory": {
            "type": "button",
            "text": {"type": "plain_text", "text": "Stop"},
            "action_id": f"{HOME_UNSUBSCRIBE}:{sub.id}",
            "value": str(sub.id),
        },
    }


def _where(channel: str) -> str:
    if channel.startswith(DM_PREFIX):
        # Personal subscriptions: stopped here (Stop), or /news unsubscribe <id> anywhere.
        return "*By direct message to you* (or stop one with `/news unsubscribe <id>`)"
    return f"<#{channel}>" if _is_channel_id(channel) else mrkdwn.escape(channel)


def _is_channel_id(value: str) -> bool:
    return value.isalnum() and value[:1] in {"C", "G", "D"} and value.isupper()


def _feed_line(feed: Feed) -> str:
    name = mrkdwn.escaped(feed.title or feed.url, 120)
    url = mrkdwn.safe_url(feed.url)
    # A link of thousands of characters would not fit in a section: the name alone then.
    label = f"<{url}|{name}>" if url and mrkdwn.units(url) <= URL_LIMIT else name
    icon = ":white_check_mark:"
    if feed.paused:
        icon = ":double_vertical_bar:"
    elif feed.failures:
        icon = ":warning:"
    state = mrkdwn.escaped(health(feed), 500)
    return f"{icon} {label} — {state}"


def _text(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> Block:
    return {"type": "section", "text": _text(text)}


def _sections(lines: Sequence[str]) -> list[Block]:
    """Lines packed into as few sections as fit in 3000 characters each."""
    out: list[Block] = []
    chunk: list[str] = []
    used = 0
    for line in lines:
        size = mrkdwn.units(line) + 1
        if chunk and used + size > mrkdwn.SECTION_LIMIT:
            out.append(_section("\n".join(chunk)))
            chunk, used = [], 0
        chunk.append(line)  # every line is far below the limit (see home_view)
        used += size
    if chunk:
        out.append(_section("\n".join(chunk)))
    return out
