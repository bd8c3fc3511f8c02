"""OutboxStore on SQLite: pending alerts, oldest first, until sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import aiosqlite

from bot.core.models import Alert, Channel
from bot.store.database import Database, to_db_time


def alert_to_payload(alert: Alert) -> dict[str, Any]:
    return {
        "title": alert.title,
        "link": alert.link,
        "source": alert.source,
        "published": alert.published.isoformat(),
        "summary": alert.summary,
        "topics": list(alert.topics),
        "matched": list(alert.matched),
        "image": alert.image,
        "extra": alert.extra,
    }


def _row_to_alert(row: aiosqlite.Row) -> Alert:
    p = json.loads(row["payload"])
    return Alert(
        id=row["id"],
        channel=Channel(row["platform"], row["workspace"], row["channel"]),
        feed_id=row["feed_id"],
        story_id=row["story_id"],
        title=p["title"],
        link=p["link"],
        source=p["source"],
        published=datetime.fromisoformat(p["published"]).astimezone(UTC),
        summary=p["summary"],
        topics=tuple(p["topics"]),
        matched=tuple(p["matched"]),
        image=p.get("image"),
        extra=dict(p.get("extra") or {}),
    )


class SqliteOutbox:
    db: Database

    async def pending_alerts(self, limit: int) -> list[Alert]:
        now = to_db_time(datetime.now(UTC))
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
                " ORDER BY id LIMIT ?",
                (now, limit),
            ) as cur,
        ):
            return [_row_to_alert(r) for r in await cur.fetchall()]

    async def mark_sent(self, alert_id: int, remote_id: str | None, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, remote_id = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (to_db_time(now), remote_id, alert_id),
            )

    async def mark_failed(self, alert_id: int, error: str, retry_at: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE id = ?",
                (error[:500], to_db_time(retry_at), alert_id),
            )
