"""schema_status: where a database stands, read for `newsbot doctor` without changing it."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import asyncpg

from bot.store import open_store, schema_status
from tests.store_contract.backends import StoreUrls


async def _execute(urls: StoreUrls, sql: str) -> None:
    if urls.backend == "sqlite":
        with closing(sqlite3.connect(urls.url.removeprefix("sqlite:///"))) as db:
            db.execute(sql)
            db.commit()
        return
    pg = await asyncpg.connect(urls.url)
    try:
        await pg.execute(sql)
    finally:
        await pg.close()


async def test_schema_status_reads_pending_and_unknown_migrations(urls: StoreUrls) -> None:
    before = await schema_status(urls.url)
    assert before.applied == []
    assert before.pending  # every migration this build has
    assert before.exists == (urls.backend == "postgres")  # SQLite: no file yet...
    again = await schema_status(urls.url)
    assert again == before  # ...and reading created none, nor any table

    store = await open_store(urls.url)
    await store.close()
    current = await schema_status(urls.url)
    assert current.exists
    assert (current.pending, current.unknown) == ([], [])
    assert current.applied == before.pending

    last = current.applied[-1]
    await _execute(urls, f"DELETE FROM schema_migrations WHERE version = {last}")
    await _execute(
        urls,
        "INSERT INTO schema_migrations (version, name, applied_at)"
        " VALUES (9999, 'from a newer newsbot', '2030-01-01T00:00:00+00:00')",
    )
    behind = await schema_status(urls.url)
    assert (behind.pending, behind.unknown) == ([last], [9999])
