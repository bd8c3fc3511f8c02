"""DATABASE_URL -> the store it names."""

from __future__ import annotations

from bot.core.ports import Store
from bot.store.sqlite import open_sqlite

_SQLITE = "sqlite:///"
EXPECTED = "expected sqlite:///PATH (e.g. sqlite:///newsbot.db)"


class UnsupportedDatabaseUrl(ValueError):
    """DATABASE_URL names no backend this build has; the message says what is expected."""


def check_database_url(url: str) -> str:
    """The URL as it is, if a backend here can open it; else UnsupportedDatabaseUrl."""
    if url.startswith(_SQLITE) and len(url) > len(_SQLITE):
        return url
    raise UnsupportedDatabaseUrl(EXPECTED)


async def open_store(url: str) -> Store:
    """Open (creating and migrating if needed) the database at `url`."""
    check_database_url(url)
    return await open_sqlite(url.removeprefix(_SQLITE))
