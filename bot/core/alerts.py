"""Turn a story and the subscriptions it matched into one alert per channel."""

from __future__ import annotations

from bot.core.models import Alert, Channel, Match, Story, Subscription
from bot.core.summary import summarise


def build_alerts(
    story: Story, matches: list[Match], subscriptions: dict[int, Subscription]
) -> list[Alert]:
    """One alert per channel, listing every topic of that channel the story matched."""
    topics: dict[Channel, list[str]] = {}
    words: dict[Channel, list[str]] = {}
    for match in matches:
        sub = subscriptions.get(match.subscription_id)
        if sub is None:  # removed since the index was read: nobody wants it now
            continue
        topics.setdefault(sub.channel, []).append(match.query)
        words.setdefault(sub.channel, []).extend(match.matched)
    return [
        Alert(
            channel=channel,
            feed_id=story.feed_id,
            story_id=story.story_id,
            title=story.title,
            link=story.link,
            source=story.source,
            published=story.published,
            summary=summarise(story.summary),
            topics=tuple(dict.fromkeys(channel_topics)),
            matched=tuple(dict.fromkeys(words[channel])),
            image=story.image,
        )
        for channel, channel_topics in topics.items()
    ]
