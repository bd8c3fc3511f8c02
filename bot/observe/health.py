"""Readiness: is this process doing its work? What /readyz answers.

Ready when the database answers, each configured chat platform is connected, and each
loop this process runs (poll, delivery) has completed a pass within two heartbeat
intervals. Each check has a name, so the 503's JSON says exactly what is wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.core.ports import OutboxStore
from bot.observe.heartbeat import Heartbeat

CHECK_TIMEOUT = 3.0  # seconds a database or platform check may take before it fails


@dataclass(frozen=True, slots=True)
class Verdict:
    ready: bool
    checks: dict[str, str]  # check name -> "ok" or what is wrong

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": "ready" if self.ready else "not ready"}
        body["checks"] = self.checks
        problems = {name: why for name, why in self.checks.items() if why != "ok"}
        if problems:
            body["problems"] = problems
        return body


@dataclass
class Readiness:
    """What /readyz checks; the runtime fills it with what this process runs."""

    store: OutboxStore | None = None
    platforms: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    heartbeats: Sequence[Heartbeat] = ()

    async def check(self) -> Verdict:
        checks: dict[str, str] = {}
        if self.store is not None:
            checks["database"] = await _database(self.store)
        for name, connected in self.platforms.items():
            checks[name] = await _platform(connected)
        for heartbeat in self.heartbeats:
            checks[heartbeat.name] = heartbeat.problem() or "ok"
        return Verdict(all(v == "ok" for v in checks.values()), checks)


async def _database(store: OutboxStore) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await store.outbox_depth()  # one indexed read: the database answers queries
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}: {exc}"[:200]
    return "ok"


async def _platform(connected: Callable[[], Awaitable[bool]]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            return "ok" if await connected() else "not connected"
    except TimeoutError:
        return f"no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:
        return f"check failed: {type(exc).__name__}: {exc}"[:200]
