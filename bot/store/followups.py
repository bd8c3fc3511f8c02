"""FollowUpStore on SQLite: sent alerts owed an edit once more outlets carry their story.

A copy of a story whose alert was sent already updates the alert's payload ("also
reported by") and sets `edit_due_at` (bot/store/stories.py); delivery edits the message
and clears it. At most one edit a minute per alert (EDIT_INTERVAL): a copy arriving
sooner after an edit makes the next one due a minute after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.models import Channel
from bot.core.ports import PendingEdit
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.payload import decode_alert, next_edit_at, shown_outlets


class SqliteFollowUps:
    db: Database

    async def due_edits(
        self, now: datetime, platforms: Sequence[str], limit: int, *, lease_for: timedelta
    ) -> list[PendingEdit]:
        if not platforms:
            return []
        marks = ",".join("?" * len(platforms))
        # Claimed as on PostgreSQL (one writer here, so a transaction is enough): the due
        # time moves past the lease, and edited_at = now starts the once-a-minute interval.
        async with self.db.transaction() as conn:
            async with conn.execute(
                "SELECT id, platform, workspace, channel, feed_id, story_id, payload, remote_id"
                " FROM outbox WHERE edit_due_at IS NOT NULL AND edit_due_at <= ?"
                f" AND status = 'sent' AND remote_id IS NOT NULL AND platform IN ({marks})"
                " ORDER BY edit_due_at, id LIMIT ?",
                (to_db_time(now), *platforms, limit),
            ) as cur:
                rows = list(await cur.fetchall())
            await conn.executemany(
                "UPDATE outbox SET edited_at = ?, edit_due_at = ? WHERE id = ?",
                [(to_db_time(now), to_db_time(now + lease_for), r["id"]) for r in rows],
            )
        return [
            PendingEdit(
                decode_alert(
                    r["id"],
                    Channel(r["platform"], r["workspace"], r["channel"]),
                    r["feed_id"],
                    r["story_id"],
                    r["payload"],
                ),
                r["remote_id"],
            )
            for r in rows
        ]

    async def mark_edited(self, alert_id: int, shown: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            async with conn.execute("SELECT payload FROM outbox WHERE id = ?", (alert_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                return
            # More outlets since the message was rendered: edit again, a minute on.
            again = shown_outlets(row["payload"]) != shown
            await conn.execute(
                "UPDATE outbox SET edited_at = ?, edit_due_at = ? WHERE id = ?",
                (
                    to_db_time(now),
                    to_db_time(next_edit_at(now, now)) if again else None,
                    alert_id,
                ),
            )

    async def defer_edit(self, alert_id: int, until: datetime | None) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET edit_due_at = ? WHERE id = ?",
                (to_db_time(until) if until is not None else None, alert_id),
            )

    async def recent_sent(self, channel: Channel, since: datetime, limit: int) -> list[PendingEdit]:
        return await _recent_sent_sqlite(self.db, channel, since, limit)


async def _recent_sent_sqlite(
    db: Database, channel: Channel, since: datetime, limit: int
) -> list[PendingEdit]:
    async with (
        db.reading() as conn,
        conn.execute(
            "SELECT id, feed_id, story_id, payload, remote_id FROM outbox"
            " WHERE platform = ? AND workspace = ? AND channel = ? AND status = 'sent'"
            " AND kind = 'alert' AND remote_id IS NOT NULL AND sent_at >= ?"
            " ORDER BY id DESC LIMIT ?",
            (channel.platform, channel.workspace, channel.channel, to_db_time(since), limit),
        ) as cur,
    ):
        rows = list(await cur.fetchall())
    return [
        PendingEdit(
            decode_alert(r["id"], channel, r["feed_id"], r["story_id"], r["payload"]),
            r["remote_id"],
        )
        for r in reversed(rows)
    ]


def edit_due(now: datetime, edited_at: str | None) -> str:
    """When a newly owed edit may go: now, or a minute after the last one (SQLite text)."""
    return to_db_time(next_edit_at(now, from_db_time(edited_at)))
