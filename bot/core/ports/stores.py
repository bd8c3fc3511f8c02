"""The storage contracts, one small protocol per concern.

Each consumer depends on the role it uses, not on the whole store: the watcher on
`FeedStore` and `StoryStore`, delivery on the outbox roles (`OutboxStore` for sending,
`HoldStore` for holding and folding alerts, `ParkStore` for keeping a refused channel's
alerts unsent), the command use-cases on what they read and change. `Store` is all of
them, what a backend (bot/store) implements. The parts that let several processes share
one database (feed and channel leases, the change feed) are in `leases`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.channel_settings import ChannelSettings, DigestSchedule, QuietHours
from bot.core.models import Alert, Channel, Feed, Story, Subscription
from bot.core.ports.enrichment import EnrichmentStore
from bot.core.ports.leases import ChangeFeed, ChannelLeases, FeedLeases
from bot.core.ports.pacing import SendPacing
from bot.core.ports.records import (
    ChannelDeliveryStatus,
    Delivery,
    FetchState,
    HeldChannel,
    Lease,
    OutboxDepth,
    PendingEdit,
    SeenTitle,
    StoryCopy,
    StoryKeys,
)


class SubscriptionStore(Protocol):
    async def add_subscriptions(
        self,
        channel: Channel,
        queries: Sequence[str],
        created_by: str,
        *,
        mention: str | None = None,
    ) -> list[Subscription]: ...

    async def pause_channel(self, channel: Channel, reason: str) -> int:
        """Pause every subscription of `channel` (bot removed, channel gone...); count."""
        ...

    async def resume_channel(self, channel: Channel) -> int: ...

    async def pause_workspace(self, platform: str, workspace: str, reason: str) -> int:
        """Pause the active subscriptions of a whole Slack team or Discord guild; count."""
        ...

    async def resume_workspace(self, platform: str, workspace: str, reason: str) -> int:
        """Resume the workspace's subscriptions paused with exactly `reason`; count.

        Only that reason, so a bot re-added to a guild does not also resume a channel
        paused for another cause (a permission still missing).
        """
        ...

    async def remove_subscription(
        self, channel: Channel, subscription_id: int
    ) -> Subscription | None: ...

    async def list_subscriptions(self, channel: Channel) -> list[Subscription]: ...

    async def all_subscriptions(self) -> list[Subscription]: ...


class FeedStore(FeedLeases, Protocol):
    async def add_feed(self, url: str, *, trusted: bool, added_by: str | None) -> Feed: ...

    async def list_feeds(self) -> list[Feed]: ...

    async def due_feeds(self, now: datetime, limit: int) -> list[Feed]: ...

    async def save_fetch_state(self, feed_id: int, state: FetchState, now: datetime) -> None: ...

    async def save_fetch_states(
        self, states: Sequence[tuple[int, FetchState]], now: datetime
    ) -> None:
        """Many feeds' outcomes in one transaction (a poll cycle's worth)."""
        ...

    async def get_feed(self, feed_id: int) -> Feed | None: ...

    async def find_feed(self, ref: str) -> Feed | None:
        """A feed by the id `/news feed list` shows (`3` or `#3`) or by its URL."""
        ...

    async def attach_feed(
        self, url: str, channel: Channel, *, added_by: str, title: str | None = None
    ) -> tuple[Feed, bool]:
        """Add (untrusted) or reuse the feed at `url` and record that `channel` uses it.

        Returns the feed and whether this channel was newly attached.
        """
        ...

    async def import_feed(
        self,
        url: str,
        *,
        title: str | None,
        operator: bool,
        channels: Sequence[Channel],
        added_by: str,
    ) -> tuple[Feed, bool]:
        """One entry of `newsbot feeds import`, all or nothing, in one transaction: add
        the feed (or reuse the one with that URL: its title is kept when it has one,
        and an operator feed stays one) and attach it to `channels`. Returns the feed
        and whether it is new."""
        ...

    async def detach_feed(self, feed_id: int, channel: Channel) -> int | None:
        """Stop `channel` using the feed; None if it did not. Deletes the feed when no
        channel uses it any more and it is not an operator feed; returns the users left."""
        ...

    async def feed_channels(self, feed_id: int) -> list[Channel]:
        """The channels that added the feed with /news feed add."""
        ...

    async def channels_by_feed(self) -> dict[int, list[Channel]]: ...

    async def pause_feed(
        self,
        feed_id: int,
        state: FetchState,
        notices: Sequence[Alert],
        now: datetime,
        *,
        lease: Lease | None = None,
    ) -> None:
        """Record the last failure, pause the feed and queue its notices, all at once.

        With `lease`: only while it still holds (LeaseLost, nothing written, if not)."""
        ...

    async def move_feed(self, feed_id: int, url: str) -> bool:
        """The feed moved for good (301/308): poll `url` from now on. False (and nothing
        changed) when another feed already has that URL."""
        ...

    async def resume_feed(self, feed_id: int, now: datetime) -> Feed | None:
        """Un-pause, reset the failures and make the feed due now."""
        ...


class StoryStore(Protocol):
    async def unseen_story_ids(self, feed_id: int, story_ids: Sequence[str]) -> set[str]: ...

    async def recent_stories(self, since: datetime, limit: int = 5000) -> list[Story]:
        """Stories first seen at or after `since`, newest first (for /news preview)."""
        ...

    async def record_refresh(
        self,
        feed_id: int,
        stories: Sequence[Story],
        alerts: Sequence[Alert],
        now: datetime,
        *,
        prime: bool = False,
        copies: Sequence[StoryCopy] = (),
        keep: int = 0,
        current_ids: Sequence[str] = (),
        lease: Lease | None = None,
        keys: Sequence[StoryKeys] = (),
        keys_since: datetime | None = None,
    ) -> int:
        """Mark `stories` seen and queue `alerts` in one transaction; returns alerts queued.

        Doing both at once is what makes a crash unable to lose an alert: either the
        story is unseen (and will be matched again) or its alerts are in the outbox.
        Also: an alert for a story in `copies` is not queued for a channel that already
        has one for an earlier copy (that alert gets the source in
        extra["also_reported_by"] while pending); and, when `keep` > 0, the feed's seen
        set is pruned to its newest `keep` ids, never dropping one in `current_ids`.
        With `lease` (the feed's, from claim_feeds): written only while the lease still
        holds, checked in the same transaction; else LeaseLost and nothing is written.
        `keys` (of new stories; only those with alerts here count, as only they change
        what a copy queues): each key is claimed for its story unless another story owns
        it since `keys_since` (the duplicate window), which makes this one its copy, as
        if named in `copies`: the database decides, so two processes recording two
        copies at once queue one alert per channel."""
        ...

    async def stories_seen_since(self, since: datetime) -> list[tuple[Story, datetime]]:
        """(story, first seen) for stories first seen at or after `since`, oldest first."""
        ...

    async def forget_story_keys(self, before: datetime, limit: int) -> int:
        """Drop up to `limit` identity keys claimed before `before` (the duplicate window's
        start: record_refresh treats such a key as free anyway); how many were dropped.
        Seen stories are kept for months (NEWSBOT_SEEN_PER_FEED), their keys need not
        be: ten keys a story would otherwise grow with them."""
        ...

    def titles_seen_since(self, since: datetime) -> AsyncIterator[list[SeenTitle]]:
        """What the duplicate index needs of the stories first seen at or after `since`,
        oldest first, a page at a time (an async generator), the connection free between
        pages: a day of a large install is 100,000 stories, never read all at once."""
        ...


class OutboxStore(ChannelLeases, Protocol):
    async def queue_alerts(self, alerts: Sequence[Alert], now: datetime) -> int:
        """Queue alerts not tied to a new story (notices, digests); duplicates ignored.

        The outbox is unique on (channel, feed_id, story_id): give a notice a story_id
        such as "notice:paused:<since>" so it is queued once.
        """
        ...

    async def pending_alerts(self, limit: int) -> list[Alert]: ...

    async def outbox_depth(self) -> OutboxDepth:
        """Unsent messages per platform and status (pending, held, paused), and the
        oldest pending one's queue time per platform: read at each /metrics scrape."""
        ...

    async def due_deliveries(
        self, now: datetime, platforms: Sequence[str], per_channel: int, limit: int
    ) -> list[Delivery]:
        """Pending alerts to send now, oldest first, at most `per_channel` per channel.

        A channel whose oldest pending alert is not due yet (a retry waiting) gives none,
        so nothing overtakes it.
        """
        ...

    async def mark_in_flight(self, alert_id: int, now: datetime) -> None:
        """Durably note that a send is about to start (before calling the notifier)."""
        ...

    async def mark_sent(self, alert_id: int, remote_id: str | None, now: datetime) -> None: ...

    async def mark_failed(
        self, alert_id: int, error: str, retry_at: datetime, *, maybe_sent: bool = True
    ) -> None:
        """Retry at `retry_at`; `maybe_sent` False when the platform surely posted nothing."""
        ...

    async def mark_rejected(self, alert_id: int, error: str, now: datetime) -> None:
        """The platform refused this message for good: keep it, never resend it."""
        ...


class FollowUpStore(Protocol):
    """Sent alerts whose story later came from other outlets: their messages are edited to
    list them (at most once a minute per alert; StoryStore.record_refresh owes the edit)."""

    async def due_edits(
        self, now: datetime, platforms: Sequence[str], limit: int, *, lease_for: timedelta
    ) -> list[PendingEdit]:
        """Claim the sent alerts whose edit is due, oldest due first. A claimed edit is not
        due again, for this process or another, until `lease_for` has passed (or it is
        marked edited or deferred), so one process makes it; one whose claimer died is
        due again then. The claim counts as the edit for the once-a-minute rule."""
        ...

    async def mark_edited(self, alert_id: int, shown: str, now: datetime) -> None:
        """The message now lists `shown` (its "also reported by"); if more outlets came
        meanwhile, another edit is owed a minute after this one, else none."""
        ...

    async def defer_edit(self, alert_id: int, until: datetime | None) -> None:
        """Try the edit again at `until` (a failure that may pass); None: never (the
        message is gone, or the platform refused the edit for good)."""
        ...

    async def recent_sent(self, channel: Channel, since: datetime, limit: int) -> list[PendingEdit]:
        """Alerts (kind "alert") sent to `channel` at or after `since` with a message id,
        oldest first, at most `limit` (the newest): what a thread may hang from."""
        ...


class HoldStore(Protocol):
    """Alerts held back (quiet hours, digest mode, a burst), then folded or released."""

    async def hold_alerts(self, channel: Channel, reason: str, now: datetime) -> int:
        """Hold every pending alert (kind "alert", never maybe-sent) of `channel`."""
        ...

    async def held_channels(self) -> list[HeldChannel]: ...

    async def held_alerts(self, channel: Channel) -> list[Alert]: ...

    async def fold_held(
        self, channel: Channel, digests: Sequence[tuple[Alert, Sequence[int]]], now: datetime
    ) -> int:
        """In one transaction: queue each digest and mark its alerts folded into it."""
        ...

    async def release_held(self, channel: Channel, alert_ids: Sequence[int]) -> int:
        """Make held alerts pending again, to be sent as they are."""
        ...

    async def count_sent(self, channel: Channel, since: datetime) -> int:
        """How many messages were posted to `channel` after `since`."""
        ...


class ParkStore(Protocol):
    """A channel the platform refused: its alerts are kept unsent until it is back."""

    async def park_channel(self, channel: Channel, reason: str) -> int:
        """Keep `channel`'s pending and held alerts unsent (status paused); count."""
        ...

    async def unpark_channel(self, channel: Channel, now: datetime) -> int: ...


class ChannelStatusStore(Protocol):
    async def delivery_status(self, channel: Channel) -> ChannelDeliveryStatus: ...


class ChannelSettingsStore(Protocol):
    async def channel_settings(self, channel: Channel) -> ChannelSettings: ...

    async def set_digest(
        self, channel: Channel, digest: DigestSchedule | None, now: datetime
    ) -> None: ...

    async def set_quiet(
        self, channel: Channel, quiet: QuietHours | None, now: datetime
    ) -> None: ...

    async def set_summary_mode(self, channel: Channel, mode: str, now: datetime) -> None:
        """`feed`, `article` or `model` (bot/core/enrichment.py); what the channel's alerts
        carry as their summary."""
        ...

    async def set_language(self, channel: Channel, language: str | None, now: datetime) -> None:
        """The channel's language (ISO 639-1); None: no translation."""
        ...

    async def set_snooze(self, channel: Channel, until: datetime | None, now: datetime) -> None:
        """Hold `channel`'s alerts until `until` (None: not snoozed)."""
        ...

    async def set_threads(self, channel: Channel, on: bool, now: datetime) -> None:
        """Post a story's later developments in a thread under its first alert, or not."""
        ...


class Store(
    SubscriptionStore,
    FeedStore,
    StoryStore,
    OutboxStore,
    HoldStore,
    ParkStore,
    ChannelStatusStore,
    ChannelSettingsStore,
    ChangeFeed,
    SendPacing,
    EnrichmentStore,
    FollowUpStore,
    Protocol,
):
    """Every contract: what a storage backend implements."""

    async def close(self) -> None: ...
