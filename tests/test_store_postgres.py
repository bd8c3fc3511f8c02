"""What is particular to the PostgreSQL backend: migrations under an advisory lock, the
`newsbot migrate` command. The behaviour both backends share is in tests/store_contract/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.core.models import Channel
from bot.core.ports import Store
from bot.store import StoreUnavailable, open_store
from bot.store.database import load_migrations as sqlite_migrations
from bot.store.postgres import database as pg_database
from tests.store_contract.backends import StoreUrls, pg_schema, pg_server_url
from tests.support.process import newsbot_command


@pytest.fixture
async def pg() -> AsyncIterator[StoreUrls]:
    async with pg_schema() as made:
        yield made


async def _recorded(urls: StoreUrls) -> list[int]:
    conn = await asyncpg.connect(urls.url)
    try:
        return [r[0] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
    finally:
        await conn.close()


async def _tables(urls: StoreUrls) -> set[str]:
    conn = await asyncpg.connect(pg_server_url())
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            urls.schema,
        )
    finally:
        await conn.close()
    return {r[0] for r in rows}


async def test_ten_processes_starting_at_once_apply_each_migration_once(pg: StoreUrls) -> None:
    # Ten opens at once, each with its own pool, as ten `newsbot run` starting together.
    stores: list[Store] = list(await asyncio.gather(*(open_store(pg.url) for _ in range(10))))
    try:
        expected = [v for v, _, _ in pg_database.load_migrations()]
        assert await _recorded(pg) == expected  # the primary key would refuse a second row
        # Every process works on the one schema they share.
        await stores[3].add_subscriptions(Channel("console", "local", "news"), ["NATO"], "ana")
        assert [s.query for s in await stores[7].all_subscriptions()] == ["NATO"]
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_failing_migration_leaves_nothing_half_applied(
    pg: StoreUrls, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = pg_database.load_migrations()
    bad = (9999, "broken", "CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;")
    monkeypatch.setattr(pg_database, "load_migrations", lambda: [*good, bad])
    with pytest.raises(asyncpg.PostgresSyntaxError):
        await open_store(pg.url)
    tables = await _tables(pg)
    assert "half_done" not in tables
    assert "feeds" in tables  # the good ones before it stay applied
    assert await _recorded(pg) == [v for v, _, _ in good]
    monkeypatch.setattr(pg_database, "load_migrations", lambda: good)
    store = await open_store(pg.url)  # the lock was released: the next start goes on
    await store.close()


async def test_an_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/newsbot") as info:
        await open_store("postgresql://newsbot:secret@127.0.0.1:1/newsbot")
    assert "secret" not in str(info.value)


async def test_newsbot_migrate_applies_what_is_missing_and_exits(
    pg: StoreUrls, tmp_path: Path
) -> None:
    versions = ", ".join(f"{v:04d}" for v, _, _ in pg_database.load_migrations())
    last = f"{pg_database.load_migrations()[-1][0]:04d}"
    assert await newsbot_command(tmp_path, pg.url, "migrate") == (
        0,
        f"postgresql: applied {versions}; schema version {last}\n",
        "",
    )
    assert await _recorded(pg) == [v for v, _, _ in pg_database.load_migrations()]
    assert await newsbot_command(tmp_path, pg.url, "migrate") == (
        0,
        f"postgresql: up to date; schema version {last}\n",
        "",
    )


async def test_newsbot_migrate_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newsbot.db'}"
    migrations = sqlite_migrations()
    versions = ", ".join(f"{v:04d}" for v, _, _ in migrations)
    last = f"{migrations[-1][0]:04d}"
    assert await newsbot_command(tmp_path, url, "migrate") == (
        0,
        f"sqlite: applied {versions}; schema version {last}\n",
        "",
    )
    assert await newsbot_command(tmp_path, url, "migrate") == (
        0,
        f"sqlite: up to date; schema version {last}\n",
        "",
    )


async def test_newsbot_migrate_without_a_server_fails_in_one_line(tmp_path: Path) -> None:
    code, out, err = await newsbot_command(
        tmp_path, "postgresql://postgres@127.0.0.1:1/newsbot", "migrate"
    )
    assert (code, out) == (1, "")
    assert err.startswith("newsbot migrate: cannot open PostgreSQL at 127.0.0.1:1/newsbot")
    assert len(err.strip().splitlines()) == 1
