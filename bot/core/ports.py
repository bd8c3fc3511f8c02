"""What the core needs from the outside world, as small contracts per concern.

The store contracts live here rather than in bot/store so that the use-cases in
bot/core can depend on them without importing an I/O library (dependency inversion):
bot/store implements them, the adapters implement Notifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.models import Alert, Channel, Feed, Story, Subscription


class SubscriptionStore(Protocol):
    async def add_subscriptions(
        self, channel: Channel, queries: Sequence[str], created_by: str
    ) -> list[Subscription]: ...

    async def remove_subscription(
        self, channel: Channel, subscription_id: int
    ) -> Subscription | None: ...

    async def list_subscriptions(self, channel: Channel) -> list[Subscription]: ...

    async def all_subscriptions(self) -> list[Subscription]: ...


@dataclass(frozen=True, slots=True)
class FetchState:
    """What a poll learned about a feed, saved whatever the outcome."""

    etag: str | None
    last_modified: str | None
    next_check_at: datetime
    title: str | None = None
    error: str | None = None  # None: the fetch succeeded


class FeedStore(Protocol):
    async def add_feed(self, url: str, *, trusted: bool, added_by: str | None) -> Feed: ...

    async def list_feeds(self) -> list[Feed]: ...

    async def due_feeds(self, now: datetime, limit: int) -> list[Feed]: ...

    async def save_fetch_state(self, feed_id: int, state: FetchState, now: datetime) -> None: ...


class StoryStore(Protocol):
    async def unseen_story_ids(self, feed_id: int, story_ids: Sequence[str]) -> set[str]: ...

    async def record_stories(
        self,
        feed_id: int,
        stories: Sequence[Story],
        alerts: Sequence[Alert],
        now: datetime,
        *,
        prime: bool = False,
    ) -> int:
        """Mark `stories` seen and queue `alerts` in one transaction; returns alerts queued.

        Doing both at once is what makes a crash unable to lose an alert: either the
        story is unseen (and will be matched again) or its alerts are in the outbox.
        """
        ...


class OutboxStore(Protocol):
    async def pending_alerts(self, limit: int) -> list[Alert]: ...

    async def mark_sent(self, alert_id: int, remote_id: str | None, now: datetime) -> None: ...

    async def mark_failed(self, alert_id: int, error: str, retry_at: datetime) -> None: ...


class Store(SubscriptionStore, FeedStore, StoryStore, OutboxStore, Protocol):
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    remote_id: str | None = None  # the platform's message id, when it has one


class PermanentSendError(Exception):
    """The platform refused for good (channel gone, bot removed): do not retry."""


class Notifier(Protocol):
    """Posts alerts on one platform; implemented by each adapter."""

    platform: str

    async def send(self, alert: Alert) -> SendResult: ...
