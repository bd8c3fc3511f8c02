"""newsbot's Prometheus metrics, recorded through a few plain functions.

The feeds and delivery layers call `fetch_finished`, `alert_sent` and the rest; only this
module knows prometheus_client. The metrics live in the library's default registry (with
its process_* and python_* collectors), as one process is one newsbot.

Label values come from short fixed sets written here (platforms, fetch outcomes, feed
states), never from feed or user text: a feed's URL or a channel id as a label would
make a series per feed or channel, without bound. An unknown platform is "other".
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram, Info, disable_created_metrics

from bot import __version__

# The *_created samples double every counter's series for a start time nobody graphs.
disable_created_metrics()  # type: ignore[no-untyped-call]

PLATFORMS = ("discord", "slack", "console")
FETCH_OUTCOMES = (
    "ok",  # 200: a body to parse
    "not_modified",  # 304
    "http_4xx",
    "http_429",
    "http_5xx",
    "http_other",  # a status no feed should answer with (a 3xx that is no redirect)
    "timeout",
    "too_large",
    "too_many_redirects",
    "refused",  # an untrusted URL reaching a private address, say
    "network",  # DNS, connection, TLS, a response cut short
)
FEED_STATES = ("ok", "failing", "paused")
OUTBOX_STATES = ("pending", "held", "paused")

BUILD = Info("newsbot_build", "The running build: version and matcher backend.")
FETCHES = Counter(
    "newsbot_feed_fetches_total",
    "Feed fetches by outcome (HTTP status class or error kind).",
    ["outcome"],
)
FETCH_SECONDS = Histogram(
    "newsbot_feed_fetch_duration_seconds",
    "Time from a feed request to its whole body read (or its failure).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
STORIES = Counter("newsbot_stories_seen_total", "New stories recorded as seen.")
QUEUED = Counter("newsbot_alerts_queued_total", "Alerts put in the outbox.", ["platform"])
SENT = Counter(
    "newsbot_alerts_sent_total", "Messages posted (alerts, digests, notices).", ["platform"]
)
FAILED = Counter(
    "newsbot_alerts_failed_total", "Sends that failed and will be retried.", ["platform"]
)
HELD = Counter(
    "newsbot_alerts_held_total",
    "Alerts held back for a digest, quiet hours or a burst.",
    ["platform"],
)
REJECTED = Counter(
    "newsbot_alerts_rejected_total", "Messages the platform refused for good.", ["platform"]
)
RATE_LIMITED = Counter(
    "newsbot_rate_limited_total", "429 answers from a chat platform.", ["platform"]
)
LATENCY = Histogram(
    "newsbot_alert_latency_seconds",
    "From a story first seen to its alert sent (held time included).",
    ["platform"],
    buckets=(1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 86400),
)
MATCHED = Counter("newsbot_matcher_stories_total", "Stories run through the matcher.")
MATCH_SECONDS = Counter("newsbot_matcher_seconds_total", "Time the matcher spent on those stories.")
MATCH_RATE = Gauge(
    "newsbot_matcher_stories_per_second",
    "Matcher throughput over the last feed refresh that matched more than one story.",
)
# Read from the store and the index at each scrape (bot/observe/gauges.py).
FEEDS = Gauge("newsbot_feeds", "Feeds by state.", ["state"])
SUBSCRIPTIONS = Gauge("newsbot_subscriptions", "Subscriptions by platform.", ["platform"])
OUTBOX = Gauge(
    "newsbot_outbox_alerts", "Unsent messages in the outbox by state.", ["platform", "state"]
)
OLDEST = Gauge(
    "newsbot_outbox_oldest_pending_age_seconds",
    "Age of the oldest pending message (0 when none is pending).",
    ["platform"],
)


def platform(name: str) -> str:
    return name if name in PLATFORMS else "other"


def describe_build(*, matcher: str) -> None:
    """The build info series, and every labelled series at zero, so a rate() over a
    counter that has not moved yet is 0 rather than missing."""
    BUILD.info({"version": __version__, "matcher": matcher})
    for outcome in FETCH_OUTCOMES:
        FETCHES.labels(outcome)
    for name in PLATFORMS:
        for counter in (QUEUED, SENT, FAILED, HELD, REJECTED, RATE_LIMITED):
            counter.labels(name)


def fetch_finished(outcome: str, seconds: float) -> None:
    FETCHES.labels(outcome if outcome in FETCH_OUTCOMES else "network").inc()
    FETCH_SECONDS.observe(seconds)


def stories_recorded(stories: int, platforms: Iterable[str]) -> None:
    """`stories` new stories recorded, with an alert queued per item of `platforms`."""
    STORIES.inc(stories)
    for name, count in Tally(platform(p) for p in platforms).items():
        QUEUED.labels(name).inc(count)


def matched(stories: int, seconds: float) -> None:
    MATCHED.inc(stories)
    MATCH_SECONDS.inc(seconds)
    if stories > 1 and seconds > 0:
        MATCH_RATE.set(stories / seconds)


def alert_sent(name: str, first_seen: datetime | None, now: datetime) -> None:
    SENT.labels(platform(name)).inc()
    if first_seen is not None:
        LATENCY.labels(platform(name)).observe(max(0.0, (now - first_seen).total_seconds()))


def alert_failed(name: str) -> None:
    FAILED.labels(platform(name)).inc()


def rate_limited(name: str) -> None:
    """A 429 answer, counted where it arrives (the adapters' HTTP clients): most are
    waited out inside one request and never reach delivery."""
    RATE_LIMITED.labels(platform(name)).inc()


def alerts_held(name: str, count: int) -> None:
    HELD.labels(platform(name)).inc(count)


def alert_rejected(name: str) -> None:
    REJECTED.labels(platform(name)).inc()
