"""An asyncpg pool, transactions and the migration runner for PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlsplit

import asyncpg

from bot.store.database import read_migrations
from bot.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    from bot.store.postgres.liveness import Liveness

    Conn: TypeAlias = PoolConnectionProxy[asyncpg.Record]

log = logging.getLogger(__name__)

# Advisory lock keys are (schema, purpose): two stores in two schemas of one database
# never wait on each other. current_schema() is NULL before the schema exists.
SCHEMA_KEY = "hashtext(coalesce(current_schema(), ''))"
MIGRATION_LOCK = 1
REFRESH_LOCK = 2
CLAIM_LOCK = 7  # feed claims take turns (bot/store/postgres/leases.py)

# Enough for the watcher's concurrent refreshes, delivery and commands at once; a
# connection is opened only when one is needed beyond the first.
POOL_MIN = 1
POOL_MAX = 8
CONNECT_TIMEOUT = 10.0  # seconds; asyncpg's own default (60) is long for a start-up


def _where(url: str) -> str:
    """host:port/database of `url`, never its password."""
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"


def load_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every PostgreSQL migration, in order."""
    return read_migrations("bot.store.postgres.migrations")


def changed(status: str) -> int:
    """Rows a command touched, from its status tag ("UPDATE 3", "INSERT 0 1")."""
    return int(status.rsplit(" ", 1)[-1])


async def recorded_versions(url: str) -> list[int]:
    """The migrations the database at `url` has recorded, read without changing anything
    (`newsbot doctor`); StoreUnavailable when it cannot be reached."""
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise StoreUnavailable(f"cannot open PostgreSQL at {_where(url)}: {exc}") from None
    try:
        if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
            return []
        return [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
    finally:
        await conn.close()


class PgDatabase:
    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool
        self.applied_by_open: list[int] = []  # the migrations this open applied
        self.url = ""  # where it was opened (the change feed opens its own connection)
        self.liveness: Liveness | None = None  # lease owners' signs of life, once claiming

    @classmethod
    async def open(cls, url: str) -> PgDatabase:
        try:
            pool = await asyncpg.create_pool(
                url, min_size=POOL_MIN, max_size=POOL_MAX, timeout=CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
            raise StoreUnavailable(f"cannot open PostgreSQL at {_where(url)}: {exc}") from None
        db = cls(pool)
        db.url = url
        try:
            db.applied_by_open = await db.migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        if self.liveness is not None:
            await self.liveness.close()
        await self.pool.close()

    async def alive(self, owner: str) -> None:
        """Hold `owner`'s sign of life (bot/store/postgres/liveness.py) before it claims."""
        if self.liveness is None:
            from bot.store.postgres.liveness import Liveness

            self.liveness = Liveness(self.url)
        await self.liveness.hold(owner)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Conn]:
        async with self.pool.acquire() as conn:
            yield conn

    async def migrate(self) -> list[int]:
        """Apply each migration not yet recorded, once, each in its own transaction.

        Under a session advisory lock, so processes starting at once take turns: the
        first applies what is missing, the others then find it recorded. The lock goes
        with the connection if this process dies half way. Returns the versions applied.
        """
        applied_now: list[int] = []
        async with self.pool.acquire() as conn:
            await conn.execute(f"SELECT pg_advisory_lock({SCHEMA_KEY}, {MIGRATION_LOCK})")
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL)"
                )
                applied = {r[0] for r in await conn.fetch("SELECT version FROM schema_migrations")}
                for version, name, sql in load_migrations():
                    if version in applied:
                        continue
                    async with conn.transaction():
                        # Without arguments asyncpg sends the script as one simple query,
                        # statements and all, inside this transaction.
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name, applied_at)"
                            " VALUES ($1, $2, $3)",
                            version,
                            name,
                            datetime.now(UTC),
                        )
                    applied_now.append(version)
                    log.info("applied migration %04d %s", version, name, extra={"version": version})
            finally:
                await conn.execute(f"SELECT pg_advisory_unlock({SCHEMA_KEY}, {MIGRATION_LOCK})")
        return applied_now

    async def applied_versions(self) -> list[int]:
        async with self.reading() as conn:
            return [
                r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
            ]
