"""Asking a running newsbot's operator port: /metrics parsed, /readyz and /livez answered."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def get(port: int, path: str) -> tuple[int, str]:
    """(status, body) of GET `path`; (0, why) when nothing answers."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
            session.get(f"http://127.0.0.1:{port}{path}") as response,
        ):
            return response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, repr(exc)


async def readyz(port: int) -> tuple[int, dict[str, Any]]:
    status, text = await get(port, "/readyz")
    return status, (json.loads(text) if status in (200, 503) else {"error": text})


async def scrape(port: int) -> list[Sample]:
    """Every sample /metrics serves, parsed by prometheus_client's own text parser."""
    status, text = await get(port, "/metrics")
    assert status == 200, text
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float:
    """The one sample of `name` with exactly `labels`."""
    [found] = [s.value for s in samples if s.name == name and s.labels == labels]
    return found


async def wait_for(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30.0) -> Any:
    """Poll an async `check()` until it returns something truthy; its last answer is in
    the error when it never does. For state only a request shows (the bot's port)."""
    last: Any = None
    try:
        async with asyncio.timeout(timeout):
            for _ in itertools.count():
                last = await check()
                if last:
                    return last
                await asyncio.sleep(0.1)
    except TimeoutError:
        pass
    raise AssertionError(f"never {what}; last: {last!r}")


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (Linux /proc): what it serves, by state."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                ports.add(int(local.rsplit(":", 1)[1], 16))
    return ports
