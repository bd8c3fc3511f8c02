"""Domain records shared by the watcher, the store, delivery and the adapters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

AlertKind = Literal["alert", "notice", "digest"]


@dataclass(frozen=True, slots=True)
class Channel:
    """Where alerts go and commands come from: one chat channel on one platform."""

    platform: str  # "console", "discord", "slack"
    workspace: str  # Slack team id or Discord guild id; "local" on the console
    channel: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace}/{self.channel}"


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str | None
    trusted: bool  # operator feeds (NEWSBOT_FEEDS_FILE) skip the network-safety checks
    etag: str | None = None
    last_modified: str | None = None
    primed: bool = False  # its stories at first sight were recorded without alerting
    failures: int = 0
    last_error: str | None = None
    failing_since: datetime | None = None
    paused: bool = False
    paused_at: datetime | None = None  # paused after too many failures; resume un-pauses
    last_checked_at: datetime | None = None
    content_hash: str | None = None  # of the last body parsed; the same bytes skip parsing
    ttl_seconds: int = 0  # the feed's own <ttl>, as last parsed (0: none)


@dataclass(frozen=True, slots=True)
class Story:
    """One normalised feed entry: plain text, canonical link, UTC time."""

    feed_id: int
    story_id: str  # stable identity within its feed (guid, canonical link or hash)
    title: str
    link: str
    summary: str
    published: datetime
    source: str
    image: str | None = None
    language: str | None = None  # the feed's declared language (`en-us`), if it has one


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    channel: Channel
    query: str
    created_by: str
    created_at: datetime
    mention: str | None = None  # a platform user id to mention in alerts, if asked for
    paused_reason: str | None = None  # None: active; else why delivery to it stopped


class Span(NamedTuple):
    """Where a matched word or phrase sits: `text[start:end]` of the story's title or summary."""

    field: Literal["title", "summary"]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Match:
    """One subscription that matched one story, and the words that made it match.

    `matched` names the query's terms that were found, as the subscriber wrote them
    (`Russia`, `security guarantees`, `Russ*`), for "Matched: ..." lines; `spans` says where
    the story has them (`Russian`, `security-guarantees`...), title first, in text order, for
    highlighting. Terms under NOT never appear in either. The matcher computes `spans` on
    first use (a lazy sequence), so matching does not pay for offsets nobody reads.
    """

    subscription_id: int
    query: str
    matched: tuple[str, ...]
    spans: Sequence[Span] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """A platform-neutral message for one channel: each adapter renders it natively.

    kind "alert" is one story; "notice" is a message from the bot itself (a feed paused,
    say: `title` is its headline, `summary` its text); "digest" folds several stories
    (delivery puts them in `extra`). All kinds share the outbox, so all get its promises.
    """

    channel: Channel
    feed_id: int
    story_id: str
    title: str
    link: str
    source: str
    published: datetime
    summary: str
    topics: tuple[str, ...]  # the subscription queries that matched
    matched: tuple[str, ...]  # the words in the story that matched
    image: str | None = None
    id: int | None = None  # the outbox row, once stored
    kind: AlertKind = "alert"
    mentions: tuple[str, ...] = ()  # platform user ids that asked to be mentioned
    extra: dict[str, str] = field(default_factory=dict)
