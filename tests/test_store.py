from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.models import Alert, Channel, Story
from bot.store import UnsupportedDatabaseUrl, open_sqlite, open_store
from bot.store.database import load_migrations

CHAN = Channel("console", "local", "news")
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


async def test_migrations_from_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = await open_sqlite(str(path))
    version = await store.db.schema_version()
    await store.close()
    assert version == load_migrations()[-1][0]
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        applied = conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
    assert {"feeds", "stories", "subscriptions", "outbox", "schema_migrations"} <= tables
    assert mode == "wal"
    assert applied == len(load_migrations())


async def test_migrations_apply_once(tmp_path: Path) -> None:
    path = str(tmp_path / "twice.db")
    store = await open_sqlite(path)
    await store.add_subscriptions(CHAN, ["NATO"], "ana")
    await store.close()
    store = await open_sqlite(path)  # a second start must not re-run or fail
    subs = await store.all_subscriptions()
    await store.close()
    assert [s.query for s in subs] == ["NATO"]


async def test_stories_and_alerts_are_recorded_together(tmp_path: Path) -> None:
    store = await open_sqlite(str(tmp_path / "s.db"))
    feed = await store.add_feed("https://news.example/rss", trusted=True, added_by=None)
    story = Story(feed.id, "g1", "Title", "https://news.example/1", "Body", NOW, "Wire")
    alert = Alert(
        CHAN,
        feed.id,
        "g1",
        "Title",
        "https://news.example/1",
        "Wire",
        NOW,
        "Body",
        ("NATO",),
        ("NATO",),
    )
    assert await store.unseen_story_ids(feed.id, ["g1", "g2"]) == {"g1", "g2"}
    assert await store.record_refresh(feed.id, [story], [alert], NOW, prime=True) == 1
    # Recording the same again (a re-poll after a crash) queues nothing twice.
    assert await store.record_refresh(feed.id, [story], [alert], NOW) == 0
    assert await store.unseen_story_ids(feed.id, ["g1", "g2"]) == {"g2"}
    pending = await store.pending_alerts(10)
    assert [(a.title, a.topics, a.channel) for a in pending] == [("Title", ("NATO",), CHAN)]
    assert pending[0].id is not None
    await store.mark_sent(pending[0].id, "m1", NOW)
    assert await store.pending_alerts(10) == []
    feeds = await store.list_feeds()
    await store.close()
    assert feeds[0].primed


async def test_subscriptions_are_per_channel(tmp_path: Path) -> None:
    store = await open_sqlite(str(tmp_path / "s.db"))
    other = Channel("console", "local", "other")
    [a] = await store.add_subscriptions(CHAN, ["NATO"], "ana")
    [b] = await store.add_subscriptions(other, ["Russia"], "bo")
    assert await store.remove_subscription(CHAN, b.id) is None  # not this channel's
    assert [s.query for s in await store.list_subscriptions(CHAN)] == ["NATO"]
    removed = await store.remove_subscription(CHAN, a.id)
    assert removed is not None
    assert removed.query == "NATO"
    assert await store.list_subscriptions(CHAN) == []
    await store.close()


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
    "url", ["mysql://db/newsbot", "sqlite://relative.db", "sqlite:///", "newsbot.db", ""]
)
async def test_open_store_refuses_a_url_no_backend_reads(url: str) -> None:
    with pytest.raises(UnsupportedDatabaseUrl, match=r"sqlite:///PATH"):
        await open_store(url)


async def test_open_store_opens_sqlite_by_url(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'by-url.db'}")
    await store.add_subscriptions(CHAN, ["NATO"], "ana")
    await store.close()
    reopened = await open_sqlite(str(tmp_path / "by-url.db"))
    subs = await reopened.all_subscriptions()
    await reopened.close()
    assert [s.query for s in subs] == ["NATO"]
