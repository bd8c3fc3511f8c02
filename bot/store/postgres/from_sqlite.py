"""Moving an install over: every row of a SQLite store into an empty PostgreSQL one.

Copied in one PostgreSQL transaction, ids and all, so what the SQLite install had sent
stays sent (the outbox is unique per channel, feed and story), what it had queued, held
or left in flight stays so (in-flight rows keep maybe_sent: their resend asks the
platform first), and every seen story stays seen (nothing old alerts again).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path

from bot.store.database import from_db_time
from bot.store.errors import SourceMissing, TargetNotEmpty
from bot.store.open import Copied
from bot.store.postgres.database import PgDatabase
from bot.store.sqlite import open_sqlite

# (table, columns, ORDER BY) in an order the foreign keys accept. A column ending in
# ":t" is SQLite time text (becomes TIMESTAMPTZ), ":b" a 0/1 integer (becomes BOOLEAN).
_TABLES: list[tuple[str, str, str]] = [
    (
        "feeds",
        "id url title trusted:b added_by added_at:t etag last_modified primed:b"
        " next_check_at:t last_checked_at:t failures failing_since:t last_error paused:b"
        " paused_at:t content_hash ttl_seconds",
        "id",
    ),
    ("feed_channels", "feed_id platform workspace channel added_by added_at:t", "rowid"),
    # In rowid order, so PostgreSQL's seq keeps the order stories were recorded in.
    (
        "stories",
        "feed_id story_id title link summary source image published:t first_seen_at:t",
        "rowid",
    ),
    ("story_keys", "key feed_id story_id seen_at:t", "rowid"),
    (
        "story_duplicates",
        "feed_id story_id original_feed_id original_story_id source seen_at:t",
        "rowid",
    ),
    (
        "subscriptions",
        "id platform workspace channel query created_by created_at:t mention paused_reason",
        "id",
    ),
    (
        "channel_settings",
        "platform workspace channel digest digest_at digest_zone quiet_start quiet_end"
        " quiet_zone updated_at:t snooze_until summary_mode language threads",
        "rowid",
    ),
    (
        "outbox",
        "id platform workspace channel feed_id story_id payload status created_at:t attempts"
        " next_attempt_at:t last_error sent_at:t remote_id maybe_sent:b in_flight_at:t kind"
        " held_reason held_at:t digest_id edit_due_at:t edited_at:t",
        "id",
    ),
]
# Tables whose ids new rows keep drawing from: their identity restarts after the copies.
_IDENTITIES = ("feeds", "subscriptions", "outbox")


def _name(column: str) -> str:
    return column.split(":")[0]


def _convert(columns: Sequence[str], row: Sequence[object]) -> tuple[object, ...]:
    out: list[object] = []
    for column, value in zip(columns, row, strict=True):
        if column.endswith(":t"):
            out.append(from_db_time(value if value is None else str(value)))
        elif column.endswith(":b"):
            out.append(bool(value))
        else:
            out.append(value)
    return tuple(out)


def _read_all(path: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, read in one transaction: one consistent moment of the file."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        conn.execute("BEGIN")
        for table, spec, order in _TABLES:
            columns = spec.split()
            names = ", ".join(_name(c) for c in columns)
            found = conn.execute(f"SELECT {names} FROM {table} ORDER BY {order}").fetchall()
            rows[table] = [_convert(columns, r) for r in found]
        conn.execute("COMMIT")
    return rows


async def copy_from_sqlite(
    path: str,
    target_url: str,
    *,
    force: bool,
    on_step: Callable[[str, int], None] | None = None,
) -> Copied:
    """Copy the SQLite store at `path` into the PostgreSQL database at `target_url`.

    Refuses (TargetNotEmpty) when the target already has feeds, subscriptions, stories,
    settings or alerts, unless `force`: then what it had is replaced.
    """
    if not await asyncio.to_thread(Path(path).is_file):
        raise SourceMissing(f"no SQLite database at {path}")
    # Opening migrates the source to the schema the copy reads (a no-op when current).
    await (await open_sqlite(path)).close()
    step = on_step or (lambda what, steps: None)
    steps = 1 + len(_TABLES)  # reading the file, then each table
    step("reading the SQLite file", steps)
    rows = await asyncio.to_thread(_read_all, path)
    target = await PgDatabase.open(target_url)
    try:
        async with target.transaction() as conn:
            tables = [t for t, _, _ in _TABLES]
            held = [t for t in tables if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]
            if held and not force:
                raise TargetNotEmpty(
                    f"the PostgreSQL database already has rows in {', '.join(held)};"
                    " --force replaces them"
                )
            # One statement for all, so the foreign keys between them hold throughout.
            await conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            for table, spec, _ in _TABLES:
                step(f"copying {table}", steps)
                if rows[table]:
                    await conn.copy_records_to_table(
                        table, records=rows[table], columns=[_name(c) for c in spec.split()]
                    )
            for table in _IDENTITIES:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    finally:
        await target.close()
    return Copied({t: len(r) for t, r in rows.items()}, _outbox_states(rows["outbox"]))


def _outbox_states(outbox: list[tuple[object, ...]]) -> dict[str, int]:
    columns = [_name(c) for c in _TABLES[-1][1].split()]
    status, maybe_sent = columns.index("status"), columns.index("maybe_sent")
    states: dict[str, int] = {}
    for row in outbox:
        state = str(row[status])
        if state == "pending" and row[maybe_sent]:
            state = "in flight"
        states[state] = states.get(state, 0) + 1
    return states
