"""StoryStore on SQLite: the seen set and the outbox written in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.models import Alert, Story
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.outbox import insert_alerts


class SqliteStories:
    db: Database

    async def unseen_story_ids(self, feed_id: int, story_ids: Sequence[str]) -> set[str]:
        unseen = set(story_ids)
        async with self.db.reading() as conn:
            # Chunked: SQLite caps the number of bound parameters per statement.
            ids = list(unseen)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                async with conn.execute(
                    f"SELECT story_id FROM stories WHERE feed_id = ? AND story_id IN ({marks})",
                    (feed_id, *chunk),
                ) as cur:
                    unseen.difference_update(r[0] for r in await cur.fetchall())
        return unseen

    async def recent_stories(self, since: datetime, limit: int = 5000) -> list[Story]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT feed_id, story_id, title, link, summary, published, source, image"
                " FROM stories WHERE first_seen_at >= ? ORDER BY first_seen_at DESC, rowid DESC"
                " LIMIT ?",
                (to_db_time(since), limit),
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [
            Story(
                feed_id=r[0],
                story_id=r[1],
                title=r[2],
                link=r[3],
                summary=r[4],
                published=from_db_time(r[5]) or since,
                source=r[6],
                image=r[7],
            )
            for r in rows
        ]

    async def record_stories(
        self,
        feed_id: int,
        stories: Sequence[Story],
        alerts: Sequence[Alert],
        now: datetime,
        *,
        prime: bool = False,
    ) -> int:
        stamp = to_db_time(now)
        async with self.db.transaction() as conn:
            for s in stories:
                await conn.execute(
                    "INSERT OR IGNORE INTO stories (feed_id, story_id, title, link, summary,"
                    " source, image, published, first_seen_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        feed_id,
                        s.story_id,
                        s.title,
                        s.link,
                        s.summary,
                        s.source,
                        s.image,
                        to_db_time(s.published),
                        stamp,
                    ),
                )
            queued = await insert_alerts(conn, alerts, stamp)
            if prime:
                await conn.execute("UPDATE feeds SET primed = 1 WHERE id = ?", (feed_id,))
        return queued
