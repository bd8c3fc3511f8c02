"""Records for the contract tests, with the fields a test does not care about filled in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import Alert, AlertKind, Channel, Story
from bot.core.ports import FetchState

NEWS = Channel("console", "local", "news")
DESK = Channel("console", "local", "desk")
SLACK = Channel("slack", "T1", "C1")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def story(feed_id: int, story_id: str, *, source: str = "Wire", published: datetime = NOW) -> Story:
    return Story(
        feed_id,
        story_id,
        f"Title {story_id}",
        f"https://news.example/{story_id}",
        f"Summary of {story_id}",
        published,
        source,
        image=f"https://img.example/{story_id}.png",
    )


def alert(
    channel: Channel,
    feed_id: int,
    story_id: str,
    *,
    kind: AlertKind = "alert",
    source: str = "Wire",
    extra: dict[str, str] | None = None,
) -> Alert:
    return Alert(
        channel,
        feed_id,
        story_id,
        f"Title {story_id}",
        f"https://news.example/{story_id}",
        source,
        NOW,
        f"Summary of {story_id}",
        ("NATO",),
        ("NATO",),
        image=None,
        kind=kind,
        extra=dict(extra or {}),
    )


def ok(next_check: datetime, *, etag: str | None = None, title: str | None = None) -> FetchState:
    return FetchState(etag=etag, last_modified=None, next_check_at=next_check, title=title)


def failed(next_check: datetime, error: str) -> FetchState:
    return FetchState(etag=None, last_modified=None, next_check_at=next_check, error=error)
