"""StoryStore on PostgreSQL: the bounded seen set, duplicates, and the outbox in one
transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg

from bot.core.models import Alert, Channel, Story
from bot.core.ports import Lease, StoryCopy, StoryKeys
from bot.core.titles import title_words
from bot.store.payload import next_edit_at, with_also_reported_by
from bot.store.postgres.database import REFRESH_LOCK, SCHEMA_KEY, PgDatabase, changed
from bot.store.postgres.feeds import check_feed_lease
from bot.store.postgres.outbox import insert_alerts
from bot.store.story_keys import batch_words, copies_from_owners, key_rows, merged, near_owners

if TYPE_CHECKING:
    from bot.store.postgres.database import Conn

# Outbox statuses of an alert that will still go out as it is; "folded" went into a
# digest already built, "sent" is out: both are recorded only.
_NOT_SENT_YET = ("pending", "held", "paused")
NEVER = datetime.min.replace(tzinfo=UTC)


def _row_to_story(row: asyncpg.Record) -> Story:
    return Story(
        feed_id=row["feed_id"],
        story_id=row["story_id"],
        title=row["title"],
        link=row["link"],
        summary=row["summary"],
        published=row["published"],
        source=row["source"],
        image=row["image"],
    )


class PgStories:
    db: PgDatabase

    async def unseen_story_ids(self, feed_id: int, story_ids: Sequence[str]) -> set[str]:
        unseen = set(story_ids)
        if not unseen:
            return unseen
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT story_id FROM stories WHERE feed_id = $1 AND story_id = ANY($2::text[])",
                feed_id,
                list(unseen),
            )
        unseen.difference_update(r[0] for r in rows)
        return unseen

    async def recent_stories(self, since: datetime, limit: int = 5000) -> list[Story]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM stories WHERE first_seen_at >= $1"
                " ORDER BY first_seen_at DESC, seq DESC LIMIT $2",
                since,
                limit,
            )
        return [_row_to_story(r) for r in rows]

    async def record_refresh(
        self,
        feed_id: int,
        stories: Sequence[Story],
        alerts: Sequence[Alert],
        now: datetime,
        *,
        prime: bool = False,
        copies: Sequence[StoryCopy] = (),
        keep: int = 0,
        current_ids: Sequence[str] = (),
        lease: Lease | None = None,
        keys: Sequence[StoryKeys] = (),
        keys_since: datetime | None = None,
    ) -> int:
        async with self.db.transaction() as conn:
            # SQLite runs one write at a time; here refreshes run side by side, except
            # one with copies: it waits for those in progress (shared lock against its
            # exclusive one), so the earlier copy's alert it looks for is committed.
            lock = "pg_advisory_xact_lock" if copies else "pg_advisory_xact_lock_shared"
            await conn.execute(f"SELECT {lock}({SCHEMA_KEY}, {REFRESH_LOCK})")
            if lease is not None:
                await check_feed_lease(conn, feed_id, lease)
            if stories:
                await conn.execute(
                    "INSERT INTO stories (feed_id, story_id, title, link, summary, source,"
                    " image, published, first_seen_at)"
                    " SELECT $1, s, t, l, m, src, img, p, $9 FROM unnest($2::text[],"
                    " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],"
                    " $8::timestamptz[]) WITH ORDINALITY AS x(s, t, l, m, src, img, p, n)"
                    " ORDER BY n ON CONFLICT (feed_id, story_id) DO NOTHING",
                    feed_id,
                    [s.story_id for s in stories],
                    [s.title for s in stories],
                    [s.link for s in stories],
                    [s.summary for s in stories],
                    [s.source for s in stories],
                    [s.image for s in stories],
                    [s.published for s in stories],
                    now,
                )
            if keys:
                # Only a story with alerts here can change what a copy of it queues.
                recorded = {st.story_id for st in stories} & {a.story_id for a in alerts}
                found = await _claim_keys(conn, feed_id, keys, recorded, now, keys_since)
                copies = merged(copies, found)
            queued = await _queue(conn, feed_id, alerts, copies, now)
            if prime:
                await conn.execute("UPDATE feeds SET primed = TRUE WHERE id = $1", feed_id)
            if keep > 0 and stories:
                await _prune(conn, feed_id, keep, current_ids)
        return queued

    async def forget_story_keys(self, before: datetime, limit: int) -> int:
        # Its own short transaction that never waits (SKIP LOCKED): a refresh claiming one
        # of these keys meanwhile keeps it, and nothing here can wait on a refresh.
        async with self.db.transaction() as conn:
            status = await conn.execute(
                "DELETE FROM story_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM story_keys"
                " WHERE seen_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED))",
                before,
                limit,
            )
        return changed(status)

    async def titles_seen_since(
        self, since: datetime, *, page: int = 1000
    ) -> AsyncIterator[list[tuple[int, str, str, str, str, datetime]]]:
        """(feed_id, story_id, title, link, source, first seen) of the stories first seen
        at or after `since`, oldest first, `page` rows at a time (what the duplicate
        index is rebuilt from at start), the connection free between pages."""
        after: tuple[datetime, int] = (since, -(2**63))
        while True:
            async with self.db.reading() as conn:
                rows = await conn.fetch(
                    "SELECT feed_id, story_id, title, link, source, first_seen_at, seq"
                    " FROM stories WHERE (first_seen_at, seq) > ($1, $2)"
                    " ORDER BY first_seen_at, seq LIMIT $3",
                    *after,
                    page,
                )
            if not rows:
                return
            after = (rows[-1][5], rows[-1][6])
            yield [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]
            if len(rows) < page:
                return

    async def stories_seen_since(self, since: datetime) -> list[tuple[Story, datetime]]:
        async with self.db.reading() as conn:
            rows = await conn.fetch(
                "SELECT * FROM stories WHERE first_seen_at >= $1 ORDER BY first_seen_at, seq",
                since,
            )
        return [(_row_to_story(r), r["first_seen_at"]) for r in rows]


async def _queue(
    conn: Conn,
    feed_id: int,
    alerts: Sequence[Alert],
    copies: Sequence[StoryCopy],
    now: datetime,
) -> int:
    if not copies:
        return await insert_alerts(conn, alerts, now)
    by_story = {c.story_id: c for c in copies}
    await conn.executemany(
        "INSERT INTO story_duplicates (feed_id, story_id, original_feed_id,"
        " original_story_id, source, seen_at) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (feed_id, story_id) DO NOTHING",
        [(feed_id, c.story_id, *c.earlier[0], c.source, now) for c in copies],
    )
    queued = 0
    # One by one, in order: a copy later in this same batch must see the alert an
    # earlier one just queued.
    for alert in alerts:
        copy = by_story.get(alert.story_id)
        if copy is None or not await _fold_into_earlier(conn, alert.channel, copy, now):
            queued += await insert_alerts(conn, [alert], now)
    return queued


async def _claim_keys(
    conn: Conn,
    feed_id: int,
    keys: Sequence[StoryKeys],
    recorded: set[str],
    now: datetime,
    since: datetime | None,
) -> list[StoryCopy]:
    """Claim the new stories' identity keys; the stories whose keys another owns (seen
    since `since`) are copies of it. A key seen before `since` is taken over.

    Another transaction claiming one of these keys at the same moment makes this one wait
    for it on the unique index, then see its owner: by then that story's alerts are
    committed, and this copy folds into them. Keys go in key order (key_rows), so two
    batches never wait on each other in a circle."""
    keys = [k for k in keys if k.story_id in recorded]
    rows = key_rows(keys, recorded)
    if not rows:
        return []
    status = await conn.execute(
        "INSERT INTO story_keys (key, feed_id, story_id, seen_at)"
        " SELECT k, $2, s, $4 FROM unnest($1::text[], $3::text[]) WITH ORDINALITY AS t(k, s, n)"
        " ORDER BY n ON CONFLICT (key) DO UPDATE SET feed_id = excluded.feed_id,"
        " story_id = excluded.story_id, seen_at = excluded.seen_at"
        " WHERE story_keys.seen_at < $5",
        [key for key, _ in rows],
        feed_id,
        [story_id for _, story_id in rows],
        now,
        since if since is not None else NEVER,
    )
    words = batch_words(feed_id, keys)
    if changed(status) == len(rows):
        # Every key is this batch's now: copies only among its own stories.
        return copies_from_owners(feed_id, keys, [(k, feed_id, s) for k, s in rows], words)
    found = await conn.fetch(
        "SELECT key, feed_id, story_id FROM story_keys WHERE key = ANY($1::text[])"
        " ORDER BY seen_at, feed_id, story_id",
        [key for key, _ in rows],
    )
    owners = [(r[0], r[1], r[2]) for r in found]
    # A shared near key is a candidate: read the owners' titles to compare them.
    if wanted := near_owners(keys, owners, words):
        titles = await conn.fetch(
            "SELECT feed_id, story_id, title FROM stories WHERE (feed_id, story_id) IN"
            " (SELECT * FROM unnest($1::bigint[], $2::text[]))",
            [f for f, _ in wanted],
            [s for _, s in wanted],
        )
        words.update({(r[0], r[1]): title_words(r[2]) for r in titles})
    return copies_from_owners(feed_id, keys, owners, words)


async def _fold_into_earlier(conn: Conn, channel: Channel, copy: StoryCopy, now: datetime) -> bool:
    """True when `channel` already has an alert for an earlier copy of the story.

    Not sent yet: it gets this copy's source in "also reported by". Already sent as its
    own message: the same, and its message is owed an edit (bot/store/followups.py).
    Folded into a digest: the copy is recorded (story_duplicates), nothing more goes out.
    """
    row = await conn.fetchrow(
        "SELECT id, status, payload, kind, remote_id, edited_at FROM outbox"
        " WHERE platform = $1 AND workspace = $2"
        " AND channel = $3 AND (feed_id, story_id) IN"
        " (SELECT * FROM unnest($4::bigint[], $5::text[])) ORDER BY id LIMIT 1 FOR UPDATE",
        channel.platform,
        channel.workspace,
        channel.channel,
        [f for f, _ in copy.earlier],
        [s for _, s in copy.earlier],
    )
    if row is None:
        return False
    if row["status"] == "sent" and row["kind"] == "alert" and row["remote_id"] is not None:
        updated = with_also_reported_by(row["payload"], copy.source)
        if updated is not None:
            await conn.execute(
                "UPDATE outbox SET payload = $1, edit_due_at = $2 WHERE id = $3",
                updated,
                next_edit_at(now, row["edited_at"]),
                row["id"],
            )
        return True
    if row["status"] in _NOT_SENT_YET:
        payload = with_also_reported_by(row["payload"], copy.source)
        if payload is not None:
            await conn.execute("UPDATE outbox SET payload = $1 WHERE id = $2", payload, row["id"])
    return True


async def _prune(conn: Conn, feed_id: int, keep: int, current_ids: Sequence[str]) -> None:
    """Keep the feed's newest `keep` seen ids, and every id its current document holds:
    forgetting one of those would alert on it again at the next poll."""
    count: int = await conn.fetchval("SELECT COUNT(*) FROM stories WHERE feed_id = $1", feed_id)
    if count <= keep:
        return
    await conn.execute(
        "DELETE FROM stories WHERE feed_id = $1 AND NOT (story_id = ANY($2::text[]))"
        " AND seq IN (SELECT seq FROM stories WHERE feed_id = $1"
        " ORDER BY first_seen_at DESC, seq DESC OFFSET $3)",
        feed_id,
        list(current_ids),
        keep,
    )
