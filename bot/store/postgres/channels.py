"""ChannelSettingsStore on PostgreSQL: each channel's digest and quiet-hours settings."""

from __future__ import annotations

from datetime import datetime

from bot.core.channel_settings import ChannelSettings, DigestSchedule, QuietHours
from bot.core.models import Channel
from bot.store.channel_columns import (
    digest_columns,
    language_columns,
    quiet_columns,
    settings_from_row,
    snooze_columns,
    summary_mode_columns,
    threads_columns,
    with_enrichment,
)
from bot.store.postgres.database import PgDatabase


class PgChannelSettings:
    db: PgDatabase

    async def channel_settings(self, channel: Channel) -> ChannelSettings:
        async with self.db.reading() as conn:
            row = await conn.fetchrow(
                "SELECT * FROM channel_settings WHERE platform = $1 AND workspace = $2"
                " AND channel = $3",
                channel.platform,
                channel.workspace,
                channel.channel,
            )
        return with_enrichment(row, settings_from_row(row))

    async def _upsert(
        self, channel: Channel, columns: dict[str, str | None], now: datetime
    ) -> None:
        names = list(columns)
        marks = ", ".join(f"${n}" for n in range(5, 5 + len(names)))
        sets = ", ".join(f"{n} = excluded.{n}" for n in names)
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO channel_settings (platform, workspace, channel, updated_at,"
                f" {', '.join(names)}) VALUES ($1, $2, $3, $4, {marks})"
                f" ON CONFLICT (platform, workspace, channel) DO UPDATE SET {sets},"
                " updated_at = excluded.updated_at",
                channel.platform,
                channel.workspace,
                channel.channel,
                now,
                *columns.values(),
            )

    async def set_digest(
        self, channel: Channel, digest: DigestSchedule | None, now: datetime
    ) -> None:
        await self._upsert(channel, digest_columns(digest), now)

    async def set_quiet(self, channel: Channel, quiet: QuietHours | None, now: datetime) -> None:
        await self._upsert(channel, quiet_columns(quiet), now)

    async def set_snooze(self, channel: Channel, until: datetime | None, now: datetime) -> None:
        await self._upsert(channel, snooze_columns(until), now)

    async def set_threads(self, channel: Channel, on: bool, now: datetime) -> None:
        await self._upsert(channel, threads_columns(on), now)

    async def set_summary_mode(self, channel: Channel, mode: str, now: datetime) -> None:
        await self._upsert(channel, summary_mode_columns(mode), now)

    async def set_language(self, channel: Channel, language: str | None, now: datetime) -> None:
        await self._upsert(channel, language_columns(language), now)
