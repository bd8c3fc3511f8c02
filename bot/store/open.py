"""DATABASE_URL -> the store it names."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.core.ports import Store
from bot.store.errors import StoreUnavailable, UnsupportedDatabaseUrl
from bot.store.sqlite import open_sqlite

_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql://", "postgres://")
EXPECTED = (
    "expected sqlite:///PATH (e.g. sqlite:///newsbot.db)"
    " or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
)


def _is_postgres(url: str) -> bool:
    return any(url.startswith(p) and len(url) > len(p) for p in _POSTGRES)


def check_database_url(url: str) -> str:
    """The URL as it is, if a backend here can open it; else UnsupportedDatabaseUrl."""
    if (url.startswith(_SQLITE) and len(url) > len(_SQLITE)) or _is_postgres(url):
        return url
    raise UnsupportedDatabaseUrl(EXPECTED)


async def open_store(url: str) -> Store:
    """Open (creating and migrating if needed) the database at `url`.

    PostgreSQL migrations run under an advisory lock, so any number of processes may
    open the same database at once; each migration is applied by exactly one of them.
    """
    check_database_url(url)
    if _is_postgres(url):
        # Imported here: a SQLite install never loads the PostgreSQL driver.
        from bot.store.postgres import open_postgres

        return await open_postgres(url)
    return await open_sqlite(url.removeprefix(_SQLITE))


@dataclass(frozen=True, slots=True)
class Migrated:
    """What `migrate_database` did: the versions it applied now, and all applied since."""

    backend: str  # "sqlite" or "postgresql"
    applied_now: list[int]
    versions: list[int]


async def migrate_database(url: str) -> Migrated:
    """Apply the migrations the database at `url` lacks (as opening it does) and say which."""
    check_database_url(url)
    if _is_postgres(url):
        from bot.store.postgres import PgDatabase

        pg = await PgDatabase.open(url)
        try:
            return Migrated("postgresql", pg.applied_by_open, await pg.applied_versions())
        finally:
            await pg.close()
    path = url.removeprefix(_SQLITE)
    before = await asyncio.to_thread(_sqlite_versions, path)
    store = await open_sqlite(path)
    await store.close()
    after = await asyncio.to_thread(_sqlite_versions, path)
    return Migrated("sqlite", sorted(set(after) - set(before)), after)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where the database at a URL stands, read without changing it (`newsbot doctor`)."""

    backend: str  # "sqlite" or "postgresql"
    exists: bool  # False: a SQLite file not created yet
    applied: list[int]
    pending: list[int]  # migrations this build has that the database lacks
    unknown: list[int]  # recorded by a newer build than this one


async def schema_status(url: str) -> SchemaStatus:
    """Read the applied migrations of the database at `url`; StoreUnavailable if it cannot
    be reached. Never creates, migrates or writes anything."""
    check_database_url(url)
    if _is_postgres(url):
        from bot.store.postgres.database import load_migrations as pg_migrations
        from bot.store.postgres.database import recorded_versions

        applied = await recorded_versions(url)
        known = [v for v, _, _ in pg_migrations()]
        backend, exists = "postgresql", True
    else:
        from bot.store.database import load_migrations as sqlite_migrations

        path = url.removeprefix(_SQLITE)
        exists = await asyncio.to_thread(Path(path).exists)
        try:
            applied = await asyncio.to_thread(_sqlite_versions, path)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot read SQLite database {path}: {exc}") from None
        known = [v for v, _, _ in sqlite_migrations()]
        backend = "sqlite"
    return SchemaStatus(
        backend,
        exists,
        applied,
        pending=sorted(set(known) - set(applied)),
        unknown=sorted(set(applied) - set(known)),
    )


@dataclass(frozen=True, slots=True)
class Copied:
    """What `copy_database` moved over."""

    counts: dict[str, int]  # rows copied per table
    outbox: dict[str, int]  # outbox rows per status; "in flight": pending and maybe sent


async def copy_database(
    source_url: str,
    target_url: str,
    *,
    force: bool,
    on_step: Callable[[str, int], None] | None = None,
) -> Copied:
    """Copy the SQLite store at `source_url` into the PostgreSQL one at `target_url`
    (migrated first), in one transaction. TargetNotEmpty when the target holds anything,
    unless `force` (then its rows are replaced); SourceMissing when there is no file.
    `on_step(what, steps)` is called as each of `steps` steps starts (a progress bar)."""
    if not (source_url.startswith(_SQLITE) and len(source_url) > len(_SQLITE)):
        raise UnsupportedDatabaseUrl("--from expects sqlite:///PATH (e.g. sqlite:///newsbot.db)")
    if not _is_postgres(target_url):
        raise UnsupportedDatabaseUrl(
            "the copy goes into PostgreSQL: expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    from bot.store.postgres.from_sqlite import copy_from_sqlite

    return await copy_from_sqlite(
        source_url.removeprefix(_SQLITE), target_url, force=force, on_step=on_step
    )


def _sqlite_versions(path: str) -> list[int]:
    """The versions recorded in the SQLite file at `path` (none if there is no file yet)."""
    if not Path(path).exists():
        return []
    with closing(sqlite3.connect(path)) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
        ).fetchone()
        if found is None:
            return []
        return [int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
