"""The PostgreSQL backend (asyncpg): the same contracts as the SQLite store, for several
processes on one database. Reached through bot.store.open_store only."""

from bot.store.postgres.database import PgDatabase
from bot.store.postgres.store import PostgresStore, open_postgres

__all__ = ["PgDatabase", "PostgresStore", "open_postgres"]
