"""Storage: implementations of the contracts in bot.core.ports, chosen by DATABASE_URL.

`open_store(url)` is the one way in: it reads the URL, opens and migrates the backend it
names and returns it as the `Store` protocol, so nothing outside this package names a
backend's type or imports its driver.
"""

from bot.store.errors import (
    SourceMissing,
    StoreUnavailable,
    TargetNotEmpty,
    UnsupportedDatabaseUrl,
)
from bot.store.open import (
    Copied,
    Migrated,
    SchemaStatus,
    check_database_url,
    copy_database,
    migrate_database,
    open_store,
    schema_status,
)
from bot.store.sqlite import SqliteStore, open_sqlite

__all__ = [
    "Copied",
    "Migrated",
    "SchemaStatus",
    "SourceMissing",
    "SqliteStore",
    "StoreUnavailable",
    "TargetNotEmpty",
    "UnsupportedDatabaseUrl",
    "check_database_url",
    "copy_database",
    "migrate_database",
    "open_sqlite",
    "open_store",
    "schema_status",
]
