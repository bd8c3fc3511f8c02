"""The watcher's settings, read once from the operator's (NEWSBOT_* in bot/config.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    poll_interval: float = 300.0
    max_interval: float = 86400.0
    pause_after: int = 10
    backfill: int = 0
    concurrency: int = 20
    per_host: int = 2
    seen_per_feed: int = 5000
    duplicate_window: float = 86400.0
    lease_seconds: float = 120.0  # a claimed feed is another process's to take after this


def watch_policy(settings: Settings) -> WatchPolicy:
    return WatchPolicy(
        poll_interval=settings.newsbot_poll_interval,
        max_interval=settings.newsbot_max_poll_interval,
        pause_after=settings.newsbot_pause_after_failures,
        backfill=settings.newsbot_backfill,
        concurrency=settings.newsbot_poll_concurrency,
        per_host=settings.newsbot_per_host_concurrency,
        seen_per_feed=settings.newsbot_seen_per_feed,
        duplicate_window=settings.newsbot_duplicate_window,
        lease_seconds=settings.newsbot_lease_seconds,
    )
