"""FollowUpStore on PostgreSQL (see bot/store/followups.py for the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.models import Channel
from bot.core.ports import PendingEdit
from bot.store.payload import next_edit_at, shown_outlets
from bot.store.postgres.database import PgDatabase
from bot.store.postgres.outbox import row_to_alert


class PgFollowUps:
    db: PgDatabase

    async def due_edits(
        self, now: datetime, platforms: Sequence[str], limit: int, *, lease_for: timedelta
    ) -> list[PendingEdit]:
        if not platforms:
            return []
        # Claimed in one statement: rows another process is claiming are skipped, not
        # waited for, and a claimed row's due time moves past the lease, so two processes
        # never make one edit side by side. edited_at = now starts the once-a-minute
        # interval (a copy arriving meanwhile owes its edit a minute on).
        async with self.db.transaction() as conn:
            rows = await conn.fetch(
                "WITH due AS (SELECT id, edit_due_at AS was_due FROM outbox"
                " WHERE edit_due_at IS NOT NULL AND edit_due_at <= $1"
                " AND status = 'sent' AND remote_id IS NOT NULL AND platform = ANY($2::text[])"
                " ORDER BY edit_due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)"
                " UPDATE outbox o SET edited_at = $1, edit_due_at = $4 FROM due"
                " WHERE o.id = due.id RETURNING o.*, due.was_due",
                now,
                list(platforms),
                limit,
                now + lease_for,
            )
        rows = sorted(rows, key=lambda r: (r["was_due"], r["id"]))
        return [PendingEdit(row_to_alert(r), r["remote_id"]) for r in rows]

    async def mark_edited(self, alert_id: int, shown: str, now: datetime) -> None:
        async with self.db.transaction() as conn:
            payload = await conn.fetchval(
                "SELECT payload FROM outbox WHERE id = $1 FOR UPDATE", alert_id
            )
            if payload is None:
                return
            again = shown_outlets(payload) != shown
            await conn.execute(
                "UPDATE outbox SET edited_at = $1, edit_due_at = $2 WHERE id = $3",
                now,
                next_edit_at(now, now) if again else None,
                alert_id,
            )

    async def defer_edit(self, alert_id: int, until: datetime | None) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("UPDATE outbox SET edit_due_at = $1 WHERE id = $2", until, alert_id)

    async def recent_sent(self, channel: Channel, since: datetime, limit: int) -> list[PendingEdit]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM outbox WHERE platform = $1 AND workspace = $2 AND channel = $3"
                " AND status = 'sent' AND kind = 'alert' AND remote_id IS NOT NULL"
                " AND sent_at >= $4 ORDER BY id DESC LIMIT $5",
                channel.platform,
                channel.workspace,
                channel.channel,
                since,
                limit,
            )
        return [PendingEdit(row_to_alert(r), r["remote_id"]) for r in reversed(rows)]
