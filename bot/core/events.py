"""Waiting on asyncio events: what the loops that wake on a signal or on stop share."""

from __future__ import annotations

import asyncio


async def either(one: asyncio.Event, other: asyncio.Event) -> None:
    """Return once `one` or `other` is set; the wait left over is cancelled, so nothing
    lingers (a task still waiting would outlive its loop)."""
    waits = {asyncio.ensure_future(one.wait()), asyncio.ensure_future(other.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()
