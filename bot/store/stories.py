"""StoryStore on SQLite: the seen set and the outbox written in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.core.models import Alert, Story
from bot.store.database import Database, to_db_time
from bot.store.outbox import alert_to_payload


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
        queued = 0
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
            for a in alerts:
                cur = await conn.execute(
                    "INSERT OR IGNORE INTO outbox (platform, workspace, channel, feed_id,"
                    " story_id, payload, created_at, next_attempt_at)"
                    " VALUES (?,?,?,?,?,?,?,?)",
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
            if prime:
                await conn.execute("UPDATE feeds SET primed = 1 WHERE id = ?", (feed_id,))
        return queued
