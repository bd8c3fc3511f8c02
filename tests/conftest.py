from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bot.config import Settings
from bot.core.matching import matcher as matcher_module
from bot.store import SqliteStore, open_sqlite
from tests.support.backends import BACKEND_IDS, MATCHER_BACKENDS
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import FakeSlack
from tests.support.feed_server import FeedServer


@pytest.hookimpl(hookwrapper=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> Generator[None, None, None]:
    """On a timeout, print where each asyncio task was waiting before pytest-timeout fails
    the test: its own traceback shows only the event loop's select()."""
    yield
    timed_out = signal.getsignal(signal.SIGALRM)
    if settings.method != "signal" or not callable(timed_out):
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        try:
            tasks = asyncio.all_tasks(asyncio.get_running_loop())
        except RuntimeError:  # no loop running: a synchronous test
            tasks = set()
        for task in tasks:
            print(f"--- asyncio task {task.get_name()} at the timeout:", file=sys.stderr)
            task.print_stack(file=sys.stderr)
        timed_out(signum, frame)

    signal.signal(signal.SIGALRM, handler)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting leaks in from the developer's shell or a .env in the repository."""
    names = {n.upper() for n in Settings.model_fields}
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A store on a real SQLite file of the test's own (tests/store_contract has its own
    `store`, once per backend)."""
    opened = await open_sqlite(str(tmp_path / "bot.db"))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """Slack's Web API and Socket Mode, faked on loopback (tests/support/fake_slack.py)."""
    server = FakeSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    from tests.support.discord_bot import CHANNEL, GUILD, OTHER_CHANNEL

    fake = FakeDiscord()
    fake.add_guild(GUILD, CHANNEL, OTHER_CHANNEL)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


# tests/test_matcher_native.py fails if a C compiler is here and the compiled core is not.
@pytest.fixture(params=MATCHER_BACKENDS, ids=BACKEND_IDS)
def each_matcher(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run a test once per matcher backend: Matcher() builds the one under test."""
    monkeypatch.setattr(matcher_module, "NATIVE_AVAILABLE", request.param)
    return bool(request.param)
