"""`newsbot migrate`: bring the database named by DATABASE_URL up to date, then exit.

`newsbot run` does the same at start (under an advisory lock on PostgreSQL, so several
processes starting together apply each migration once); this command lets an operator
do it ahead of a deploy, on its own. With `--from sqlite:///newsbot.db` it moves a SQLite
install into the PostgreSQL database DATABASE_URL names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from bot.cli.progress import Progress, progress
from bot.config import ConfigError
from bot.store import (
    SourceMissing,
    StoreUnavailable,
    TargetNotEmpty,
    UnsupportedDatabaseUrl,
    copy_database,
    migrate_database,
)

# How the copy's counts are printed: the store's table names in an operator's words.
_TABLE_WORDS = {
    "feeds": "feeds",
    "feed_channels": "feeds added by channels",
    "subscriptions": "subscriptions",
    "channel_settings": "channel settings",
    "stories": "seen stories",
    "story_duplicates": "stories recorded as copies",
    "outbox": "outbox alerts",
}


class MigrateError(Exception):
    """The database could not be reached or the copy was refused; the message says why."""


class MigrateUsageError(Exception):
    """What was asked cannot be done as asked (a missing source file, say)."""


async def run_migrate(database_url: str, out: TextIO) -> int:
    try:
        result = await migrate_database(database_url)
    except UnsupportedDatabaseUrl as exc:
        raise ConfigError(f"invalid setting DATABASE_URL: {exc}") from None
    except StoreUnavailable as exc:
        raise MigrateError(str(exc)) from None
    version = f"{max(result.versions):04d}" if result.versions else "none"
    if result.applied_now:
        names = ", ".join(f"{v:04d}" for v in result.applied_now)
        print(f"{result.backend}: applied {names}; schema version {version}", file=out)
    else:
        print(f"{result.backend}: up to date; schema version {version}", file=out)
    return 0


async def run_copy(source_url: str, database_url: str, out: TextIO, *, force: bool) -> int:
    try:
        with progress("copying into PostgreSQL", unit="step") as bar:
            copied = await copy_database(
                source_url, database_url, force=force, on_step=_shown_on(bar)
            )
    except UnsupportedDatabaseUrl as exc:
        if source_url.startswith("sqlite:///") and len(source_url) > len("sqlite:///"):
            raise ConfigError(f"invalid setting DATABASE_URL: {exc}") from None
        raise MigrateUsageError(str(exc)) from None
    except SourceMissing as exc:
        raise MigrateUsageError(str(exc)) from None
    except (StoreUnavailable, TargetNotEmpty) as exc:
        raise MigrateError(str(exc)) from None
    print(f"copied {source_url} into PostgreSQL in one transaction:", file=out)
    for table, words in _TABLE_WORDS.items():
        line = f"  {words}: {copied.counts.get(table, 0)}"
        if table == "outbox" and copied.outbox:
            line += " (" + ", ".join(f"{k} {v}" for k, v in sorted(copied.outbox.items())) + ")"
        print(line, file=out)
    return 0


def _shown_on(bar: Progress) -> Callable[[str, int], None]:
    """The copy's steps on the bar: each one counted as it starts, named beside it."""

    def on_step(what: str, steps: int) -> None:
        bar.set_total(steps)
        bar.advance()
        bar.note(what)

    return on_step
