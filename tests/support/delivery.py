"""A controllable clock and a recording notifier for delivery tests.

The notifier dedupes only when told maybe_sent (as Slack's history lookup does), so a
dispatcher that forgot to say so after an ambiguous failure would post twice here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.models import Alert
from bot.core.ports import SendResult


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
