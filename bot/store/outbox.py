"""OutboxStore on SQLite: pending alerts, oldest first, until sent."""

from __future__ import annotations

import json
from collections.abc import Sequence
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
        "kind": alert.kind,
        "mentions": list(alert.mentions),
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
        kind=p.get("kind", "alert"),
        mentions=tuple(p.get("mentions") or ()),
        extra=dict(p.get("extra") or {}),
    )


async def insert_alerts(conn: aiosqlite.Connection, alerts: Sequence[Alert], stamp: str) -> int:
    """INSERT OR IGNORE each alert into the outbox inside the caller's transaction."""
    queued = 0
    for a in alerts:
        cur = await conn.execute(
            "INSERT OR IGNORE INTO outbox (platform, workspace, channel, feed_id,"
            " story_id, payload, created_at, next_attempt_at) VALUES (?,?,?,?,?,?,?,?)",
            (
                a.channel.platform,
                a.channel.workspace,
                a.channel.channel,
                a.feed_id,
                a.story_id,
                json.dumps(alert_to_payload(a), ensure_ascii=False),
                stamp,
                stamp,
            ),
        )
        queued += cur.rowcount
    return queued


class SqliteOutbox:
    db: Database

    async def queue_alerts(self, alerts: Sequence[Alert], now: datetime) -> int:
        async with self.db.transaction() as conn:
            return await insert_alerts(conn, alerts, to_db_time(now))

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
