"""The PostgreSQL store: one class per concern, composed over one connection pool."""

from __future__ import annotations

from bot.store.postgres.changes import PgChanges
from bot.store.postgres.channel_leases import PgChannelLeases
from bot.store.postgres.channels import PgChannelSettings
from bot.store.postgres.database import PgDatabase
from bot.store.postgres.enrichment import PgEnrichment
from bot.store.postgres.feeds import PgFeeds
from bot.store.postgres.followups import PgFollowUps
from bot.store.postgres.leases import PgFeedLeases
from bot.store.postgres.outbox import PgOutbox
from bot.store.postgres.pacing import PgPacing
from bot.store.postgres.stories import PgStories
from bot.store.postgres.subscriptions import PgSubscriptions


class PostgresStore(
    PgSubscriptions,
    PgFeeds,
    PgFeedLeases,
    PgStories,
    PgOutbox,
    PgChannelLeases,
    PgChannelSettings,
    PgChanges,
    PgPacing,
    PgEnrichment,
    PgFollowUps,
):
    def __init__(self, db: PgDatabase) -> None:
        self.db = db

    async def close(self) -> None:
        await self.db.close()


async def open_postgres(url: str) -> PostgresStore:
    """Connect to the PostgreSQL database at `url` and apply its migrations (once, under
    an advisory lock, however many processes start at the same moment)."""
    return PostgresStore(await PgDatabase.open(url))
