"""Delivery throughput: the dispatcher against the bare exactly-once bookkeeping it needs.

Baseline: for each alert, the two durable writes exactly-once requires (in flight, then
sent), done straight on the store. Measured: the dispatcher delivering the same number of
alerts over 20 channels to a notifier that does nothing. The ratio is the dispatcher's
overhead (ordering query, holds and burst checks, pacing, logging) over that minimum;
below 1 means sending to channels side by side hides more than the overhead costs.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime

from bot.core.models import Alert, Channel
from bot.core.ports import SendResult
from bot.delivery.dispatcher import DeliveryPolicy, Dispatcher
from bot.delivery.holds import BurstPolicy
from bot.store import SqliteStore, open_sqlite

ALERTS = 2000
CHANNELS = 20
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class NullNotifier:
    platform = "console"

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        return SendResult()


async def fill(path: str) -> SqliteStore:
    store = await open_sqlite(path)
    alerts = [
        Alert(Channel("console", "local", f"c{n % CHANNELS}"), 1, f"s{n}", f"Story {n}",
              f"https://x.example/{n}", "Wire", NOW, "Summary " * 20, ("NATO",), ("NATO",))
        for n in range(ALERTS)
    ]  # fmt: skip
    await store.queue_alerts(alerts, NOW)
    return store


async def baseline(path: str) -> float:
    store = await fill(path)
    ids = [d.alert.id for d in await store.due_deliveries(NOW, ["console"], ALERTS, ALERTS)]
    start = time.perf_counter()
    for alert_id in ids:
        assert alert_id is not None
        await store.mark_in_flight(alert_id, NOW)
        await store.mark_sent(alert_id, None, NOW)
    elapsed = time.perf_counter() - start
    await store.close()
    return elapsed


async def dispatcher(path: str, burst: BurstPolicy) -> float:
    store = await fill(path)
    policy = DeliveryPolicy(burst=burst, channel_rates={}, platform_rates={})
    d = Dispatcher(store=store, notifiers={"console": NullNotifier()}, clock=Clock(), policy=policy)
    start = time.perf_counter()
    sent = 0
    while sent < ALERTS:
        sent += await d.deliver_pending()
    elapsed = time.perf_counter() - start
    await store.close()
    return elapsed


async def main() -> None:
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as tmp:
        base = await baseline(f"{tmp}/base.db")
        plain = await dispatcher(f"{tmp}/plain.db", BurstPolicy(5, 0))
        # Burst checks on (a window that never fills): one more query per alert.
        checked = await dispatcher(f"{tmp}/burst.db", BurstPolicy(10**9, 600))
    print(f"baseline (2 durable writes per alert, one by one): {ALERTS / base:,.0f} alerts/s")
    print(f"dispatcher, {CHANNELS} channels side by side:      {ALERTS / plain:,.0f} alerts/s")
    print(f"dispatcher with burst checks:                  {ALERTS / checked:,.0f} alerts/s")
    print(f"ratio dispatcher/baseline time: {plain / base:.2f}")
    print(f"ratio with burst checks:        {checked / base:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
