"""An adapter's own background work (a gateway, a socket, stdin), watched until stop."""

from __future__ import annotations

import asyncio
import contextlib


async def run_until_stopped(
    stop: asyncio.Event, work: asyncio.Task[None] | None, *, must_outlive: str | None = None
) -> None:
    """Return when `stop` is set. If `work` fails first, raise its error, so that the
    runtime's supervisor ends the process rather than keep one that looks alive and can
    no longer hear its platform.

    `must_outlive`: the work is a connection that only stop may end (say what it is);
    ending on its own is then a failure too. Otherwise (stdin reaching its end, say) it
    may finish early and the adapter goes on waiting for stop.
    """
    if work is None:
        await stop.wait()
        return
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
    if stop.is_set() or not work.done() or work.cancelled():
        return
    work.result()  # raises what ended it
    if must_outlive is not None:
        raise ConnectionError(f"{must_outlive} ended on its own")
    await stop.wait()
