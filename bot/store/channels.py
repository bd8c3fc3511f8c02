"""ChannelSettingsStore on SQLite: each channel's digest and quiet-hours settings."""

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
from bot.store.database import Database, to_db_time

_CHANNEL = "platform = ? AND workspace = ? AND channel = ?"


class SqliteChannelSettings:
    db: Database

    async def channel_settings(self, channel: Channel) -> ChannelSettings:
        async with (
            self.db.reading() as conn,
            conn.execute(
                f"SELECT * FROM channel_settings WHERE {_CHANNEL}",
                (channel.platform, channel.workspace, channel.channel),
            ) as cur,
        ):
            row = await cur.fetchone()
        return with_enrichment(row, settings_from_row(row))

    async def _upsert(self, channel: Channel, columns: dict[str, str | None], now: str) -> None:
        names = list(columns)
        sets = ", ".join(f"{n} = excluded.{n}" for n in names)
        async with self.db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO channel_settings (platform, workspace, channel, updated_at,"
                f" {', '.join(names)}) VALUES (?, ?, ?, ?, {', '.join('?' * len(names))})"
                f" ON CONFLICT (platform, workspace, channel) DO UPDATE SET {sets},"
                " updated_at = excluded.updated_at",
                (
                    channel.platform,
                    channel.workspace,
                    channel.channel,
                    now,
                    *columns.values(),
                ),
            )

    async def set_digest(
        self, channel: Channel, digest: DigestSchedule | None, now: datetime
    ) -> None:
        await self._upsert(channel, digest_columns(digest), to_db_time(now))

    async def set_quiet(self, channel: Channel, quiet: QuietHours | None, now: datetime) -> None:
        await self._upsert(channel, quiet_columns(quiet), to_db_time(now))

    async def set_snooze(self, channel: Channel, until: datetime | None, now: datetime) -> None:
        await self._upsert(channel, snooze_columns(until), to_db_time(now))

    async def set_threads(self, channel: Channel, on: bool, now: datetime) -> None:
        await self._upsert(channel, threads_columns(on), to_db_time(now))

    async def set_summary_mode(self, channel: Channel, mode: str, now: datetime) -> None:
        await self._upsert(channel, summary_mode_columns(mode), to_db_time(now))

    async def set_language(self, channel: Channel, language: str | None, now: datetime) -> None:
        await self._upsert(channel, language_columns(language), to_db_time(now))
