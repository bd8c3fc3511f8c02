"""The live set of subscriptions: the matcher's index plus who subscribed where."""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.alerts import build_alerts
from bot.core.matching.matcher import Matcher
from bot.core.models import Alert, Story, Subscription
from bot.core.query import Query


class SubscriptionIndex:
    def __init__(self, subscriptions: Iterable[Subscription] = ()) -> None:
        self.matcher = Matcher()
        self.by_id = {sub.id: sub for sub in subscriptions}
        self.matcher.add_many((sub.id, sub.query) for sub in self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def add(self, sub: Subscription, parsed: Query | None = None) -> None:
        self.matcher.add(sub.id, parsed if parsed is not None else sub.query)
        self.by_id[sub.id] = sub

    def remove(self, subscription_id: int) -> None:
        self.matcher.remove(subscription_id)
        self.by_id.pop(subscription_id, None)

    def alerts_for(self, story: Story) -> list[Alert]:
        matches = self.matcher.match(story.title, story.summary)
        return build_alerts(story, matches, self.by_id) if matches else []
