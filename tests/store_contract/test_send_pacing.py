"""SendPacing: the send budget per channel and per platform, and 429 blocks.

The same answers from the in-process windows (SQLite) and the shared log (PostgreSQL);
that several processes share one budget is tests/test_fleet_pacing.py.
"""

from __future__ import annotations

import pytest

from bot.core.models import Channel
from bot.core.pacing import UNLIMITED, Rate
from bot.core.ports import Store
from tests.store_contract.builders import DESK, NEWS, SLACK, at

FOUR_IN_FIVE = Rate(4, 5.0)


async def test_a_channel_gets_its_count_then_waits_for_its_oldest_send(store: Store) -> None:
    taken = [await store.reserve_send(NEWS, FOUR_IN_FIVE, UNLIMITED, at(t)) for t in (0, 1, 2, 3)]
    assert taken == [0.0, 0.0, 0.0, 0.0]
    # The fifth within five seconds of the first waits until the first leaves the window.
    assert await store.reserve_send(NEWS, FOUR_IN_FIVE, UNLIMITED, at(4)) == pytest.approx(1.0)
    assert await store.reserve_send(NEWS, FOUR_IN_FIVE, UNLIMITED, at(4.5)) == pytest.approx(0.5)
    assert await store.reserve_send(NEWS, FOUR_IN_FIVE, UNLIMITED, at(5)) == 0.0
    # That one was taken: the window holds 1, 2, 3 and 5 now.
    assert await store.reserve_send(NEWS, FOUR_IN_FIVE, UNLIMITED, at(5.5)) == pytest.approx(0.5)


async def test_channels_have_budgets_of_their_own(store: Store) -> None:
    one = Rate(1, 10.0)
    assert await store.reserve_send(NEWS, one, UNLIMITED, at(0)) == 0.0
    assert await store.reserve_send(DESK, one, UNLIMITED, at(0)) == 0.0
    assert await store.reserve_send(NEWS, one, UNLIMITED, at(1)) == pytest.approx(9.0)
    # The same channel id in another workspace or on another platform is another channel.
    elsewhere = Channel(NEWS.platform, "other-team", NEWS.channel)
    assert await store.reserve_send(elsewhere, one, UNLIMITED, at(1)) == 0.0


async def test_the_platform_budget_spans_its_channels(store: Store) -> None:
    three = Rate(3, 1.0)
    channels = [Channel("console", "local", f"c{n}") for n in range(4)]
    waits = [
        await store.reserve_send(c, UNLIMITED, three, at(0.1 * n)) for n, c in enumerate(channels)
    ]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.7)  # the first send leaves the window at 1.0
    # Another platform's budget is its own.
    assert await store.reserve_send(SLACK, UNLIMITED, three, at(0.3)) == 0.0


async def test_a_refused_reservation_takes_nothing(store: Store) -> None:
    platform = Rate(2, 1.0)
    one = Rate(1, 60.0)
    assert await store.reserve_send(NEWS, one, platform, at(0)) == 0.0
    # NEWS is full: asking again and again uses none of the platform's budget...
    for t in (0.1, 0.2, 0.3):
        assert await store.reserve_send(NEWS, one, platform, at(t)) > 0
    # ...so DESK still has the platform's second send.
    assert await store.reserve_send(DESK, one, platform, at(0.4)) == 0.0
    assert await store.reserve_send(Channel("console", "local", "c3"), one, platform, at(0.5)) > 0


async def test_zero_means_no_limit(store: Store) -> None:
    for n in range(50):
        assert await store.reserve_send(NEWS, UNLIMITED, UNLIMITED, at(0)) == 0.0, n


async def test_a_channel_block_stops_that_channel_until_it_ends(store: Store) -> None:
    await store.block_sends(NEWS, at(30))
    assert await store.reserve_send(NEWS, UNLIMITED, UNLIMITED, at(10)) == pytest.approx(20.0)
    assert await store.reserve_send(DESK, UNLIMITED, UNLIMITED, at(10)) == 0.0
    # A shorter block later never shortens the longer one.
    await store.block_sends(NEWS, at(15))
    assert await store.reserve_send(NEWS, UNLIMITED, UNLIMITED, at(20)) == pytest.approx(10.0)
    assert await store.reserve_send(NEWS, UNLIMITED, UNLIMITED, at(30)) == 0.0


async def test_a_platform_block_stops_every_channel_of_that_platform(store: Store) -> None:
    await store.block_sends(NEWS, at(12), whole_platform=True)
    assert await store.reserve_send(NEWS, FOUR_IN_FIVE, UNLIMITED, at(2)) == pytest.approx(10.0)
    assert await store.reserve_send(DESK, FOUR_IN_FIVE, UNLIMITED, at(2)) == pytest.approx(10.0)
    assert await store.reserve_send(SLACK, FOUR_IN_FIVE, UNLIMITED, at(2)) == 0.0
    # Waiting out the block took none of the channels' budget.
    for t in (12, 12.1, 12.2, 12.3):
        assert await store.reserve_send(DESK, FOUR_IN_FIVE, UNLIMITED, at(t)) == 0.0
