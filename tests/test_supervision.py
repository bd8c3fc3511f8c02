"""Loops that cannot die silently: a failed or finished loop ends the process, non-zero."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.feeds.watcher import Watcher
from bot.runtime import run_bot, supervise


async def test_a_failing_loop_is_logged_once_and_stops_the_others_exit_1(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    finished: list[str] = []

    async def healthy(stop: asyncio.Event) -> None:
        await stop.wait()
        finished.append("healthy")  # it saw the stop and returned on its own

    async def broken(stop: asyncio.Event) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("disk on fire")

    with caplog.at_level(logging.CRITICAL, logger="bot.runtime"):
        code = await supervise({"healthy": healthy, "broken": broken}, stop)

    assert code == 1
    assert finished == ["healthy"]
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "broken" in record.getMessage()
    assert record.exc_info is not None
    assert "disk on fire" in str(record.exc_info[1])


async def test_a_loop_that_returns_while_not_stopping_counts_as_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def gives_up(stop: asyncio.Event) -> None:
        return None

    async def waits(stop: asyncio.Event) -> None:
        await stop.wait()

    with caplog.at_level(logging.CRITICAL, logger="bot.runtime"):
        code = await supervise({"gives_up": gives_up, "waits": waits}, asyncio.Event())

    assert code == 1
    [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert "gives_up" in record.getMessage()
    assert "ended on its own" in str(record.exc_info[1] if record.exc_info else "")


async def test_a_requested_stop_exits_0() -> None:
    stop = asyncio.Event()
    started = asyncio.Event()
    finished: list[str] = []

    async def loop(stop: asyncio.Event) -> None:
        started.set()
        await stop.wait()
        finished.append("loop")

    async def stopper(stop: asyncio.Event) -> None:
        await started.wait()
        stop.set()  # as SIGTERM would

    assert await supervise({"loop": loop, "stopper": stopper}, stop) == 0
    assert finished == ["loop"]


async def test_run_bot_whose_watcher_dies_returns_1_and_closes_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def dies(self: Watcher, stop: asyncio.Event, tick: float = 1.0) -> None:
        raise OSError("feed cache unreadable")

    monkeypatch.setattr(Watcher, "run", dies)
    db = tmp_path / "bot.db"
    settings = load_settings(database_url=f"sqlite:///{db}")
    with caplog.at_level(logging.CRITICAL, logger="bot.runtime"):
        code = await run_bot(settings, io.StringIO(""), io.StringIO())
    assert code == 1
    assert any("watcher" in r.getMessage() for r in caplog.records)
    # The store was closed: SQLite's write-ahead log is folded back into the file.
    assert not (tmp_path / "bot.db-wal").exists()
