"""SIGKILL while newsbot edits a sent alert: the edit is made (again) after the restart,
and nothing is posted twice: an edit sets the same content however often it is made."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot.core.models import Channel
from bot.store import open_sqlite
from tests.support.crash import HeldRoute, log_tail, start_bot
from tests.support.discord_bot import eventually
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.process import query_db
from tests.support.stories import SNOW, SUMMIT

GUILD = "800000000000000001"
CHANNEL = "810000000000000001"
KILLS = 3
EDIT_LATENCY = 0.3  # seconds the fake takes over an edit: long enough to kill during it


def slow_edits(fake: FakeDiscord) -> HeldRoute:
    """The fake takes a moment per message edit and finishes it even if the bot dies."""
    return HeldRoute(fake, FakeDiscord._edit_message, lambda: asyncio.sleep(EDIT_LATENCY))


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sigkill_during_an_edit_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    fake = FakeDiscord()
    fake.add_guild(GUILD, CHANNEL)
    slow = slow_edits(fake)
    await fake.start()
    db = tmp_path / "bot.db"
    try:
        a = feed_server.serve("/a.rss", rss(SUMMIT, SNOW, title="Outlet A"))
        b = feed_server.serve("/b.rss", rss(SNOW, title="Outlet B"))
        (tmp_path / "feeds.txt").write_text(f"{a}\n{b}\n")
        store = await open_sqlite(str(db))
        await store.add_subscriptions(Channel("discord", GUILD, CHANNEL), ["NATO"], "ana")
        await store.close()
        env = {
            **fake.env(),
            "DATABASE_URL": f"sqlite:///{db}",
            "NEWSBOT_FEEDS_FILE": str(tmp_path / "feeds.txt"),
            "NEWSBOT_POLL_INTERVAL": "1",
            "NEWSBOT_BACKFILL": "2",  # Outlet A's summit story alerts at once
            "NEWSBOT_LEASE_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        bot = await start_bot(env, tmp_path)
        try:
            [message] = await fake.wait_for_messages(CHANNEL, 1)
            # Outlet B carries the same story (its link) after the alert went out.
            feed_server.serve("/b.rss", rss(SUMMIT, SNOW, title="Outlet B"))
            kills = 0
            while True:
                async with asyncio.timeout(30):
                    await slow.arrived.wait()
                if kills == KILLS:
                    break
                slow.arrived.clear()
                await asyncio.sleep(EDIT_LATENCY / 2)  # the edit is in flight at the fake
                bot.send_signal(signal.SIGKILL)
                await bot.wait()
                kills += 1
                bot = await start_bot(env, tmp_path)

            def recorded() -> bool:  # the last run made the edit and recorded it
                rows = query_db(db, "SELECT edit_due_at, edited_at FROM outbox")
                return rows[0][0] is None and rows[0][1] is not None

            await eventually(recorded)
        finally:
            bot.send_signal(signal.SIGTERM)
            code = await bot.wait()
        assert code == 0, log_tail(tmp_path)
        async with asyncio.timeout(10):
            await slow.idle.wait()  # every edit the fake received has finished
    finally:
        await fake.stop()

    assert kills == KILLS
    [only] = fake.posted(CHANNEL)  # one message, whatever happened
    assert only["id"] == message["id"]
    assert "Outlet B" in str(only["embeds"])
    assert len(fake.calls("POST", rf"/channels/{CHANNEL}/messages$")) == 1
    # Each killed run's edit arrived, and the last run made it once more, recorded.
    assert len(fake.calls("PATCH", rf"/channels/{CHANNEL}/messages/\d+$")) >= KILLS + 1
    assert all(body == fake.edits[0][2] for _, _, body in fake.edits)  # the same edit
    assert query_db(db, "SELECT status, COUNT(*) FROM outbox GROUP BY status") == [("sent", 1)]
