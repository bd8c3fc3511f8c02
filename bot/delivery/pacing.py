"""Pacing: stay below each platform's rate limits, per channel and per platform.

A sliding log of recent send times per key, read against the injected clock, so tests
drive it without sleeping. (aiolimiter and friends sleep on the event loop's clock and
cannot answer "how long until channel X may send" without blocking, which the dispatcher
needs to serve other channels meanwhile.)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.models import Channel


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` messages in any `per` seconds; count 0 means no limit."""

    count: int
    per: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        """`4/5` is four messages per five seconds; `0` means unlimited."""
        head, _, tail = text.strip().partition("/")
        count = int(head)
        per = float(tail) if tail else 1.0
        if count < 0 or per <= 0:
            raise ValueError(f"expected COUNT/SECONDS such as 4/5, got {text!r}")
        return cls(count, per)


UNLIMITED = Rate(0, 1.0)


class SlidingWindow:
    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self._sent: deque[datetime] = deque()
        self._blocked_until: datetime | None = None

    def delay(self, now: datetime) -> float:
        """Seconds to wait before the next send is allowed (0: now)."""
        wait = 0.0
        if self._blocked_until is not None:
            wait = max(wait, (self._blocked_until - now).total_seconds())
        if self.rate.count:
            horizon = now - timedelta(seconds=self.rate.per)
            while self._sent and self._sent[0] <= horizon:
                self._sent.popleft()
            if len(self._sent) >= self.rate.count:
                oldest = self._sent[0]
                wait = max(wait, (oldest - horizon).total_seconds())
        return max(0.0, wait)

    def record(self, now: datetime) -> None:
        if self.rate.count:
            self._sent.append(now)

    def block(self, until: datetime) -> None:
        if self._blocked_until is None or until > self._blocked_until:
            self._blocked_until = until


class Pacer:
    """One window per channel and one per platform, with each platform's rates."""

    def __init__(self, channel_rates: dict[str, Rate], platform_rates: dict[str, Rate]) -> None:
        self.channel_rates = channel_rates
        self.platform_rates = platform_rates
        self._channels: dict[Channel, SlidingWindow] = {}
        self._platforms: dict[str, SlidingWindow] = {}

    def _channel(self, channel: Channel) -> SlidingWindow:
        window = self._channels.get(channel)
        if window is None:
            rate = self.channel_rates.get(channel.platform, UNLIMITED)
            window = self._channels[channel] = SlidingWindow(rate)
        return window

    def _platform(self, platform: str) -> SlidingWindow:
        window = self._platforms.get(platform)
        if window is None:
            rate = self.platform_rates.get(platform, UNLIMITED)
            window = self._platforms[platform] = SlidingWindow(rate)
        return window

    def delay(self, channel: Channel, now: datetime) -> float:
        return max(self._channel(channel).delay(now), self._platform(channel.platform).delay(now))

    def record(self, channel: Channel, now: datetime) -> None:
        self._channel(channel).record(now)
        self._platform(channel.platform).record(now)

    def block(self, channel: Channel, until: datetime, *, whole_platform: bool = False) -> None:
        """A 429's Retry-After: nothing more to this channel (or platform) before `until`."""
        if whole_platform:
            self._platform(channel.platform).block(until)
        else:
            self._channel(channel).block(until)
