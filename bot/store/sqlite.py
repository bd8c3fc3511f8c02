"""The SQLite store: one class per concern, composed over one Database."""

from __future__ import annotations

from bot.store.changes import SqliteChanges
from bot.store.channel_leases import SqliteChannelLeases
from bot.store.channels import SqliteChannelSettings
from bot.store.database import Database
from bot.store.enrichment import SqliteEnrichment
from bot.store.feeds import SqliteFeeds
from bot.store.followups import SqliteFollowUps
from bot.store.leases import SqliteFeedLeases, free_leases
from bot.store.outbox import SqliteOutbox
from bot.store.pacing import SqlitePacing
from bot.store.stories import SqliteStories
from bot.store.subscriptions import SqliteSubscriptions


class SqliteStore(
    SqliteSubscriptions,
    SqliteFeeds,
    SqliteFeedLeases,
    SqliteStories,
    SqliteOutbox,
    SqliteChannelLeases,
    SqliteChannelSettings,
    SqliteChanges,
    SqliteEnrichment,
    SqlitePacing,
    SqliteFollowUps,
):
    def __init__(self, db: Database) -> None:
        self.db = db

    async def close(self) -> None:
        await self.db.close()


async def open_sqlite(path: str) -> SqliteStore:
    """Open (creating if needed) and migrate the SQLite database file at `path`."""
    db = await Database.open(path)
    try:
        await free_leases(db)
    except BaseException:
        await db.close()
        raise
    return SqliteStore(db)
