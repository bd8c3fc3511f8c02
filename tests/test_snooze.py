"""`/news snooze`: hold a channel's alerts for a while, then one digest; shown by status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.channel_settings import ScheduleError, parse_snooze
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.digest import digest_items
from bot.store import SqliteStore
from tests.support.delivery import (
    FakeClock,
    RecordingNotifier,
    commands_on_clock,
    console_dispatcher,
)
from tests.test_delivery import NEWS, publish

NOON = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
ADMIN = Invocation(NEWS, "ana", can_manage=True)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, FakeClock, CommandDeps]]:
    async with commands_on_clock(tmp_path / "bot.db", NOON) as world:
        yield world


def test_snooze_lengths() -> None:
    assert parse_snooze("30m") == timedelta(minutes=30)
    assert parse_snooze("2h") == timedelta(hours=2)
    assert parse_snooze(" 1D ") == timedelta(days=1)
    assert parse_snooze("off") is None
    for bad in ("", "2", "h", "2w", "-1h", "0m", "31d", "2h30"):
        with pytest.raises(ScheduleError):
            parse_snooze(bad)


async def test_snooze_holds_alerts_and_posts_one_digest_when_it_ends(
    setup: tuple[SqliteStore, FakeClock, CommandDeps],
) -> None:
    store, clock, deps = setup
    notifier = RecordingNotifier(clock)
    send = console_dispatcher(store, clock, notifier)
    reply = await handle_command("/news snooze 2h", ADMIN, deps)
    assert reply.ok
    assert not reply.ephemeral
    assert reply.text.startswith("Snoozed until 2026-12-05 14:00 UTC")

    await publish(store, clock, ["first", "second"])
    await send.deliver_pending()
    assert notifier.posted == []
    status = (await handle_command("/news status", ADMIN, deps)).text
    assert "held for a digest: 2 (until the snooze ends, 2026-12-05 14:00 UTC)" in status
    assert "snoozed until 2026-12-05 14:00 UTC" in status

    clock.current = NOON + timedelta(hours=1, minutes=59)
    await send.deliver_pending()
    assert notifier.posted == []
    clock.current = NOON + timedelta(hours=2)
    await send.deliver_pending()
    [digest] = [p.alert for p in notifier.posted]
    assert digest.kind == "digest"
    assert digest.source == "held while snoozed"
    assert [i.title for i in digest_items(digest)] == ["first", "second"]
    status = (await handle_command("/news status", ADMIN, deps)).text
    assert "snoozed" not in status

    # After the snooze, alerts go out as they come again.
    await publish(store, clock, ["third"])
    await send.deliver_pending()
    assert notifier.titles()[-1] == "third"


async def test_snooze_off_sends_what_was_held_now(
    setup: tuple[SqliteStore, FakeClock, CommandDeps],
) -> None:
    store, clock, deps = setup
    notifier = RecordingNotifier(clock)
    send = console_dispatcher(store, clock, notifier)
    assert (await handle_command("/news snooze off", ADMIN, deps)).text == "Not snoozed."
    await handle_command("/news snooze 1d", ADMIN, deps)
    await publish(store, clock, ["one", "two", "three"])
    await send.deliver_pending()
    assert notifier.posted == []
    clock.advance(minutes=5)
    reply = await handle_command("/news snooze off", ADMIN, deps)
    assert reply.text.startswith("Snooze off")
    await send.deliver_pending()
    [digest] = [p.alert for p in notifier.posted]
    assert [i.title for i in digest_items(digest)] == ["one", "two", "three"]


async def test_snooze_needs_manage_and_a_readable_length(
    setup: tuple[SqliteStore, FakeClock, CommandDeps],
) -> None:
    store, clock, deps = setup
    refused = await handle_command("/news snooze 2h", Invocation(NEWS, "bo"), deps)
    assert not refused.ok
    assert "Manage Channels" in refused.text
    bad = await handle_command("/news snooze 2 weeks", ADMIN, deps)
    assert not bad.ok
    assert "Usage: /news snooze" in bad.text
    assert not (await store.channel_settings(NEWS)).snoozed(clock.now())
