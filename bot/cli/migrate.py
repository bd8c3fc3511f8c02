"""`newsbot migrate`: bring the database named by DATABASE_URL up to date, then exit.

`newsbot run` does the same at start (under an advisory lock on PostgreSQL, so several
processes starting together apply each migration once); this command lets an operator
do it ahead of a deploy, on its own.
"""

from __future__ import annotations

from typing import TextIO

from bot.config import ConfigError
from bot.store import StoreUnavailable, UnsupportedDatabaseUrl, migrate_database


class MigrateError(Exception):
    """The database could not be reached; the message says where and why."""


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
