"""The change feed on SQLite: nothing to watch.

A SQLite file serves one process, whose own commands change its in-memory copies
directly; no other process can change the subscriptions behind its back.
"""

from __future__ import annotations

from asyncio import Event
from collections.abc import Callable


class SqliteChanges:
    async def watch_changes(self, on_change: Callable[[str], None], stop: Event) -> None:
        return None
