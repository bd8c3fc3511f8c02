"""Feed health: who hears about a feed that stopped working, and what they are told."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core.models import Alert, Channel, Feed

PAUSED_NOTICE = "notice:paused:{feed_id}:{since}"


def feed_users(
    feed: Feed, attached: Iterable[Channel], subscribed: Iterable[Channel]
) -> list[Channel]:
    """Channels that added the feed; for an operator feed, every channel with subscriptions."""
    users = dict.fromkeys(attached)
    if feed.trusted:
        users.update(dict.fromkeys(subscribed))
    return list(users)


def paused_notice(
    feed: Feed, channel: Channel, *, since: datetime, failures: int, error: str, now: datetime
) -> Alert:
    """One notice per channel per pause: the outbox is unique on its story_id."""
    name = feed.title or feed.url
    when = since.strftime("%Y-%m-%d %H:%M UTC")
    return Alert(
        channel=channel,
        feed_id=feed.id,
        story_id=PAUSED_NOTICE.format(feed_id=feed.id, since=since.strftime("%Y%m%dT%H%M%SZ")),
        title=f"Feed paused: {name}",
        link=feed.url,
        source="newsbot",
        published=now,
        summary=(
            f"Feed #{feed.id} {name} ({feed.url}) has failed {failures} times in a row since "
            f"{when}; last error: {error}. It is no longer checked. "
            f"/news feed resume {feed.id} tries it again."
        ),
        topics=(),
        matched=(),
        kind="notice",
    )
