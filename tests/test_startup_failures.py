"""A chat platform that cannot be reached at start never takes the others down."""

from __future__ import annotations

import asyncio
import io
import socket
from pathlib import Path

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.config import load_settings
from bot.core.commands import CommandDeps
from bot.core.models import Alert
from bot.core.ports import SendResult
from bot.runtime import StartupError, _start_adapters, build_app
from tests.support.process import start_newsbot


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_unreachable_discord_alone_exits_1_with_one_line(tmp_path: Path) -> None:
    port = closed_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "DISCORD_TOKEN": "fake-token",
        "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
        "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{port}/",
    }
    proc = await start_newsbot(env, tmp_path)
    async with asyncio.timeout(60):
        _, stderr = await proc.communicate()
    assert proc.returncode == 1
    last = stderr.decode().strip().splitlines()[-1]
    assert last.startswith("newsbot: discord could not start:"), stderr.decode()
    assert "Traceback" not in stderr.decode()
    assert "fake-token" not in stderr.decode()


class BrokenAdapter:
    platform = "broken"

    def __init__(self) -> None:
        self.stopped = False

    @property
    def notifier(self) -> BrokenAdapter:
        return self

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        raise AssertionError("a platform that never started is sent nothing")

    async def start(self, deps: CommandDeps) -> None:
        raise ConnectionRefusedError("connection refused")

    async def connected(self) -> bool:
        return False

    async def run(self, stop: asyncio.Event) -> None:
        raise AssertionError("a platform that never started is not run")

    async def stop(self) -> None:
        self.stopped = True


class ConsoleOutput(io.StringIO):
    """What the console writes; `written` is set on each write (all on the event loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        count = super().write(text)
        self.written.set()
        return count

    async def wait_for(self, text: str) -> str:
        async with asyncio.timeout(10):
            while text not in self.getvalue():
                self.written.clear()
                await self.written.wait()
        return self.getvalue()


async def test_one_failing_platform_leaves_the_others_running(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    out = ConsoleOutput()
    console = ConsoleAdapter(io.StringIO("/news subscribe NATO\n"), out)
    broken = BrokenAdapter()
    app = await build_app(settings, [broken, console], feed_urls=[])
    try:
        await _start_adapters(app)
        # Running means answering: the console replies to a command sent before the start.
        await out.wait_for("Subscribed #1: NATO")
        assert app.adapters == [console]
        assert "broken" not in app.dispatcher.notifiers
        assert "console" in app.dispatcher.notifiers
        assert broken.stopped
    finally:
        await app.close()


async def test_no_platform_started_is_a_startup_error(tmp_path: Path) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    app = await build_app(settings, [BrokenAdapter()], feed_urls=[])
    try:
        with pytest.raises(StartupError, match="broken could not start: connection refused"):
            await _start_adapters(app)
    finally:
        await app.close()


async def test_a_database_server_that_does_not_answer_exits_1_with_one_line(
    tmp_path: Path,
) -> None:
    port = closed_port()
    env = {"DATABASE_URL": f"postgresql://newsbot:s3cret@127.0.0.1:{port}/newsbot"}
    proc = await start_newsbot(env, tmp_path)
    async with asyncio.timeout(60):
        _, stderr = await proc.communicate()
    log = stderr.decode()
    assert proc.returncode == 1, log
    last = log.strip().splitlines()[-1]
    assert last.startswith("newsbot: cannot open PostgreSQL at"), log
    assert "Traceback" not in log
    assert "s3cret" not in log
