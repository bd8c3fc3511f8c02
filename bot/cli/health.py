"""`newsbot health`: ask a running newsbot on its NEWSBOT_HTTP_PORT whether it is ready.

Exit 0 when /readyz answers 200 (or /livez, with --live), 1 otherwise: a 503, no answer
within the timeout (a stuck event loop answers nothing), or nothing listening. Made for a
container's HEALTHCHECK or a systemd watchdog script; the one line printed says why.
"""

from __future__ import annotations

import asyncio
import json
from typing import TextIO

import aiohttp

DEFAULT_TIMEOUT = 5.0


class HealthUsageError(Exception):
    """No port to ask: exit 2 with this message."""


async def run_health(
    port: int | None,
    out: TextIO,
    *,
    host: str = "127.0.0.1",
    live: bool = False,
    wait: float = DEFAULT_TIMEOUT,
) -> int:
    if port is None:
        raise HealthUsageError("no port to ask: set NEWSBOT_HTTP_PORT or pass --port")
    path = "/livez" if live else "/readyz"
    url = f"http://{host}:{port}{path}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=wait)) as session,
            session.get(url) as response,
        ):
            status = response.status
            text = await response.text()
    except TimeoutError:
        print(f"unhealthy: no answer from {url} within {wait:g} s", file=out)
        return 1
    except aiohttp.ClientError as exc:
        print(f"unhealthy: no answer from {url}: {exc}", file=out)
        return 1
    print(_summary(status, text), file=out)
    return 0 if status == 200 else 1


def _summary(status: int, text: str) -> str:
    """One line: the status the instance gave, and each problem it named."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"HTTP {status}: {text.strip()[:200]}"
    word = str(body.get("status", f"HTTP {status}"))
    problems = body.get("problems")
    if isinstance(problems, dict) and problems:
        return f"{word}: " + "; ".join(f"{name}: {why}" for name, why in problems.items())
    return word if status in (200, 503) else f"HTTP {status}: {word}"


def health_main(port: int | None, host: str, live: bool, timeout: float, out: TextIO) -> int:
    return asyncio.run(run_health(port, out, host=host, live=live, wait=timeout))
