"""The change feed on PostgreSQL: LISTEN on a connection of its own.

Migration 0008's triggers NOTIFY `newsbot_changes` with "<schema> <table>" when a
transaction that changed the subscriptions or the channel settings commits. One
dedicated connection (outside the pool: a pooled one is handed to others between uses)
listens; when it is lost it is opened again, backing off up to 30 seconds. Each time it
starts listening the caller is told ("listening"): what was notified before (since the
caller's last look, or while the connection was down) never reaches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

from bot.core.events import either
from bot.store.postgres.database import CONNECT_TIMEOUT, PgDatabase

log = logging.getLogger(__name__)

CHANNEL = "newsbot_changes"
APPLICATION_NAME = "newsbot-changes"  # how the listener shows in pg_stat_activity
FIRST_RETRY = 0.5
LAST_RETRY = 30.0


class PgChanges:
    db: PgDatabase

    async def watch_changes(self, on_change: Callable[[str], None], stop: asyncio.Event) -> None:
        retry = FIRST_RETRY
        while not stop.is_set():
            try:
                conn = await asyncpg.connect(
                    self.db.url,
                    timeout=CONNECT_TIMEOUT,
                    server_settings={"application_name": APPLICATION_NAME},
                )
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("cannot listen for changes (retrying in %.1f s): %s", retry, exc)
            else:
                try:
                    lost = await self._listen(conn, on_change)
                    on_change("listening")
                    retry = FIRST_RETRY
                    await either(stop, lost)
                    if lost.is_set() and not stop.is_set():
                        log.warning("lost the connection listening for changes; reconnecting")
                except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                    log.warning("listening for changes failed (retrying): %s", exc)
                finally:
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=5)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=retry)
            retry = min(retry * 2, LAST_RETRY)

    @staticmethod
    async def _listen(
        conn: asyncpg.Connection[asyncpg.Record], on_change: Callable[[str], None]
    ) -> asyncio.Event:
        """Start listening on `conn`; the event is set when the connection is lost."""
        schema = await conn.fetchval("SELECT current_schema()")
        lost = asyncio.Event()

        def notified(_conn: object, _pid: int, _channel: str, payload: object) -> None:
            where, _, table = str(payload).partition(" ")
            if where == schema:  # another install's schema in the same database: not ours
                on_change(table)

        conn.add_termination_listener(lambda _conn: lost.set())
        await conn.add_listener(CHANNEL, notified)
        return lost
