"""ChannelSettingsStore: each channel's digest and quiet hours."""

from __future__ import annotations

from datetime import time

from bot.core.channel_settings import ChannelSettings, DigestSchedule, QuietHours
from bot.core.ports import Store
from tests.store_contract.builders import DESK, NEWS, at


async def test_a_channel_has_no_settings_until_one_is_set(store: Store) -> None:
    assert await store.channel_settings(NEWS) == ChannelSettings()


async def test_digest_and_quiet_hours_are_kept_apart_and_per_channel(store: Store) -> None:
    daily = DigestSchedule("daily", time(8, 30), "Europe/Berlin")
    quiet = QuietHours(time(22, 0), time(7, 15), "America/New_York")
    await store.set_digest(NEWS, daily, at(0))
    await store.set_quiet(NEWS, quiet, at(1))
    assert await store.channel_settings(NEWS) == ChannelSettings(daily, quiet)
    assert await store.channel_settings(DESK) == ChannelSettings()
    await store.set_digest(NEWS, DigestSchedule("hourly"), at(2))
    assert await store.channel_settings(NEWS) == ChannelSettings(DigestSchedule("hourly"), quiet)
    await store.set_digest(NEWS, None, at(3))
    assert await store.channel_settings(NEWS) == ChannelSettings(None, quiet)
    await store.set_quiet(NEWS, None, at(4))
    assert await store.channel_settings(NEWS) == ChannelSettings()
    await store.set_quiet(DESK, quiet, at(5))
    assert await store.channel_settings(DESK) == ChannelSettings(None, quiet)


async def test_a_snooze_is_kept_to_the_microsecond_and_leaves_other_settings(
    store: Store,
) -> None:
    quiet = QuietHours(time(22, 0), time(7, 15), "America/New_York")
    await store.set_quiet(NEWS, quiet, at(0))
    until = at(3600).replace(microsecond=123456)
    await store.set_snooze(NEWS, until, at(1))
    settings = await store.channel_settings(NEWS)
    assert settings == ChannelSettings(None, quiet, until)
    assert settings.snoozed(at(3599))
    assert not settings.snoozed(at(3601))
    assert (await store.channel_settings(DESK)).snooze_until is None
    await store.set_snooze(NEWS, None, at(2))
    assert await store.channel_settings(NEWS) == ChannelSettings(None, quiet)


async def test_threads_are_off_until_turned_on(store: Store) -> None:
    assert not (await store.channel_settings(NEWS)).threads
    await store.set_threads(NEWS, True, at(0))
    assert (await store.channel_settings(NEWS)).threads
    assert not (await store.channel_settings(DESK)).threads
    await store.set_threads(NEWS, False, at(1))
    assert await store.channel_settings(NEWS) == ChannelSettings()
