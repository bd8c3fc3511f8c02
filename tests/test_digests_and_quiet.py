"""`/news digest` and `/news quiet` with a controllable clock, across daylight saving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.alerts import build_alerts
from bot.core.channel_settings import DigestSchedule, next_digest, parse_time
from bot.core.commands import CommandDeps, Invocation, handle_command
from bot.core.digest import digest_items
from bot.core.matching.index import SubscriptionIndex
from bot.core.models import Match, Story, Subscription
from bot.store import SqliteStore, open_sqlite
from tests.support.delivery import (
    FakeClock,
    RecordingNotifier,
    commands_on_clock,
    console_dispatcher,
)
from tests.test_delivery import NEWS, publish

# Europe/Berlin moves from CET (UTC+1) to CEST (UTC+2) at 01:00 UTC on 2026-03-29.
SATURDAY_NOON = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
ADMIN = Invocation(NEWS, "ana", can_manage=True)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, FakeClock, CommandDeps]]:
    async with commands_on_clock(tmp_path / "bot.db", SATURDAY_NOON) as world:
        yield world


async def test_quiet_hours_hold_alerts_until_they_end_in_local_time_across_dst(
    setup: tuple[SqliteStore, FakeClock, CommandDeps],
) -> None:
    store, clock, deps = setup
    reply = await handle_command("/news quiet 22:00-07:00 Europe/Berlin", ADMIN, deps)
    assert reply.ok, reply.text
    notifier = RecordingNotifier(clock)
    dispatcher = console_dispatcher(store, clock, notifier)

    await publish(store, clock, ["noon story"])
    await dispatcher.deliver_pending()
    assert notifier.titles() == ["noon story"]  # 12:00 in Berlin: not quiet

    clock.current = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 23:30 CET
    await publish(store, clock, ["late one", "late two"])
    await dispatcher.deliver_pending()
    assert len(notifier.posted) == 1
    status = await handle_command("/news status", ADMIN, deps)
    assert "held for a digest: 2 (until quiet hours end, 2026-03-29 07:00 Europe/Berlin)" in (
        status.text
    )
    assert "quiet now until 2026-03-29 07:00 Europe/Berlin" in status.text

    # 07:00 in Berlin is 05:00 UTC after the clocks went forward, not 06:00.
    clock.current = datetime(2026, 3, 29, 4, 59, tzinfo=UTC)
    await dispatcher.deliver_pending()
    assert len(notifier.posted) == 1
    clock.current = datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    await dispatcher.deliver_pending()
    digest = notifier.posted[-1].alert
    assert digest.kind == "digest"
    assert [i.title for i in digest_items(digest)] == ["late one", "late two"]


async def test_held_alerts_survive_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "bot.db")
    clock = FakeClock(datetime(2026, 3, 28, 22, 30, tzinfo=UTC))
    store = await open_sqlite(path)
    deps = CommandDeps(store=store, index=SubscriptionIndex(), clock=clock)
    await handle_command("/news quiet 22:00-07:00 Europe/Berlin", ADMIN, deps)
    await publish(store, clock, ["night one", "night two"])
    await console_dispatcher(store, clock, RecordingNotifier(clock)).deliver_pending()
    await store.close()

    store = await open_sqlite(path)
    clock.current = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    notifier = RecordingNotifier(clock)
    try:
        await console_dispatcher(store, clock, notifier).deliver_pending()
    finally:
        await store.close()
    [digest] = [p.alert for p in notifier.posted]
    assert [i.title for i in digest_items(digest)] == ["night one", "night two"]


async def test_daily_digest_goes_out_at_local_time_and_holds_until_then(
    setup: tuple[SqliteStore, FakeClock, CommandDeps],
) -> None:
    store, clock, deps = setup
    reply = await handle_command("/news digest daily 08:00 Europe/Berlin", ADMIN, deps)
    # Saturday 08:00 CET has passed; Sunday 08:00 is CEST, 06:00 UTC.
    assert "next at 2026-03-29 08:00 Europe/Berlin" in reply.text
    notifier = RecordingNotifier(clock)
    dispatcher = console_dispatcher(store, clock, notifier)
    await publish(store, clock, [f"story {n}" for n in range(12)])
    await dispatcher.deliver_pending()
    assert notifier.posted == []
    status = await handle_command("/news status", ADMIN, deps)
    assert "held for a digest: 12 (next digest 2026-03-29 08:00 Europe/Berlin)" in status.text
    clock.current = datetime(2026, 3, 29, 5, 59, tzinfo=UTC)
    await dispatcher.deliver_pending()
    assert notifier.posted == []
    clock.current = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    await dispatcher.deliver_pending()
    # Twelve stories: two digest messages (at most ten each), all stories, in order.
    assert [p.alert.kind for p in notifier.posted] == ["digest", "digest"]
    listed = [i.title for p in notifier.posted for i in digest_items(p.alert)]
    assert listed == [f"story {n}" for n in range(12)]
    assert "daily at 08:00 Europe/Berlin digest" in notifier.posted[0].alert.source

    off = await handle_command("/news digest off", ADMIN, deps)
    assert "Digest off" in off.text
    await publish(store, clock, ["after"])
    await dispatcher.deliver_pending()
    assert notifier.titles()[-1] == "after"


def test_hourly_and_daily_digest_times() -> None:
    hourly = DigestSchedule("hourly")
    assert next_digest(hourly, datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    india = DigestSchedule("hourly", zone="Asia/Kolkata")
    assert next_digest(india, datetime(2026, 3, 29, 0, 10, tzinfo=UTC)).minute == 30
    # New York leaves daylight saving on 2026-11-01: 09:00 local is 13:00 then 14:00 UTC.
    daily = DigestSchedule("daily", parse_time("09:00"), "America/New_York")
    first = next_digest(daily, datetime(2026, 10, 31, 14, 0, tzinfo=UTC))
    assert first == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/news quiet 22:00-07:00 Mars/Olympus", "not an IANA time zone"),
        ("/news quiet 25:00-07:00 UTC", "not a time"),
        ("/news quiet 22:00 UTC", "Usage: /news quiet"),
        ("/news digest weekly", "Usage: /news digest"),
        ("/news digest daily 8am", "not a time"),
    ],
)
async def test_bad_settings_get_one_clear_line(
    setup: tuple[SqliteStore, FakeClock, CommandDeps], line: str, expected: str
) -> None:
    _, _, deps = setup
    reply = await handle_command(line, ADMIN, deps)
    assert not reply.ok
    assert expected in reply.text
    assert "\n" not in reply.text


async def test_digest_and_quiet_need_manage_permission(
    setup: tuple[SqliteStore, FakeClock, CommandDeps],
) -> None:
    _, _, deps = setup
    reply = await handle_command("/news quiet off", Invocation(NEWS, "bo"), deps)
    assert not reply.ok
    assert "Manage Channels" in reply.text


def test_one_alert_per_channel_lists_every_topic_and_mentions_who_asked() -> None:
    now = SATURDAY_NOON
    subs = {
        1: Subscription(1, NEWS, "NATO", "ana", now, mention="U1"),
        2: Subscription(2, NEWS, "Russia", "bo", now),
        3: Subscription(3, NEWS, "summit", "cy", now, mention="U3"),
    }
    story = Story(1, "g", "NATO and Russia at the summit", "https://x.example/", "", now, "W")
    matches = [Match(1, "NATO", ("NATO",)), Match(2, "Russia", ("Russia",)),
               Match(3, "summit", ("summit",))]  # fmt: skip
    [alert] = build_alerts(story, matches, subs)
    assert alert.topics == ("NATO", "Russia", "summit")
    assert alert.mentions == ("U1", "U3")
