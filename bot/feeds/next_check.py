"""When to check a feed next: the latest of what we and the publisher ask for, clamped.

Miniflux's scheduler is the model: the next check is the largest of the configured
interval, the feed's own `<ttl>`, the response's `Cache-Control: max-age` and, on 429 or
503, its `Retry-After`; then clamped to a maximum so that a publisher cannot make us stop
looking for weeks. Failures back off exponentially from the interval, with the same clamp.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
# 2**16 intervals is past any sensible maximum; the exponent is capped so it cannot overflow.
_MAX_EXPONENT = 16


def max_age(cache_control: str | None) -> timedelta | None:
    """`Cache-Control: max-age=N` (RFC 9111 §5.2.2.1): the response stays fresh N seconds."""
    if not cache_control:
        return None
    found = _MAX_AGE.search(cache_control)
    return timedelta(seconds=int(found.group(1))) if found else None


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


@dataclass(frozen=True, slots=True)
class Schedule:
    interval: timedelta
    maximum: timedelta
    # Up to this fraction of the delay (at most `max_jitter`) is added at random, so feeds
    # added together drift apart instead of hitting their hosts in lock-step forever.
    jitter: float = 0.1
    max_jitter: timedelta = timedelta(minutes=1)

    def _clamp_and_jitter(self, delay: timedelta, rng: random.Random) -> timedelta:
        delay = min(delay, self.maximum)
        spread = min(delay * self.jitter, self.max_jitter).total_seconds()
        return delay + timedelta(seconds=rng.uniform(0, spread)) if spread > 0 else delay

    def after_success(
        self,
        now: datetime,
        rng: random.Random,
        *,
        ttl: timedelta | None = None,
        cache_max_age: timedelta | None = None,
    ) -> datetime:
        delay = max(self.interval, ttl or timedelta(0), cache_max_age or timedelta(0))
        return now + self._clamp_and_jitter(delay, rng)

    def after_failure(
        self,
        now: datetime,
        rng: random.Random,
        *,
        failures: int,
        retry: timedelta | None = None,
    ) -> datetime:
        """`failures` counts this one: the first failure waits one interval, then 2, 4..."""
        exponent = min(max(failures - 1, 0), _MAX_EXPONENT)
        delay = max(self.interval * (2**exponent), retry or timedelta(0))
        return now + self._clamp_and_jitter(delay, rng)
