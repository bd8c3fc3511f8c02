"""The gauges read when /metrics is scraped: feeds by state, subscriptions, the outbox.

Read from the store (and the in-memory subscription index) at scrape time rather than
kept up to date by every change: one read per scrape, and always the stored truth,
whichever process of several made the change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.core.models import Subscription
from bot.core.ports import FeedStore, OutboxStore
from bot.observe import metrics


class GaugeStore(FeedStore, OutboxStore, Protocol):
    """What the gauges read."""


def feed_state(paused: bool, failures: int) -> str:
    if paused:
        return "paused"
    return "failing" if failures else "ok"


async def refresh_gauges(
    store: GaugeStore, subscriptions: Iterable[Subscription], now: datetime
) -> None:
    feeds = Counter(feed_state(f.paused, f.failures) for f in await store.list_feeds())
    for state in metrics.FEED_STATES:
        metrics.FEEDS.labels(state).set(feeds.get(state, 0))
    subs = Counter(metrics.platform(s.channel.platform) for s in subscriptions)
    for name in {*metrics.PLATFORMS, *subs}:
        metrics.SUBSCRIPTIONS.labels(name).set(subs.get(name, 0))
    depth = await store.outbox_depth()
    counts: Counter[tuple[str, str]] = Counter()
    for (name, state), count in depth.counts.items():
        counts[(metrics.platform(name), state)] += count
    platforms = {*metrics.PLATFORMS, *(p for p, _ in counts)}
    for name in platforms:
        for state in metrics.OUTBOX_STATES:
            metrics.OUTBOX.labels(name, state).set(counts.get((name, state), 0))
        oldest = [t for p, t in depth.oldest_pending.items() if metrics.platform(p) == name]
        age = (now - min(oldest)).total_seconds() if oldest else 0.0
        metrics.OLDEST.labels(name).set(max(0.0, age))
