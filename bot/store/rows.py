"""Rows into domain records, the same on every backend (only the SQL differs)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from bot.core.models import Channel, Subscription

_T = TypeVar("_T")


class Row(Protocol):
    """A row read by column name: sqlite3.Row and asyncpg.Record both are."""

    def __getitem__(self, key: str, /) -> Any: ...


class Shared:
    """One object for each value that repeats across the rows of one read.

    A large install loads 100,000 subscriptions at start and keeps them all: most share
    their channel, creator and creation time with others, and one copy of each instead of
    one per row saves a few hundred bytes a subscription (tens of MB in all).
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[], _T]) -> _T:
        value: _T | None = self._values.get(key)
        if value is None:
            value = self._values[key] = make()
        return value

    def text(self, value: str | None) -> str | None:
        return None if value is None else self.get(("text", value), lambda: value)


def subscription_from_row(
    row: Row, created_at: Callable[[Any], datetime], shared: Shared | None = None
) -> Subscription:
    """A `subscriptions` row; `created_at` reads the backend's time column."""
    shared = shared or Shared()
    place = (row["platform"], row["workspace"], row["channel"])
    stamp = row["created_at"]
    return Subscription(
        id=row["id"],
        channel=shared.get(place, lambda: Channel(*place)),
        query=row["query"],
        created_by=shared.text(row["created_by"]) or "",
        created_at=shared.get(("at", stamp), lambda: created_at(stamp)),
        mention=shared.text(row["mention"]),
        paused_reason=shared.text(row["paused_reason"]),
    )
