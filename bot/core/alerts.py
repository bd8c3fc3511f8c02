"""Turn a story and the subscriptions it matched into one alert per channel."""

from __future__ import annotations

from dataclasses import replace

from bot.core.models import Alert, Channel, Match, Story, Subscription
from bot.core.summary import DISCORD_DESCRIPTION_LIMIT, summarise

# The outbox keeps a summary long enough for any configured length; delivery cuts it to
# NEWSBOT_SUMMARY_LENGTH (default 300) when it sends, so changing the setting needs no
# re-matching.
STORED_SUMMARY_LIMIT = DISCORD_DESCRIPTION_LIMIT // 2


def build_alerts(
    story: Story, matches: list[Match], subscriptions: dict[int, Subscription]
) -> list[Alert]:
    """One alert per channel, listing every topic of that channel the story matched.

    Paused subscriptions (the channel refused delivery for good) match nothing. Each
    subscriber who asked to be mentioned is mentioned once.
    """
    topics: dict[Channel, list[str]] = {}
    words: dict[Channel, list[str]] = {}
    mentions: dict[Channel, list[str]] = {}
    for match in matches:
        sub = subscriptions.get(match.subscription_id)
        if sub is None or sub.paused_reason is not None:
            continue  # removed since the index was read, or paused: nobody to tell now
        # The subscription's own text: the matcher saw it without its `source:` terms.
        topics.setdefault(sub.channel, []).append(sub.query)
        words.setdefault(sub.channel, []).extend(match.matched)
        if sub.mention:
            mentions.setdefault(sub.channel, []).append(sub.mention)
    summary = summarise(story.summary, STORED_SUMMARY_LIMIT)
    return [
        Alert(
            channel=channel,
            feed_id=story.feed_id,
            story_id=story.story_id,
            title=story.title,
            link=story.link,
            source=story.source,
            published=story.published,
            summary=summary,
            topics=tuple(dict.fromkeys(channel_topics)),
            matched=tuple(dict.fromkeys(words[channel])),
            image=story.image,
            mentions=tuple(dict.fromkeys(mentions.get(channel, ()))),
            # For translated titles (bot/delivery/enrich.py): no detection needed then.
            extra={"language": story.language} if story.language else {},
        )
        for channel, channel_topics in topics.items()
    ]


def set_channel_paused(
    subscriptions: dict[int, Subscription], channel: Channel, reason: str | None
) -> None:
    """Update the live subscriptions of `channel` after it was paused (or resumed)."""
    for sub_id, sub in list(subscriptions.items()):
        if sub.channel == channel:
            subscriptions[sub_id] = replace(sub, paused_reason=reason)
