"""Per-host concurrency, shared by everything that fetches: feed polls and article pages.

One host gets at most `per_host` requests at a time from this process, whether they are
its feeds being polled or the articles its stories link to (NEWSBOT_PER_HOST_CONCURRENCY).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


def host_of(url: str) -> str:
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


class HostSlots:
    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._slots: dict[str, asyncio.Semaphore] = {}

    def slot(self, url: str) -> asyncio.Semaphore:
        host = host_of(url)
        slot = self._slots.get(host)
        if slot is None:
            slot = self._slots[host] = asyncio.Semaphore(self.per_host)
        return slot
