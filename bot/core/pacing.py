"""Send budgets: at most COUNT messages in any SECONDS, per channel and per platform.

The rule and its in-process form. `LocalPacing` keeps a sliding log of recent send times
per key, read against the caller's clock, so tests drive it without sleeping (aiolimiter
and friends sleep on the event loop's clock and cannot answer "how long until channel X
may send" without blocking, which delivery needs to serve other channels meanwhile). It
is the whole budget when one process sends (SQLite); processes sharing a PostgreSQL
database share the same log in the database instead (bot/store/postgres/pacing.py).
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


def channel_key(channel: Channel) -> str:
    """The budget key of one channel (platform, workspace and channel: ids are per team)."""
    return f"{channel.platform}:{channel.workspace}:{channel.channel}"


def platform_key(platform: str) -> str:
    return platform


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


class LocalPacing:
    """The `SendPacing` contract in this process's memory: one window per channel and one
    per platform. Exact for one process; a second process would not see these windows."""

    def __init__(self) -> None:
        self._windows: dict[str, SlidingWindow] = {}

    def _window(self, key: str, rate: Rate) -> SlidingWindow:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = SlidingWindow(rate)
        elif window.rate != rate:
            window.rate = rate  # the same key asked with another rate: the newest counts
        return window

    async def reserve_send(
        self, channel: Channel, channel_rate: Rate, platform_rate: Rate, now: datetime
    ) -> float:
        # No await between the check and the record: on one event loop this is atomic,
        # so channels sending side by side cannot all see room and overshoot together.
        windows = (
            self._window(platform_key(channel.platform), platform_rate),
            self._window(channel_key(channel), channel_rate),
        )
        wait = max(w.delay(now) for w in windows)
        if wait > 0:
            return wait
        for window in windows:
            window.record(now)
        return 0.0

    async def block_sends(
        self, channel: Channel, until: datetime, *, whole_platform: bool = False
    ) -> None:
        key = platform_key(channel.platform) if whole_platform else channel_key(channel)
        # A window made here gets its rate at the next reserve_send (_window updates it).
        self._windows.setdefault(key, SlidingWindow(UNLIMITED)).block(until)
