"""Who is alive: each lease owner of this process holds a session advisory lock.

A process that dies (SIGKILL, a machine lost) drops its connections, and PostgreSQL
releases their locks at once. A claim that finds another owner's unexpired lease tries
that owner's lock within its own transaction: if it gets it, the owner is gone and the
lease is taken over now, not when it expires. A live owner's lock is held, so its
leases stand until they expire (a stalled process) or are given back.

The lock is on a connection of its own (a pooled one goes back to the pool). The keys are
single 64-bit values, a space apart from the two-key locks of database.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from bot.store.postgres.database import CONNECT_TIMEOUT

log = logging.getLogger(__name__)

APPLICATION_NAME = "newsbot-alive"  # how the lock's connection shows in pg_stat_activity
# An owner (a SQL expression naming one) -> its lock key, per schema.
OWNER_KEY = "hashtextextended(current_schema() || ' ' || {owner}, 0)"


def gone(owner: str) -> str:
    """SQL true when `owner`'s process is gone (its lock is free: taken for this
    transaction only); false while it holds it, this process's own owners included."""
    return f"pg_try_advisory_xact_lock({OWNER_KEY.format(owner=owner)})"


class Liveness:
    def __init__(self, url: str) -> None:
        self.url = url
        self._held: dict[str, asyncpg.Connection[asyncpg.Record]] = {}
        self._refused: set[str] = set()  # owners whose lock another process holds
        # The watcher's and the dispatcher's first claims ask at once: without taking
        # turns both would connect, the second would find the lock taken (by the first)
        # and replace the first's connection, which would then be dropped and its lock
        # freed, and every lease of this process would look like a dead one's.
        self._turn = asyncio.Lock()

    async def hold(self, owner: str) -> None:
        """Hold `owner`'s lock from now on (again, if its connection was lost)."""
        async with self._turn:
            conn = self._held.get(owner)
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(
                    self.url,
                    timeout=CONNECT_TIMEOUT,
                    server_settings={"application_name": APPLICATION_NAME},
                )
                self._held[owner] = conn
                self._refused.discard(owner)
            elif owner not in self._refused:
                return  # held since the connection opened
            got = await conn.fetchval(
                f"SELECT pg_try_advisory_lock({OWNER_KEY.format(owner='$1')})", owner
            )
            if got:
                self._refused.discard(owner)
            elif owner not in self._refused:
                # Another live process has this owner id (NEWSBOT_INSTANCE_ID set alike
                # on two): its lock stands for both, and leases simply expire as they
                # would. Asked again at each claim, so this one holds it once that
                # process is gone.
                log.warning("another process holds owner id %s: give each its own", owner)
                self._refused.add(owner)

    async def close(self) -> None:
        held, self._held = self._held, {}
        for conn in held.values():
            with contextlib.suppress(Exception):
                await conn.close(timeout=5)
