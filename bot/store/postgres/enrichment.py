"""EnrichmentStore on PostgreSQL: article texts per URL, story facts, model calls per day."""

from __future__ import annotations

from datetime import date, datetime

from bot.core.ports.enrichment import CachedArticle, StoryFactKind
from bot.store.postgres.database import PgDatabase


class PgEnrichment:
    db: PgDatabase

    async def cached_article(self, url: str) -> CachedArticle | None:
        async with self.db.reading() as conn:
            row = await conn.fetchrow(
                "SELECT url, text, note, fetched_at FROM article_cache WHERE url = $1", url
            )
        if row is None:
            return None
        return CachedArticle(row["url"], row["text"], row["note"], row["fetched_at"])

    async def save_article(self, article: CachedArticle) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO article_cache (url, text, note, fetched_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT (url) DO NOTHING",
                article.url,
                article.text,
                article.note,
                article.fetched_at,
            )

    async def story_fact(
        self, feed_id: int, story_id: str, kind: StoryFactKind, language: str
    ) -> str | None:
        async with self.db.reading() as conn:
            value = await conn.fetchval(
                "SELECT value FROM story_facts WHERE feed_id = $1 AND story_id = $2"
                " AND kind = $3 AND language = $4",
                feed_id,
                story_id,
                kind,
                language,
            )
        return None if value is None else str(value)

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
                "INSERT INTO story_facts (feed_id, story_id, kind, language, value, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                feed_id,
                story_id,
                kind,
                language,
                value,
                now,
            )

    async def reserve_model_call(self, day: date, limit: int) -> bool:
        if limit <= 0:
            return False
        async with self.db.transaction() as conn:
            # One statement: concurrent processes serialise on the day's row, so the cap
            # holds across them.
            counted = await conn.fetchval(
                "INSERT INTO model_calls (day, calls) VALUES ($1, 1)"
                " ON CONFLICT (day) DO UPDATE SET calls = model_calls.calls + 1"
                " WHERE model_calls.calls < $2 RETURNING calls",
                day,
                limit,
            )
        return counted is not None

    async def forget_enrichment(self, before: datetime) -> int:
        dropped = 0
        async with self.db.transaction() as conn:
            for sql, arg in (
                ("DELETE FROM article_cache WHERE fetched_at < $1", before),
                ("DELETE FROM story_facts WHERE created_at < $1", before),
                ("DELETE FROM model_calls WHERE day < $1", before.date()),
            ):
                status = await conn.execute(sql, arg)
                dropped += int(status.split()[-1])  # "DELETE <count>"
        return dropped
