"""/livez, /readyz and `newsbot health` against a real `newsbot run`, and readiness's
checks one by one."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.core.ports import OutboxDepth
from bot.observe.health import Readiness
from bot.observe.heartbeat import Heartbeat
from tests.support.discord_bot import discord_settings_env
from tests.support.fake_discord import FakeDiscord
from tests.support.feed_server import FeedServer, rss
from tests.support.ops import free_port, get, readyz, wait_for
from tests.support.process import start_newsbot


async def health(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, str, str]:
    """`newsbot health ARGS` to its end: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "health",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _status(port: int, want: int) -> Callable[[], Awaitable[tuple[int, dict[str, Any]] | None]]:
    """A check for wait_for: /readyz's (status, body) once it answers `want`."""

    async def check() -> tuple[int, dict[str, Any]] | None:
        got = await readyz(port)
        return got if got[0] == want else None

    return check


async def test_readyz_follows_discord_away_and_back_and_health_says_so(
    tmp_path: Path, fake_discord: FakeDiscord, feed_server: FeedServer
) -> None:
    port = free_port()
    url = feed_server.serve("/world.rss", rss())
    env = discord_settings_env(fake_discord, tmp_path, [url]) | {"NEWSBOT_HTTP_PORT": str(port)}
    proc = await start_newsbot(env, tmp_path)
    try:
        _, body = await wait_for(_status(port, 200), "ready")
        assert body["checks"] == {
            "database": "ok",
            "discord": "ok",
            "poll loop": "ok",
            "delivery loop": "ok",
        }
        assert await health("--port", str(port)) == (0, "ready\n", "")
        assert await health("--port", str(port), "--live") == (0, "alive\n", "")

        await fake_discord.stop()  # Discord goes away: the gateway closes, REST is gone
        _, body = await wait_for(_status(port, 503), "not ready without Discord")
        assert body["status"] == "not ready"
        assert body["problems"] == {"discord": "not connected"}
        assert await health("--port", str(port)) == (1, "not ready: discord: not connected\n", "")
        # Alive all the same: the process works, it just cannot reach Discord.
        assert (await get(port, "/livez"))[0] == 200

        await fake_discord.start()  # back on the same port: discord.py reconnects
        await wait_for(_status(port, 200), "ready again once Discord is back", timeout=60)
        assert await health("--port", str(port)) == (0, "ready\n", "")
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()


async def test_health_exit_codes_without_a_ready_instance(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    code, out, err = await health("--port", str(port), "--timeout", "2")
    assert (code, err) == (1, "")
    assert out.startswith(f"unhealthy: no answer from http://127.0.0.1:{port}/readyz")
    # No --port and no NEWSBOT_HTTP_PORT: a usage error, not a verdict.
    code, out, err = await health(env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert "set NEWSBOT_HTTP_PORT or pass --port" in err
    # The setting is the default port.
    code, out, _ = await health(env={"NEWSBOT_HTTP_PORT": str(port)}, cwd=tmp_path)
    assert code == 1
    assert f":{port}/readyz" in out


class Depths:
    """The one store read readiness makes, answering or failing on demand."""

    def __init__(self) -> None:
        self.error: Exception | None = None

    async def outbox_depth(self) -> OutboxDepth:
        if self.error is not None:
            raise self.error
        return OutboxDepth({}, {})


async def test_each_check_names_what_is_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Depths()
    connected = {"slack": True}

    async def slack() -> bool:
        return connected["slack"]

    poll = Heartbeat("poll loop", interval=5.0)
    ready = Readiness(store=store, platforms={"slack": slack}, heartbeats=[poll])  # type: ignore[arg-type]

    verdict = await ready.check()
    assert not verdict.ready
    assert verdict.checks["poll loop"] == "the poll loop has not completed a pass yet"

    poll.beat()
    assert (await ready.check()).ready

    store.error = OSError("database is locked")
    connected["slack"] = False
    assert poll.last is not None
    monkeypatch.setattr("time.monotonic", lambda: poll.last + 11.0)  # two intervals passed
    verdict = await ready.check()
    assert not verdict.ready
    assert verdict.as_json() == {
        "status": "not ready",
        "checks": verdict.checks,
        "problems": {
            "database": "unreachable: OSError: database is locked",
            "slack": "not connected",
            "poll loop": "the poll loop has not completed a pass for 11 s",
        },
    }
