"""The live set of subscriptions: the matcher's index plus who subscribed where."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.alerts import build_alerts
from bot.core.matching.matcher import Matcher
from bot.core.models import Alert, Story, Subscription
from bot.core.query import Query
from bot.core.query.sources import SourceFilter, haystacks, split_sources


class SubscriptionIndex:
    def __init__(self, subscriptions: Iterable[Subscription] = ()) -> None:
        self.matcher = Matcher()
        self.by_id = {sub.id: sub for sub in subscriptions}
        # `source:` terms, by subscription: checked on the few matches, never indexed.
        self.sources: dict[int, SourceFilter] = {}
        self.matcher.add_many(
            (sub.id, self._words(sub.id, sub.query)) for sub in self.by_id.values()
        )

    def __len__(self) -> int:
        return len(self.by_id)

    def add(self, sub: Subscription, parsed: Query | None = None) -> None:
        words = self._words(sub.id, sub.query)
        self.matcher.add(sub.id, parsed if parsed is not None else words)
        self.by_id[sub.id] = sub

    def remove(self, subscription_id: int) -> None:
        self.matcher.remove(subscription_id)
        self.by_id.pop(subscription_id, None)
        self.sources.pop(subscription_id, None)

    def alerts_for(self, story: Story, feed_url: str | None = None) -> list[Alert]:
        """The alerts `story` makes; `feed_url` (its feed's address) for `source:` hosts."""
        matches = self.matcher.match(story.title, story.summary)
        if matches and self.sources:
            sources = self.sources
            places: list[str] | None = None  # the story's outlet, worked out once if needed
            kept = []
            for m in matches:
                wanted = sources.get(m.subscription_id)
                if wanted is not None:
                    if places is None:
                        places = haystacks(story.source, feed_url, story.link)
                    if not wanted.admits(places):
                        continue
                kept.append(m)
            matches = kept
        return build_alerts(story, matches, self.by_id) if matches else []

    def _words(self, subscription_id: int, query: str) -> str:
        """The query without its `source:` terms (which are noted): what the matcher gets."""
        split = split_sources(query)
        if split.sources:
            self.sources[subscription_id] = split.sources
        else:
            self.sources.pop(subscription_id, None)
        return split.words
