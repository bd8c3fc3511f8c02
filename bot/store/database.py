"""One aiosqlite connection, explicit transactions and the migration runner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)


def to_db_time(value: datetime) -> str:
    """UTC ISO-8601 with a fixed width, so text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def load_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every SQLite migration, in order."""
    return read_migrations("bot.store.migrations")


def read_migrations(package: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) for every `NNNN_name.sql` file of `package`, in order.

    Order is important: add new migrations at the end, never edit an applied one.
    """
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return found


class Database:
    """Serialises use of the single connection: one transaction at a time."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> Database:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction spans
        # exactly what `transaction()` wraps and nothing commits behind our back.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        # WAL with synchronous=NORMAL is durable across process crashes (not power loss).
        await conn.execute("PRAGMA synchronous=NORMAL")
        db = cls(conn)
        try:
            await db.migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            yield self.conn

    async def schema_version(self) -> int:
        async with self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ) as cur:
            if await cur.fetchone() is None:
                return 0
        async with self.conn.execute("SELECT MAX(version) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        return int(row[0] or 0) if row else 0

    async def migrate(self) -> int:
        """Apply each migration not yet recorded, once, each in its own transaction.

        Applied versions are a set, not a high-water mark, so a migration numbered below
        one already applied (two branches landing out of order) still runs.
        """
        await self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        async with self.conn.execute("SELECT version FROM schema_migrations") as cur:
            applied = {int(r[0]) for r in await cur.fetchall()}
        for version, name, sql in load_migrations():
            if version in applied:
                continue
            async with self.transaction() as conn:
                # Statement by statement: executescript() would COMMIT first and break
                # the all-or-nothing promise.
                for statement in _split_sql(sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                    (version, name, to_db_time(datetime.now(UTC))),
                )
            log.info("applied migration %04d %s", version, name, extra={"version": version})
        return await self.schema_version()


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (ours have no semicolons inside literals)."""
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
