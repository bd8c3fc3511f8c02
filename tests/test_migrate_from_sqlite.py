"""`newsbot migrate --from sqlite:///...`: a SQLite install moved into PostgreSQL whole.

Compared through the Store protocol on both sides: whatever the SQLite store would
answer, the PostgreSQL one answers after the copy, and what was sent is not sent again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from bot.core.channel_settings import DigestSchedule, QuietHours
from bot.core.ports import FetchState, Store, StoryCopy
from bot.store import open_store
from tests.store_contract.backends import StoreUrls, pg_schema
from tests.store_contract.builders import DESK, NEWS, SLACK, alert, at, failed, story
from tests.support.process import newsbot_command

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
FAR = datetime(2100, 1, 1, tzinfo=UTC)
CHANNELS = (NEWS, DESK, SLACK)


@pytest.fixture
async def pg() -> AsyncIterator[StoreUrls]:
    async with pg_schema() as made:
        yield made


async def _fill(store: Store) -> None:
    """An install that has been running a while: every kind of row, every outbox state."""
    wire = await store.add_feed("https://wire.example/rss", trusted=True, added_by=None)
    state = FetchState('"v7"', "Mon, 01 Jan 2026 10:00:00 GMT", at(600), "Wire", None, "h", 120)
    await store.save_fetch_state(wire.id, state, at(0))
    blog, _ = await store.attach_feed("https://blog.example/feed", NEWS, added_by="ana")
    await store.save_fetch_state(blog.id, failed(at(300), "HTTP 503"), at(1))
    gone = await store.add_feed("https://gone.example/rss", trusted=True, added_by=None)
    await store.pause_feed(gone.id, failed(at(900), "HTTP 410"), [], at(2))
    await store.add_subscriptions(NEWS, ["NATO", "Baltic AND ferry"], "ana", mention="U1")
    await store.add_subscriptions(DESK, ["Riga"], "bo")
    await store.pause_channel(DESK, "missing permission")
    await store.set_digest(NEWS, DigestSchedule("daily", time(8, 30), "Europe/Berlin"), at(3))
    await store.set_quiet(DESK, QuietHours(time(22, 0), time(7, 0), "UTC"), at(3))
    stories = [story(wire.id, f"w{n}") for n in range(4)]
    await store.record_refresh(
        wire.id,
        stories,
        [alert(NEWS, wire.id, f"w{n}") for n in range(4)]
        + [alert(DESK, wire.id, "w0"), alert(SLACK, wire.id, "w0")],
        at(10),
        prime=True,
    )
    await store.record_refresh(
        blog.id,
        [story(blog.id, "b0", source="Blog")],
        [alert(NEWS, blog.id, "b0", source="Blog")],
        at(20),
        copies=[StoryCopy("b0", "Blog", ((wire.id, "w3"),))],
    )
    ids = {(a.channel, a.story_id): a.id for a in await store.pending_alerts(100)}
    sent, in_flight, rejected = ids[(NEWS, "w0")], ids[(NEWS, "w1")], ids[(NEWS, "w2")]
    assert sent is not None
    assert in_flight is not None
    assert rejected is not None
    await store.mark_in_flight(sent, at(30))
    await store.mark_sent(sent, "m-1", at(31))
    await store.mark_in_flight(in_flight, at(32))  # and then the process died
    await store.mark_rejected(rejected, "50035", at(33))
    await store.hold_alerts(DESK, "quiet", at(34))
    await store.park_channel(SLACK, "Missing Access")


async def _snapshot(store: Store) -> dict[str, object]:
    """Everything the Store protocol tells about an install."""
    return {
        "feeds": await store.list_feeds(),
        "due": await store.due_feeds(FAR, 100),
        "channels_by_feed": await store.channels_by_feed(),
        "subscriptions": await store.all_subscriptions(),
        "settings": [await store.channel_settings(c) for c in CHANNELS],
        "seen": await store.stories_seen_since(LONG_AGO),
        "recent": await store.recent_stories(LONG_AGO),
        "deliveries": await store.due_deliveries(FAR, ["console", "slack"], 100, 1000),
        "held": [await store.held_alerts(c) for c in CHANNELS],
        "held_channels": await store.held_channels(),
        "status": [await store.delivery_status(c) for c in CHANNELS],
        "sent": [await store.count_sent(c, LONG_AGO) for c in CHANNELS],
    }


async def test_an_install_moves_over_whole_and_sends_nothing_twice(
    pg: StoreUrls, tmp_path: Path
) -> None:
    source_url = f"sqlite:///{tmp_path / 'newsbot.db'}"
    source = await open_store(source_url)
    await _fill(source)
    before = await _snapshot(source)
    await source.close()

    code, out, err = await newsbot_command(tmp_path, pg.url, "migrate", "--from", source_url)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"copied {source_url} into PostgreSQL in one transaction:",
        "  feeds: 3",
        "  feeds added by channels: 1",
        "  subscriptions: 3",
        "  channel settings: 2",
        "  seen stories: 5",
        "  stories recorded as copies: 1",
        "  outbox alerts: 6 (held 1, in flight 1, paused 1, pending 1, rejected 1, sent 1)",
    ]

    target = await open_store(pg.url)
    try:
        assert await _snapshot(target) == before
        wire = await target.find_feed("https://wire.example/rss")
        assert wire is not None
        # Seen and sent on SQLite: neither alerts again, nor is its alert queued again.
        assert await target.unseen_story_ids(wire.id, ["w0", "w9"]) == {"w9"}
        again = await target.record_refresh(
            wire.id, [story(wire.id, "w0")], [alert(NEWS, wire.id, "w0")], at(40)
        )
        assert again == 0
        # New rows draw ids past the copied ones.
        [sub] = await target.add_subscriptions(NEWS, ["Oslo"], "ana")
        assert sub.id > max(s.id for s in await target.all_subscriptions() if s != sub)
        fresh = await target.add_feed("https://new.example/rss", trusted=True, added_by=None)
        assert fresh.id > wire.id
        assert await target.queue_alerts([alert(NEWS, fresh.id, "n1")], at(41)) == 1
    finally:
        await target.close()


async def test_a_target_in_use_is_refused_unless_forced(pg: StoreUrls, tmp_path: Path) -> None:
    source_url = f"sqlite:///{tmp_path / 'newsbot.db'}"
    source = await open_store(source_url)
    await _fill(source)
    before = await _snapshot(source)
    await source.close()
    target = await open_store(pg.url)
    await target.add_subscriptions(SLACK, ["already here"], "cy")
    await target.close()

    code, out, err = await newsbot_command(tmp_path, pg.url, "migrate", "--from", source_url)
    assert (code, out) == (1, "")
    assert err == (
        "newsbot migrate: the PostgreSQL database already has rows in subscriptions;"
        " --force replaces them\n"
    )
    target = await open_store(pg.url)
    try:
        assert [s.query for s in await target.all_subscriptions()] == ["already here"]
    finally:
        await target.close()

    code, _, err = await newsbot_command(
        tmp_path, pg.url, "migrate", "--from", source_url, "--force"
    )
    assert (code, err) == (0, "")
    target = await open_store(pg.url)
    try:
        assert await _snapshot(target) == before
    finally:
        await target.close()


async def test_a_missing_source_or_a_sqlite_target_is_refused(
    pg: StoreUrls, tmp_path: Path
) -> None:
    missing = f"sqlite:///{tmp_path / 'nope.db'}"
    code, out, err = await newsbot_command(tmp_path, pg.url, "migrate", "--from", missing)
    assert (code, out, err) == (
        2,
        "",
        f"newsbot migrate: no SQLite database at {tmp_path}/nope.db\n",
    )
    assert not (tmp_path / "nope.db").exists()  # not created by looking
    code, _, err = await newsbot_command(
        tmp_path, f"sqlite:///{tmp_path / 'other.db'}", "migrate", "--from", missing
    )
    assert code == 2
    assert "DATABASE_URL" in err
    assert "postgresql://" in err
