"""DATABASE_URL -> the store it names."""

from __future__ import annotations

from bot.core.ports import Store
from bot.store.sqlite import open_sqlite

_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql://", "postgres://")
EXPECTED = (
    "expected sqlite:///PATH (e.g. sqlite:///newsbot.db)"
    " or postgresql://USER:PASSWORD@HOST:PORT/DATABASE"
)


class UnsupportedDatabaseUrl(ValueError):
    """DATABASE_URL names no backend this build has; the message says what is expected."""


def _is_postgres(url: str) -> bool:
    return any(url.startswith(p) and len(url) > len(p) for p in _POSTGRES)


def check_database_url(url: str) -> str:
    """The URL as it is, if a backend here can open it; else UnsupportedDatabaseUrl."""
    if (url.startswith(_SQLITE) and len(url) > len(_SQLITE)) or _is_postgres(url):
        return url
    raise UnsupportedDatabaseUrl(EXPECTED)


async def open_store(url: str) -> Store:
    """Open (creating and migrating if needed) the database at `url`.

    PostgreSQL migrations run under an advisory lock, so any number of processes may
    open the same database at once; each migration is applied by exactly one of them.
    """
    check_database_url(url)
    if _is_postgres(url):
        # Imported here: a SQLite install never loads the PostgreSQL driver.
        from bot.store.postgres import open_postgres

        return await open_postgres(url)
    return await open_sqlite(url.removeprefix(_SQLITE))
