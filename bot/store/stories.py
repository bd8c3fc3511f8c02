"""StoryStore on SQLite: the bounded seen set, duplicates, and the outbox in one transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import aiosqlite

from bot.core.models import Alert, Channel, Story
from bot.core.ports import Lease, StoryCopy, StoryKeys
from bot.core.titles import title_words
from bot.store.database import Database, from_db_time, to_db_time
from bot.store.feeds import check_feed_lease
from bot.store.followups import edit_due
from bot.store.outbox import insert_alerts
from bot.store.payload import with_also_reported_by
from bot.store.story_keys import batch_words, copies_from_owners, key_rows, merged, near_owners

ALSO_REPORTED_BY = "also_reported_by"
# Outbox statuses of an alert that will still go out as it is (see bot/store/outbox.py);
# "folded" went into a digest already built, "sent" is out: both are recorded only.
_NOT_SENT_YET = frozenset({"pending", "held", "paused"})


def _row_to_story(row: aiosqlite.Row) -> Story:
    published = from_db_time(row["published"])
    assert published is not None
    return Story(
        feed_id=row["feed_id"],
        story_id=row["story_id"],
        title=row["title"],
        link=row["link"],
        summary=row["summary"],
        published=published,
        source=row["source"],
        image=row["image"],
    )


class SqliteStories:
    db: Database

    async def unseen_story_ids(self, feed_id: int, story_ids: Sequence[str]) -> set[str]:
        unseen = set(story_ids)
        if not unseen:
            return unseen
        # One statement for any number of ids: json_each avoids SQLite's cap on bound
        # parameters and a round trip per chunk.
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT story_id FROM stories WHERE feed_id = ?"
                " AND story_id IN (SELECT value FROM json_each(?))",
                (feed_id, json.dumps(list(unseen))),
            ) as cur,
        ):
            unseen.difference_update(r[0] for r in await cur.fetchall())
        return unseen

    async def recent_stories(self, since: datetime, limit: int = 5000) -> list[Story]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT * FROM stories WHERE first_seen_at >= ?"
                " ORDER BY first_seen_at DESC, rowid DESC LIMIT ?",
                (to_db_time(since), limit),
            ) as cur,
        ):
            return [_row_to_story(r) for r in await cur.fetchall()]

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
        stamp = to_db_time(now)
        async with self.db.transaction() as conn:
            if lease is not None:
                await check_feed_lease(conn, feed_id, lease)
            await conn.executemany(
                "INSERT OR IGNORE INTO stories (feed_id, story_id, title, link, summary,"
                " source, image, published, first_seen_at) VALUES (?,?,?,?,?,?,?,?,?)",
                [
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
                    )
                    for s in stories
                ],
            )
            if keys:
                # Only a story with alerts here can change what a copy of it queues.
                recorded = {st.story_id for st in stories} & {a.story_id for a in alerts}
                found = await _claim_keys(conn, feed_id, keys, recorded, stamp, keys_since)
                copies = merged(copies, found)
            queued = await self._queue(conn, feed_id, alerts, copies, stamp)
            if prime:
                await conn.execute("UPDATE feeds SET primed = 1 WHERE id = ?", (feed_id,))
            if keep > 0 and stories:
                await _prune(conn, feed_id, keep, current_ids)
        return queued

    async def _queue(
        self,
        conn: aiosqlite.Connection,
        feed_id: int,
        alerts: Sequence[Alert],
        copies: Sequence[StoryCopy],
        stamp: str,
    ) -> int:
        if not copies:
            return await insert_alerts(conn, alerts, stamp)
        by_story = {c.story_id: c for c in copies}
        await conn.executemany(
            "INSERT OR IGNORE INTO story_duplicates (feed_id, story_id, original_feed_id,"
            " original_story_id, source, seen_at) VALUES (?,?,?,?,?,?)",
            [(feed_id, c.story_id, *c.earlier[0], c.source, stamp) for c in copies],
        )
        queued = 0
        # One by one, in order: a copy later in this same batch must see the alert an
        # earlier one just queued.
        for alert in alerts:
            copy = by_story.get(alert.story_id)
            if copy is None or not await _fold_into_earlier(conn, alert.channel, copy, stamp):
                queued += await insert_alerts(conn, [alert], stamp)
        return queued

    async def forget_story_keys(self, before: datetime, limit: int) -> int:
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "DELETE FROM story_keys WHERE rowid IN"
                " (SELECT rowid FROM story_keys WHERE seen_at < ? LIMIT ?)",
                (to_db_time(before), limit),
            )
            return cur.rowcount

    async def titles_seen_since(
        self, since: datetime, *, page: int = 1000
    ) -> AsyncIterator[list[tuple[int, str, str, str, str, datetime]]]:
        """(feed_id, story_id, title, link, source, first seen) of the stories first seen
        at or after `since`, oldest first, `page` rows at a time.

        What the duplicate index is rebuilt from at start: only its columns (not the
        summaries), a page per read so the connection is free in between, and never the
        whole window at once (a day of a large install is 100,000 stories).
        """
        after: tuple[str, int] = (to_db_time(since), -(2**63))
        while True:
            async with (
                self.db.reading() as conn,
                conn.execute(
                    "SELECT feed_id, story_id, title, link, source, first_seen_at, rowid"
                    " FROM stories WHERE (first_seen_at, rowid) > (?, ?)"
                    " ORDER BY first_seen_at, rowid LIMIT ?",
                    (*after, page),
                ) as cur,
            ):
                rows = list(await cur.fetchall())
            if not rows:
                return
            after = (rows[-1][5], rows[-1][6])
            yield [(r[0], r[1], r[2], r[3], r[4], datetime.fromisoformat(r[5])) for r in rows]
            if len(rows) < page:
                return

    async def stories_seen_since(self, since: datetime) -> list[tuple[Story, datetime]]:
        async with (
            self.db.reading() as conn,
            conn.execute(
                "SELECT * FROM stories WHERE first_seen_at >= ? ORDER BY first_seen_at, rowid",
                (to_db_time(since),),
            ) as cur,
        ):
            rows = await cur.fetchall()
        found = []
        for row in rows:
            seen = from_db_time(row["first_seen_at"])
            assert seen is not None
            found.append((_row_to_story(row), seen))
        return found


async def _claim_keys(
    conn: aiosqlite.Connection,
    feed_id: int,
    keys: Sequence[StoryKeys],
    recorded: set[str],
    stamp: str,
    since: datetime | None,
) -> list[StoryCopy]:
    """Claim the new stories' identity keys; the stories whose keys another owns (seen
    since `since`) are copies of it. A key seen before `since` is taken over."""
    keys = [k for k in keys if k.story_id in recorded]
    rows = key_rows(keys, recorded)
    if not rows:
        return []
    # One statement from one JSON parameter: a first poll of a big feed has 20,000 keys.
    cur = await conn.execute(
        "INSERT INTO story_keys (key, feed_id, story_id, seen_at)"
        " SELECT value ->> 0, ?, value ->> 1, ? FROM json_each(?) WHERE true"
        " ON CONFLICT (key) DO UPDATE SET feed_id = excluded.feed_id,"
        " story_id = excluded.story_id, seen_at = excluded.seen_at"
        " WHERE story_keys.seen_at < ?",
        (feed_id, stamp, json.dumps(rows), to_db_time(since) if since else ""),
    )
    words = batch_words(feed_id, keys)
    if cur.rowcount == len(rows):
        # Every key is this batch's now: copies only among its own stories.
        return copies_from_owners(feed_id, keys, [(k, feed_id, s) for k, s in rows], words)
    # Oldest owner first; seen_at is fixed-width UTC text, so text order is time order.
    async with conn.execute(
        "SELECT key, feed_id, story_id FROM story_keys"
        " WHERE key IN (SELECT value ->> 0 FROM json_each(?)) ORDER BY seen_at, feed_id, story_id",
        (json.dumps(rows),),
    ) as cur:
        owners = [(r[0], r[1], r[2]) for r in await cur.fetchall()]
    # A shared near key is a candidate: read the owners' titles to compare them.
    if wanted := near_owners(keys, owners, words):
        async with conn.execute(
            "SELECT feed_id, story_id, title FROM stories WHERE (feed_id, story_id) IN"
            " (SELECT value ->> 0, value ->> 1 FROM json_each(?))",
            (json.dumps(sorted(wanted)),),
        ) as cur:
            words.update({(r[0], r[1]): title_words(r[2]) for r in await cur.fetchall()})
    return copies_from_owners(feed_id, keys, owners, words)


async def _fold_into_earlier(
    conn: aiosqlite.Connection, channel: Channel, copy: StoryCopy, stamp: str
) -> bool:
    """True when `channel` already has an alert for an earlier copy of the story.

    Not sent yet: it gets this copy's source in "also reported by". Already sent as its
    own message: the same, and its message is owed an edit (bot/store/followups.py).
    Folded into a digest: the copy is recorded (story_duplicates), nothing more goes out.
    """
    pairs = ",".join("(?, ?)" for _ in copy.earlier)
    params: list[object] = [channel.platform, channel.workspace, channel.channel]
    for earlier_feed, earlier_story in copy.earlier:
        params += [earlier_feed, earlier_story]
    async with conn.execute(
        "SELECT id, status, payload, kind, remote_id, edited_at FROM outbox WHERE platform = ?"
        " AND workspace = ?"
        f" AND channel = ? AND (feed_id, story_id) IN (VALUES {pairs}) ORDER BY id LIMIT 1",
        params,
    ) as cur:
        row = await cur.fetchone()
    if row is None:
        return False
    if row["status"] == "sent" and row["kind"] == "alert" and row["remote_id"] is not None:
        updated = with_also_reported_by(row["payload"], copy.source)
        if updated is not None:
            now = from_db_time(stamp)
            assert now is not None
            due = edit_due(now, row["edited_at"])
            await conn.execute(
                "UPDATE outbox SET payload = ?, edit_due_at = ? WHERE id = ?",
                (updated, due, row["id"]),
            )
        return True
    if row["status"] in _NOT_SENT_YET:
        payload = json.loads(row["payload"])
        extra = dict(payload.get("extra") or {})
        names = [n for n in (extra.get(ALSO_REPORTED_BY) or "").split(", ") if n]
        if copy.source != payload.get("source") and copy.source not in names:
            extra[ALSO_REPORTED_BY] = ", ".join([*names, copy.source])
            payload["extra"] = extra
            await conn.execute(
                "UPDATE outbox SET payload = ? WHERE id = ?",
                (json.dumps(payload, ensure_ascii=False), row["id"]),
            )
    return True


async def _prune(
    conn: aiosqlite.Connection, feed_id: int, keep: int, current_ids: Sequence[str]
) -> None:
    """Keep the feed's newest `keep` seen ids, and every id its current document holds:
    forgetting one of those would alert on it again at the next poll."""
    async with conn.execute("SELECT COUNT(*) FROM stories WHERE feed_id = ?", (feed_id,)) as cur:
        row = await cur.fetchone()
    if row is None or int(row[0]) <= keep:
        return
    await conn.execute(
        "DELETE FROM stories WHERE feed_id = ?"
        " AND story_id NOT IN (SELECT value FROM json_each(?))"
        " AND rowid IN (SELECT rowid FROM stories WHERE feed_id = ?"
        " ORDER BY first_seen_at DESC, rowid DESC LIMIT -1 OFFSET ?)",
        (feed_id, json.dumps(list(current_ids)), feed_id, keep),
    )
