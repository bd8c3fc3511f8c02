"""A controllable clock and a recording notifier for delivery tests.

The notifier dedupes only when told maybe_sent (as Slack's history lookup does), so a
dispatcher that forgot to say so after an ambiguous failure would post twice here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.commands import CommandDeps
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Alert
from bot.core.ports import SendResult
from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher
from bot.delivery.holds import BurstPolicy
from bot.store import SqliteStore, open_sqlite


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@dataclass
class Posted:
    alert: Alert
    at: datetime
    maybe_sent: bool


# A fault decides, per send, what goes wrong: raise before posting, or post then raise.
Fault = Callable[[Alert, bool], tuple[Exception | None, bool]]


@dataclass
class RecordingNotifier:
    clock: FakeClock
    platform: str = "console"
    posted: list[Posted] = field(default_factory=list)
    calls: list[tuple[int | None, bool]] = field(default_factory=list)
    fault: Fault | None = None

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        self.calls.append((alert.id, maybe_sent))
        error, post_first = self.fault(alert, maybe_sent) if self.fault else (None, False)
        if error is not None and not post_first:
            raise error
        earlier = [p for p in self.posted if p.alert.id == alert.id]
        if not (earlier and maybe_sent):
            self.posted.append(Posted(alert, self.clock.now(), maybe_sent))
        if error is not None:
            raise error
        return SendResult(remote_id=f"m{alert.id}")

    def titles(self) -> list[str]:
        return [p.alert.title for p in self.posted]


@asynccontextmanager
async def commands_on_clock(
    db: Path, start: datetime
) -> AsyncIterator[tuple[SqliteStore, FakeClock, CommandDeps]]:
    """A SQLite store at `db`, a clock set to `start`, and the commands' dependencies on
    both (an empty index): what a command-then-deliver test drives."""
    store = await open_sqlite(str(db))
    clock = FakeClock(start)
    try:
        yield store, clock, CommandDeps(store=store, index=SubscriptionIndex(), clock=clock)
    finally:
        await store.close()


def console_dispatcher(
    store: SqliteStore, clock: FakeClock, notifier: RecordingNotifier
) -> Dispatcher:
    """A dispatcher sending console alerts to `notifier` on `clock`'s time; bursts of
    five with no window, so a burst never holds what the test is about."""
    return Dispatcher(
        store=store,
        notifiers={"console": notifier},
        clock=clock,
        policy=DeliveryPolicy(burst=BurstPolicy(5, 0)),
    )
