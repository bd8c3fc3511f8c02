"""Storage: the SQLite implementation of the contracts in bot.core.ports."""

from bot.store.sqlite import SqliteStore, open_store

__all__ = ["SqliteStore", "open_store"]
