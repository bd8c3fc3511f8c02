"""When a channel's alerts wait, and how what waited goes out: bursts, digests, quiet hours.

Quiet hours and a snooze hold everything until they end; digest mode holds everything
until the next digest time; a burst (more than N messages in the window) holds the rest until the
window has room again. What was held goes out as digests of at most DIGEST_MAX_ITEMS
stories; a single held alert goes out as itself (unless the channel asked for digests).
Held alerts are rows in the outbox, so they survive restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.channel_settings import ChannelSettings, next_digest, quiet_until
from bot.core.digest import DIGEST_MAX_ITEMS, build_digest
from bot.core.models import Alert, Channel
from bot.core.ports import HoldStore

HoldReason = Literal["quiet", "digest", "burst", "snooze"]


@dataclass(frozen=True, slots=True)
class BurstPolicy:
    count: int = 5  # messages allowed in one window before the rest fold into a digest
    window: float = 600.0  # seconds; 0 turns burst folding off


async def hold_reason(
    store: HoldStore, channel: Channel, settings: ChannelSettings, burst: BurstPolicy, now: datetime
) -> HoldReason | None:
    """Why an alert for `channel` must wait now; None if it may go."""
    if settings.snoozed(now):
        return "snooze"
    if settings.quiet is not None and quiet_until(settings.quiet, now) is not None:
        return "quiet"
    if settings.digest is not None:
        return "digest"
    if burst.window > 0:
        since = now - timedelta(seconds=burst.window)
        if await store.count_sent(channel, since) >= burst.count:
            return "burst"
    return None


async def release_due(
    store: HoldStore,
    channel: Channel,
    settings: ChannelSettings,
    burst: BurstPolicy,
    oldest_held_at: datetime,
    now: datetime,
) -> int:
    """Fold or release `channel`'s held alerts if their time has come; alerts released."""
    reason = await hold_reason(store, channel, settings, burst, now)
    if reason in ("quiet", "burst", "snooze"):
        return 0
    if reason == "digest":
        assert settings.digest is not None
        if next_digest(settings.digest, oldest_held_at) > now:
            return 0
        why = f"{settings.digest.describe()} digest"
    elif settings.snooze_until is not None and settings.snooze_until > oldest_held_at:
        why = "held while snoozed"
    elif settings.quiet is not None:
        why = "held during quiet hours"
    else:
        why = f"more than {burst.count} alerts in {_minutes(burst.window)}"
    # Alerts queued since the hold began join the digest rather than overtake it.
    await store.hold_alerts(channel, reason or "burst", now)
    held = await store.held_alerts(channel)
    if not held:
        return 0
    if len(held) == 1 and reason != "digest":
        assert held[0].id is not None
        return await store.release_held(channel, [held[0].id])
    digests: list[tuple[Alert, list[int]]] = []
    for start in range(0, len(held), DIGEST_MAX_ITEMS):
        chunk = held[start : start + DIGEST_MAX_ITEMS]
        ids = [a.id for a in chunk if a.id is not None]
        digests.append((build_digest(channel, chunk, why), ids))
    return await store.fold_held(channel, digests, now)


def _minutes(seconds: float) -> str:
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"
