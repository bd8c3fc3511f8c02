"""Send pending alerts oldest first, per channel in order, and record each as sent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.models import Channel
from bot.core.ports import Notifier, PermanentSendError, Store

log = logging.getLogger(__name__)

RETRY_BASE = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=30)
PERMANENT_RETRY = timedelta(days=3650)


class Dispatcher:
    def __init__(self, *, store: Store, notifiers: Mapping[str, Notifier], clock: Clock) -> None:
        self.store = store
        self.notifiers = dict(notifiers)
        self.clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called when alerts were queued, so they go out now rather than at the next tick."""
        self._wake.set()

    async def deliver_pending(self, batch: int = 100) -> int:
        """Send what is due; returns how many were sent."""
        sent = 0
        blocked: set[Channel] = set()
        while True:
            pending = [
                a for a in await self.store.pending_alerts(batch) if a.channel not in blocked
            ]
            if not pending:
                return sent
            progress = False
            for alert in pending:
                if alert.channel in blocked:
                    continue  # an earlier alert of this channel failed: keep the order
                assert alert.id is not None
                notifier = self.notifiers.get(alert.channel.platform)
                extra = {
                    "channel": str(alert.channel),
                    "story_id": alert.story_id,
                    "alert_id": alert.id,
                }
                if notifier is None:
                    blocked.add(alert.channel)
                    await self.store.mark_failed(
                        alert.id,
                        f"no {alert.channel.platform} connection",
                        self.clock.now() + RETRY_MAX,
                    )
                    continue
                try:
                    result = await notifier.send(alert)
                except PermanentSendError as exc:
                    blocked.add(alert.channel)
                    log.error("alert refused for good: %s", exc, extra=extra)
                    await self.store.mark_failed(
                        alert.id, str(exc), self.clock.now() + PERMANENT_RETRY
                    )
                    continue
                except Exception as exc:
                    blocked.add(alert.channel)
                    log.warning("alert not sent, will retry: %s", exc, extra=extra)
                    await self.store.mark_failed(
                        alert.id, str(exc) or type(exc).__name__, self.clock.now() + RETRY_BASE
                    )
                    continue
                await self.store.mark_sent(alert.id, result.remote_id, self.clock.now())
                log.info("alert sent", extra=extra)
                sent += 1
                progress = True
            if not progress:
                return sent

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        while not stop.is_set():
            try:
                await self.deliver_pending()
            except Exception:
                log.exception("delivery pass failed; retrying")
            self._wake.clear()
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, timeout=tick, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            stopper.cancel()
