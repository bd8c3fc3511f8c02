"""The records that cross the store contracts: what a poll learned, what delivery sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.models import Alert, Channel, Feed

# What the duplicate index keeps of a seen story: (feed_id, story_id, title, link, source,
# first seen). A tuple, not a record: a start-up rebuild reads 100,000 of them.
SeenTitle = tuple[int, str, str, str, str, datetime]


@dataclass(frozen=True, slots=True)
class FetchState:
    """What a poll learned about a feed, saved whatever the outcome."""

    etag: str | None
    last_modified: str | None
    next_check_at: datetime
    title: str | None = None
    error: str | None = None  # None: the fetch succeeded
    content_hash: str | None = None  # None: keep the stored one (a 304, say)
    ttl_seconds: int | None = None  # the feed's <ttl> (0: none); None: keep the stored one


@dataclass(frozen=True, slots=True)
class StoryCopy:
    """A new story that earlier stories (other outlets, same story) already carried.

    `earlier` are (feed_id, story_id) of those stories, oldest first: a channel that got
    an alert for any of them gets none for this copy, only "also reported by" `source`.
    """

    story_id: str
    source: str
    earlier: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class StoryKeys:
    """What makes a new story the same as another in the database's eyes: exact keys (a
    hash of its link, one of its title's words), stable across processes. The first story
    recorded with a key owns it; a later one with that key is its copy (one alert per
    channel, "also reported by" `source`), however many processes parse them.

    `near`: keys of titles that are nearly the same (bot/core/titles.py). A near key
    another story owns makes this one its copy only when their titles (`words`, and the
    owner's as stored) are the same story by bot.core.titles.same_story."""

    story_id: str
    source: str
    keys: tuple[str, ...]
    near: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Delivery:
    """A pending alert as the dispatcher sees it."""

    alert: Alert
    attempts: int
    maybe_sent: bool  # an earlier attempt may have reached the platform (crash, timeout)
    # When it was queued: for an alert, when its story was first seen (one transaction).
    queued_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxDepth:
    """The unsent part of the outbox, for /metrics: how many messages per (platform,
    status) for the statuses pending, held and paused, and when the oldest pending one
    of each platform was queued."""

    counts: dict[tuple[str, str], int]
    oldest_pending: dict[str, datetime]


@dataclass(frozen=True, slots=True)
class HeldChannel:
    """A channel with alerts held back (quiet hours, digest mode, a burst)."""

    channel: Channel
    count: int
    oldest_held_at: datetime


@dataclass(frozen=True, slots=True)
class PendingEdit:
    """A sent alert that owes its message an edit: more outlets reported its story."""

    alert: Alert  # as it should read now (extra["also_reported_by"] lists them all)
    remote_id: str  # the platform's message id (Slack: its ts)


@dataclass(frozen=True, slots=True)
class ChannelDeliveryStatus:
    pending: int
    held: int
    paused: int  # kept unsent because the platform refused the channel
    last_sent_at: datetime | None
    next_attempt_at: datetime | None  # of the oldest pending alert
    last_error: str | None
    rejected: int = 0  # refused by the platform as messages (MessageRejected), not resent


@dataclass(frozen=True, slots=True)
class Lease:
    """A process's claim on a feed's refresh or a channel's sending, several processes
    sharing one database.

    `token` is the fencing token: it grows at every claim of the same thing, so a write
    carrying an older token (a process that stalled past `expires_at` while another took
    over) is refused, even if that process holds a newer lease by then.
    """

    owner: str
    token: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class FeedClaim:
    """A due feed this process claimed to refresh, and the lease it holds on it."""

    feed: Feed
    lease: Lease


@dataclass(frozen=True, slots=True)
class ChannelClaim:
    """A channel this process claimed to send to, its lease and its due alerts, in order."""

    channel: Channel
    lease: Lease
    deliveries: tuple[Delivery, ...]


class LeaseLost(Exception):
    """The lease a write depended on is another process's now: the write was refused,
    nothing of it was kept (that process's newer work stands)."""
