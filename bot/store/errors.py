"""What opening a store can go wrong with, in words an operator can act on."""

from __future__ import annotations


class UnsupportedDatabaseUrl(ValueError):
    """DATABASE_URL names no backend this build has; the message says what is expected."""


class StoreUnavailable(RuntimeError):
    """The database server did not answer or refused us (address, password, database)."""


class SourceMissing(Exception):
    """`newsbot migrate --from` names no SQLite database that exists."""


class TargetNotEmpty(Exception):
    """The PostgreSQL database already holds a store; copying would mix two installs."""
