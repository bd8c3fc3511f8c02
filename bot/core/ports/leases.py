"""The storage contracts that let several processes share one database.

Each process leases the feeds it refreshes and the channels it sends to, so two never
do the same work and a dead one's work is taken over when its lease runs out; and it
hears from the database when another process changed shared settings. `FeedStore`
and `OutboxStore` (bot.core.ports.stores) extend the lease protocols, `Store` includes
`ChangeFeed`: what a backend implements is unchanged, the multi-process part of it is
only kept apart here to be read as one protocol of its own.
"""

from __future__ import annotations

from asyncio import Event
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.models import Channel
from bot.core.ports.records import ChannelClaim, FeedClaim, FetchState, Lease


class FeedLeases(Protocol):
    """Feeds leased to one process at a time for refreshing (part of `FeedStore`)."""

    async def claim_feeds(
        self,
        owner: str,
        now: datetime,
        *,
        limit: int,
        lease_for: timedelta,
        per_host: int,
        exclude: Collection[int] = (),
    ) -> list[FeedClaim]:
        """Lease up to `limit` due feeds to `owner` until `now + lease_for`, oldest due first.

        A feed leased to another owner is skipped until that lease expires (its process
        died or stalled: then it is taken over). At most `per_host` feeds of one host are
        leased at a time, counting every owner's live leases: the fleet's cap on requests
        to one host. Two owners claiming at once get disjoint feeds. Feeds in `exclude`
        (the caller's own refreshes still running) are never claimed: re-leasing one whose
        lease ran out meanwhile would move its token on and fence out the caller's own
        result, again and again while refreshes are slower than the lease.
        """
        ...

    async def finish_feeds(
        self, results: Sequence[tuple[FeedClaim, FetchState]], now: datetime
    ) -> list[int]:
        """Save each claimed feed's outcome and free its lease, in one transaction; an
        outcome whose lease another owner holds now (fenced out) is not saved. Returns
        the ids of the feeds whose outcome was refused so."""
        ...

    async def release_feeds(self, claims: Sequence[FeedClaim]) -> None:
        """Free leases without saving anything (claimed, then not refreshed: shutting down)."""
        ...


class ChannelLeases(Protocol):
    """Channels leased to one process at a time for sending (part of `OutboxStore`)."""

    async def claim_channels(
        self,
        owner: str,
        now: datetime,
        platforms: Sequence[str],
        *,
        per_channel: int,
        limit: int,
        lease_for: timedelta,
    ) -> list[ChannelClaim]:
        """Lease up to `limit` channels with due alerts to `owner` until `now + lease_for`,
        and give their due alerts as `due_deliveries` would (oldest first, at most
        `per_channel` each, none for a channel whose oldest is not due), marked claimed.

        One process sends a channel's alerts at a time, so their order holds across
        processes: a channel leased to another owner is skipped until that lease expires
        (its process died: its alert in flight is then resent here, maybe_sent). Two
        owners claiming at once get disjoint channels.
        """
        ...

    async def mark_claimed_in_flight(
        self, alert_id: int, now: datetime, lease: Lease, lease_for: timedelta
    ) -> bool:
        """`mark_in_flight` for an alert of a claimed channel, only while the channel's
        lease holds (renewed to `now + lease_for`); LeaseLost if another owner has it.
        False (nothing marked) when the alert is no longer pending: not to be sent."""
        ...

    async def release_channel(self, channel: Channel, lease: Lease) -> None:
        """Give a channel's lease back (its pass is over) if it is still this one."""
        ...


class ChangeFeed(Protocol):
    """Word from the database that another process changed shared settings."""

    async def watch_changes(self, on_change: Callable[[str], None], stop: Event) -> None:
        """Call `on_change(table)` ("subscriptions", "channel_settings") soon after any
        process commits a change to it, until `stop` is set. `on_change("listening")`
        each time it starts listening (at first, and again after a lost connection): a
        change committed before then was not told, so look again.
        Returns at once when the backend serves one process (SQLite): nothing to watch.
        """
        ...
