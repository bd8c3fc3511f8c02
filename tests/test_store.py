"""What is particular to each backend: its migrations and how a URL picks it.

What every backend promises (the Store protocol) is tested in tests/store_contract/.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core.models import Channel
from bot.store import UnsupportedDatabaseUrl, check_database_url, open_sqlite, open_store
from bot.store.database import load_migrations

CHAN = Channel("console", "local", "news")


async def test_migrations_from_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = await open_sqlite(str(path))
    await store.close()
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        applied = conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
        version = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    assert version == load_migrations()[-1][0]
    assert {"feeds", "stories", "subscriptions", "outbox", "schema_migrations"} <= tables
    assert mode == "wal"
    assert applied == len(load_migrations())


async def test_a_failing_migration_leaves_nothing_half_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.store import database

    good = database.load_migrations()
    bad = (9999, "broken", "CREATE TABLE half_done (x INTEGER);\nTHIS IS NOT SQL;")
    monkeypatch.setattr(database, "load_migrations", lambda: [*good, bad])
    with pytest.raises(sqlite3.OperationalError):
        await open_sqlite(str(tmp_path / "m.db"))
    with sqlite3.connect(tmp_path / "m.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations")]
    assert "half_done" not in tables
    assert 9999 not in versions
    assert "feeds" in tables  # the good ones before it stay applied


@pytest.mark.parametrize(
    "url",
    [
        "mysql://db/newsbot",
        "sqlite://relative.db",
        "sqlite:///",
        "newsbot.db",
        "",
        "postgresql://",
        "postgres://",
        "postgresql+asyncpg://db/newsbot",
    ],
)
async def test_open_store_refuses_a_url_no_backend_reads(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl, match=r"sqlite:///PATH .* or postgresql://USER"):
        await open_store(url)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///newsbot.db",
        "postgresql://newsbot:secret@db.internal:5432/newsbot",
        "postgres://newsbot@127.0.0.1/newsbot",
    ],
)
def test_both_backends_urls_are_accepted(url: str) -> None:
    assert check_database_url(url) == url


async def test_open_store_opens_sqlite_by_url(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'by-url.db'}")
    await store.add_subscriptions(CHAN, ["NATO"], "ana")
    await store.close()
    reopened = await open_sqlite(str(tmp_path / "by-url.db"))
    subs = await reopened.all_subscriptions()
    await reopened.close()
    assert [s.query for s in subs] == ["NATO"]


async def test_a_whole_installs_subscriptions_share_what_repeats(tmp_path: Path) -> None:
    # What keeps 100,000 subscriptions in memory affordable (benchmarks/bench_memory.py):
    # one Channel object per channel, one string per creator, not one per row.
    store = await open_store(f"sqlite:///{tmp_path / 'shared.db'}")
    await store.add_subscriptions(CHAN, ["NATO", "Russia", "Ukraine"], "ana")
    other = Channel("console", "local", "desk")
    await store.add_subscriptions(other, ["Brussels"], "ana")
    subs = await store.all_subscriptions()
    await store.close()
    news = [s for s in subs if s.channel == CHAN]
    assert len(news) == 3
    assert news[0].channel is news[1].channel is news[2].channel
    assert len({id(s.channel) for s in subs}) == 2
    assert len({id(s.created_by) for s in subs}) == 1
