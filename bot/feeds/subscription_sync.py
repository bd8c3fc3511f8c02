"""Keep this process's subscription index equal to the database's, whoever changed it.

Several processes share one database: a subscription added, removed, paused or resumed
through one of them must be matched (or no longer) by all within seconds. Each process
listens to the store's change feed (PostgreSQL LISTEN/NOTIFY) and reloads the index when
told; a periodic reconcile reloads it anyway, so a notification lost (a dropped
connection, a process busy at the wrong moment) is corrected within `reconcile_every`.
On SQLite (one process) there is nothing to watch and the loop only waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from bot.core.events import either
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Subscription
from bot.core.ports import ChangeFeed

log = logging.getLogger(__name__)

# What makes the index reload: the subscriptions changed, or the feed (re)started
# listening (what changed before was not told). Channel settings are read fresh by
# delivery at every pass: nothing here holds them.
WATCHED = frozenset({"subscriptions", "listening"})


class SyncStore(ChangeFeed, Protocol):
    async def all_subscriptions(self) -> list[Subscription]: ...


def apply_subscriptions(index: SubscriptionIndex, current: list[Subscription]) -> int:
    """Make `index` hold exactly `current`; returns how many subscriptions changed."""
    wanted = {s.id: s for s in current}
    changed = 0
    for sub_id in [i for i in index.by_id if i not in wanted]:
        index.remove(sub_id)
        changed += 1
    for sub_id, sub in wanted.items():
        held = index.by_id.get(sub_id)
        if held == sub:
            continue
        if held is not None and held.query != sub.query:
            index.remove(sub_id)
            held = None
        if held is None:
            index.add(sub)
        else:
            # Same words, other state (paused, resumed, mention): the matcher is unchanged.
            index.by_id[sub_id] = sub
        changed += 1
    return changed


class SubscriptionSync:
    def __init__(
        self, store: SyncStore, index: SubscriptionIndex, *, reconcile_every: float = 30.0
    ) -> None:
        self.store = store
        self.index = index
        self.reconcile_every = reconcile_every
        self.reloads = 0  # how many reloads ran (tests read it)
        self._due = asyncio.Event()

    def changed(self, what: str) -> None:
        """Called by the change feed: reload soon (many changes at once, one reload)."""
        if what in WATCHED:
            self._due.set()

    async def reload(self) -> int:
        current = await self.store.all_subscriptions()
        changed = apply_subscriptions(self.index, current)
        self.reloads += 1
        if changed:
            log.info("subscriptions reloaded: %d changed", changed)
        return changed

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop`: reload when the feed says so, and every `reconcile_every`."""
        listener = asyncio.create_task(self.store.watch_changes(self.changed, stop))
        try:
            while not stop.is_set():
                if listener.done():
                    listener.result()  # raises if the feed failed for good
                    # Returned at once: one process on this database, nothing to follow.
                    await stop.wait()
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(either(self._due, stop), self.reconcile_every)
                if stop.is_set():
                    return
                self._due.clear()
                try:
                    await self.reload()
                except Exception:  # the database briefly away: the next round retries
                    log.exception("could not reload the subscriptions; retrying")
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
