"""EnrichmentStore on SQLite: article texts per URL, story facts, model calls per day."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.ports.enrichment import CachedArticle, StoryFactKind
from bot.store.database import Database, from_db_time, to_db_time


class SqliteEnrichment:
    db: Database

    async def cached_article(self, url: str) -> CachedArticle | None:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT url, text, note, fetched_at FROM article_cache WHERE url = ?", (url,)
            ) as cur,
        ):
            row = await cur.fetchone()
        if row is None:
            return None
        fetched = from_db_time(row["fetched_at"])
        assert fetched is not None
        return CachedArticle(row["url"], row["text"], row["note"], fetched)

    async def save_article(self, article: CachedArticle) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO article_cache (url, text, note, fetched_at)"
                " VALUES (?, ?, ?, ?)",
                (article.url, article.text, article.note, to_db_time(article.fetched_at)),
            )

    async def story_fact(
        self, feed_id: int, story_id: str, kind: StoryFactKind, language: str
    ) -> str | None:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT value FROM story_facts WHERE feed_id = ? AND story_id = ?"
                " AND kind = ? AND language = ?",
                (feed_id, story_id, kind, language),
            ) as cur,
        ):
            row = await cur.fetchone()
        return None if row is None else str(row[0])

    async def save_story_fact(
        self,
        feed_id: int,
        story_id: str,
        kind: StoryFactKind,
        language: str,
        value: str,
        now: datetime,
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO story_facts (feed_id, story_id, kind, language, value,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (feed_id, story_id, kind, language, value, to_db_time(now)),
            )

    async def reserve_model_call(self, day: date, limit: int) -> bool:
        if limit <= 0:
            return False
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "INSERT INTO model_calls (day, calls) VALUES (?, 1)"
                " ON CONFLICT (day) DO UPDATE SET calls = calls + 1 WHERE calls < ?",
                (day.isoformat(), limit),
            )
            return cur.rowcount == 1

    async def forget_enrichment(self, before: datetime) -> int:
        stamp = to_db_time(before)
        dropped = 0
        async with self.db.transaction() as conn:
            for sql, arg in (
                ("DELETE FROM article_cache WHERE fetched_at < ?", stamp),
                ("DELETE FROM story_facts WHERE created_at < ?", stamp),
                ("DELETE FROM model_calls WHERE day < ?", before.date().isoformat()),
            ):
                cur = await conn.execute(sql, (arg,))
                dropped += cur.rowcount
        return dropped
