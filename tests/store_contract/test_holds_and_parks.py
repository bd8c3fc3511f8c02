"""HoldStore and ParkStore: alerts held back then folded or released; refused channels."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.ports import HeldChannel, Store
from tests.store_contract.builders import DESK, NEWS, alert, at

FAR = datetime(2100, 1, 1, tzinfo=UTC)


async def _ids(store: Store) -> dict[str, int]:
    found = {a.story_id: a.id for a in await store.pending_alerts(1000)}
    return {k: v for k, v in found.items() if v is not None}


async def test_only_plain_alerts_never_tried_are_held(store: Store) -> None:
    await store.queue_alerts(
        [
            alert(NEWS, 1, "a1"),
            alert(NEWS, 1, "a2"),
            alert(NEWS, 0, "notice:1", kind="notice"),
            alert(NEWS, 1, "tried"),
            alert(DESK, 1, "d1"),
        ],
        at(0),
    )
    ids = await _ids(store)
    await store.mark_in_flight(ids["tried"], at(1))
    await store.mark_failed(ids["tried"], "timeout", at(2))
    assert await store.hold_alerts(NEWS, "quiet", at(3)) == 2
    assert await store.hold_alerts(NEWS, "quiet", at(4)) == 0  # held already
    assert [a.story_id for a in await store.held_alerts(NEWS)] == ["a1", "a2"]
    assert await store.held_alerts(DESK) == []
    assert await store.held_channels() == [HeldChannel(NEWS, 2, at(3))]
    due = await store.due_deliveries(FAR, ["console"], 10, 100)
    assert [d.alert.story_id for d in due] == ["notice:1", "tried", "d1"]
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.held) == (2, 2)


async def test_held_channels_oldest_alert_first(store: Store) -> None:
    await store.queue_alerts([alert(DESK, 1, "d1"), alert(NEWS, 1, "n1")], at(0))
    await store.hold_alerts(NEWS, "digest", at(5))
    await store.hold_alerts(DESK, "burst", at(9))
    assert await store.held_channels() == [HeldChannel(DESK, 1, at(9)), HeldChannel(NEWS, 1, at(5))]


async def test_release_makes_the_named_held_alerts_pending_again(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2")], at(0))
    await store.queue_alerts([alert(DESK, 1, "d1")], at(0))
    ids = await _ids(store)
    await store.hold_alerts(NEWS, "quiet", at(1))
    await store.hold_alerts(DESK, "quiet", at(1))
    # Another channel's id is not released through this one.
    assert await store.release_held(NEWS, [ids["n1"], ids["d1"]]) == 1
    assert await store.release_held(NEWS, [ids["n1"]]) == 0  # not held any more
    assert [a.story_id for a in await store.pending_alerts(10)] == ["n1"]
    assert [a.story_id for a in await store.held_alerts(NEWS)] == ["n2"]
    assert await store.held_channels() == [HeldChannel(NEWS, 1, at(1)), HeldChannel(DESK, 1, at(1))]


async def test_folding_queues_the_digest_and_retires_its_alerts(store: Store) -> None:
    await store.queue_alerts(
        [alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2"), alert(NEWS, 1, "n3")], at(0)
    )
    await store.queue_alerts([alert(DESK, 1, "d1")], at(0))
    ids = await _ids(store)
    await store.hold_alerts(NEWS, "digest", at(1))
    await store.hold_alerts(DESK, "digest", at(1))
    digest = alert(NEWS, 0, "digest:2026-01-01T13", kind="digest", extra={"count": "2"})
    folded = await store.fold_held(NEWS, [(digest, [ids["n1"], ids["n2"], ids["d1"]])], at(2))
    assert folded == 2  # d1 is DESK's, not NEWS's
    assert [a.story_id for a in await store.held_alerts(NEWS)] == ["n3"]
    [queued] = await store.pending_alerts(10)
    assert (queued.kind, queued.story_id, queued.extra) == (
        "digest",
        digest.story_id,
        {"count": "2"},
    )
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.held) == (1, 1)
    # Folding the same digest again (a retry of the step) folds nothing twice.
    assert await store.fold_held(NEWS, [(digest, [ids["n1"], ids["n2"]])], at(3)) == 0
    assert len(await store.pending_alerts(10)) == 1


async def test_a_parked_channel_keeps_its_alerts_unsent_until_unparked(store: Store) -> None:
    await store.queue_alerts([alert(NEWS, 1, "n1"), alert(NEWS, 1, "n2")], at(0))
    await store.queue_alerts([alert(DESK, 1, "d1")], at(0))
    await store.hold_alerts(NEWS, "quiet", at(1))
    await store.queue_alerts([alert(NEWS, 1, "n3")], at(2))
    assert await store.park_channel(NEWS, "Missing Access " + "x" * 900) == 3
    assert [d.alert.story_id for d in await store.due_deliveries(FAR, ["console"], 5, 100)] == [
        "d1"
    ]
    assert await store.held_channels() == []
    status = await store.delivery_status(NEWS)
    assert (status.pending, status.held, status.paused) == (0, 0, 3)
    assert status.last_error == "Missing Access " + "x" * 485
    assert status.next_attempt_at == at(0)
    assert await store.unpark_channel(NEWS, at(50)) == 3
    assert await store.unpark_channel(NEWS, at(51)) == 0
    due = await store.due_deliveries(at(50), ["console"], 5, 100)
    assert [d.alert.story_id for d in due] == ["n1", "n2", "d1", "n3"]
    assert await store.due_deliveries(at(49), ["console"], 5, 100) != due
