"""Send pending alerts oldest first per channel, exactly once, paced, and record each.

The exactly-once protocol: before a send the alert is marked in flight (durably); after
the notifier returns it is marked sent. A crash in between leaves it pending and marked
maybe-sent, and the next send passes maybe_sent=True so the notifier dedupes (each looks
for the alert in the channel's recent messages; Discord also sends the same nonce). A crash
anywhere else leaves it plainly pending.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.config import PROCESS_ID
from bot.core.channel_settings import ChannelSettings
from bot.core.clock import Clock
from bot.core.models import Alert, Channel
from bot.core.ports import (
    ChannelClaim,
    ChannelSettingsStore,
    Delivery,
    FollowUpStore,
    HoldStore,
    Lease,
    LeaseLost,
    Notifier,
    OutboxStore,
    ParkStore,
    RateLimited,
    SendPacing,
    SendResult,
)
from bot.core.summary import DEFAULT_SUMMARY_LIMIT, DISCORD_TITLE_LIMIT, fit, summarise
from bot.delivery.enrich import Enricher
from bot.delivery.followups import FollowUps
from bot.delivery.holds import BurstPolicy, hold_reason, release_due
from bot.delivery.pacing import Pacer, Rate
from bot.delivery.retry import RetryPolicy, decide
from bot.observe import metrics
from bot.observe.heartbeat import Heartbeat

log = logging.getLogger(__name__)

# Below the platforms' own limits (Discord: about 5 per 5 s per channel, 50 requests per
# second overall; Slack: about 1 per second per channel).
DEFAULT_CHANNEL_RATES = {"discord": Rate(4, 5.0), "slack": Rate(1, 1.1)}
DEFAULT_PLATFORM_RATES = {"discord": Rate(40, 1.0), "slack": Rate(20, 1.0)}


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    summary_length: int = DEFAULT_SUMMARY_LIMIT
    burst: BurstPolicy = field(default_factory=BurstPolicy)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    channel_rates: dict[str, Rate] = field(default_factory=lambda: dict(DEFAULT_CHANNEL_RATES))
    platform_rates: dict[str, Rate] = field(default_factory=lambda: dict(DEFAULT_PLATFORM_RATES))
    send_timeout: float = 60.0  # a send that hangs this long counts as a transient failure
    per_channel_batch: int = 20
    concurrency: int = 8  # channels sent to at the same time
    batch: int = 500  # channels claimed in one pass
    # A claimed channel is another process's to take after this (NEWSBOT_LEASE_SECONDS).
    lease_seconds: float = 120.0


class Sent(enum.Enum):
    """What one send came to, for the channel's next alert."""

    SENT = "sent"  # posted; go on
    REJECTED = "rejected"  # this message refused for good, kept as such; go on
    WAIT = "wait"  # nothing more for this channel now (a retry, a rate limit, paused)


class DeliveryStore(
    OutboxStore, HoldStore, ParkStore, ChannelSettingsStore, FollowUpStore, Protocol
):
    """What delivery reads and changes: the outbox, held alerts, a refused channel's
    parked alerts, the channel's settings, and pausing its subscriptions."""

    async def pause_channel(self, channel: Channel, reason: str) -> int: ...


class Dispatcher:
    def __init__(
        self,
        *,
        store: DeliveryStore,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        policy: DeliveryPolicy | None = None,
        on_channel_paused: Callable[[Channel, str], None] = lambda channel, reason: None,
        pacing: SendPacing | None = None,
        enricher: Enricher | None = None,
        owner: str = PROCESS_ID,
    ) -> None:
        self.store = store
        # This process in the channel leases it takes (NEWSBOT_INSTANCE_ID): a channel's
        # alerts are sent by one process at a time, so their order holds across processes.
        self.owner = owner
        self.notifiers = dict(notifiers)
        self.clock = clock
        self.policy = policy or DeliveryPolicy()
        self.on_channel_paused = on_channel_paused
        self.enricher = enricher  # article leads, model summaries, translated titles
        # `pacing`: the budget shared with other processes (the store); None: this
        # process's own (one sender).
        self.pacer = Pacer(self.policy.channel_rates, self.policy.platform_rates, pacing)
        self._wake = asyncio.Event()
        self._next_due: datetime | None = None
        self._stopping: asyncio.Event | None = None  # run()'s stop: no new send once set
        self.heartbeat = Heartbeat("delivery loop")
        self.followups = FollowUps(
            store, self.notifiers, clock, self._prepared, lease_for=self.lease_for
        )

    def wake(self) -> None:
        """Called when alerts were queued, so they go out now rather than at the next tick."""
        self._wake.set()

    async def deliver_pending(self) -> int:
        """Release what was held and is due, then send what is due; returns messages sent."""
        self._next_due = None
        await self._release_held()
        # Each channel with due alerts is claimed with a lease (other processes skip it
        # until this pass gives it back, or until the lease expires if this one dies).
        claims = await self.store.claim_channels(
            self.owner,
            self.clock.now(),
            list(self.notifiers),
            per_channel=self.policy.per_channel_batch,
            limit=self.policy.batch,
            lease_for=self.lease_for,
        )
        if self.enricher is not None:
            for claim in claims:  # articles are read while channels wait their turn
                for delivery in claim.deliveries:
                    self.enricher.prefetch(delivery.alert)
        # Channels go out side by side (a slow platform response delays only its own
        # channel); within a channel, strictly one after another.
        slots = asyncio.Semaphore(self.policy.concurrency)

        async def one(claim: ChannelClaim) -> int:
            channel = claim.channel
            async with slots:
                try:
                    return await self._deliver_channel(channel, list(claim.deliveries), claim.lease)
                except Exception:  # one channel's trouble never stops the others
                    log.exception("delivery to a channel failed", extra={"channel": str(channel)})
                    self._note_due(self.clock.now() + timedelta(seconds=self.policy.retry.base))
                    return 0
                finally:
                    await self._release(claim)

        counts = await asyncio.gather(*(one(claim) for claim in claims))
        try:  # sent alerts whose story came from more outlets since: edit their messages
            await self.followups.edit_due()
        except Exception:
            log.exception("follow-up edits failed; trying again next pass")
        return sum(counts)

    @property
    def lease_for(self) -> timedelta:
        return timedelta(seconds=self.policy.lease_seconds)

    async def _release(self, claim: ChannelClaim) -> None:
        """The pass over the channel is done: another process may take it now."""
        try:
            await self.store.release_channel(claim.channel, claim.lease)
        except Exception:  # it expires on its own
            log.exception(
                "could not give a channel's lease back", extra={"channel": str(claim.channel)}
            )

    async def _release_held(self) -> None:
        policy = self.policy
        for held in await self.store.held_channels():
            if held.channel.platform not in self.notifiers:
                continue
            settings = await self.store.channel_settings(held.channel)
            now = self.clock.now()
            released = await release_due(
                self.store, held.channel, settings, policy.burst, held.oldest_held_at, now
            )
            if released:
                log.info("released %d held alerts", released, extra={"channel": str(held.channel)})

    async def _deliver_channel(
        self, channel: Channel, items: list[Delivery], lease: Lease | None = None
    ) -> int:
        """Send `channel`'s due alerts in order; stop at the first that cannot go now."""
        notifier = self.notifiers[channel.platform]
        settings: ChannelSettings | None = None
        sent = 0
        for delivery in items:
            alert = delivery.alert
            assert alert.id is not None
            now = self.clock.now()
            if alert.kind == "alert" and not delivery.maybe_sent:
                if settings is None:
                    settings = await self.store.channel_settings(channel)
                reason = await hold_reason(self.store, channel, settings, self.policy.burst, now)
                if reason is not None:
                    held = await self.store.hold_alerts(channel, reason, now)
                    metrics.alerts_held(channel.platform, held)
                    log.info(
                        "holding %d alerts (%s)", held, reason, extra={"channel": str(channel)}
                    )
                    # Notices queued behind them still go; they are picked up next pass.
                    self._note_due(now)
                    return sent
            if self._stopping is not None and self._stopping.is_set():
                # Stopping (SIGTERM): the send under way finishes, no new one starts.
                return sent
            outcome = await self._send(notifier, delivery, now, lease)
            self.heartbeat.beat()  # a long pass is still a live loop
            if outcome is Sent.WAIT:
                return sent
            sent += outcome is Sent.SENT
        return sent

    async def _send(
        self, notifier: Notifier, delivery: Delivery, now: datetime, lease: Lease | None = None
    ) -> Sent:
        """Send one alert; what it came to says whether the channel goes on.

        With `lease` (the channel's claim) the in-flight mark is made only while it holds:
        a process that stalled past it sends nothing (the new holder resends the alert).
        """
        alert = delivery.alert
        assert alert.id is not None
        extra = {"channel": str(alert.channel), "story_id": alert.story_id, "alert_id": alert.id}
        # Before the in-flight mark: a crash while enriching leaves the alert plainly
        # pending, and it is enriched again (from the caches) and sent once.
        # In a thread when it is a later development of a story sent before (threads on).
        shown = await self.followups.in_thread(await self._enriched(alert))
        # The send's slot, checked and taken in one step (atomic across processes, so
        # channels sending side by side cannot all see room and overshoot together), as
        # late as it can be and at the clock's time now: the budget then counts sends
        # when they go out, not when the pass began (the hold checks and enrichment
        # before it can take long under load, and a stale time bunches the sends).
        wait = await self.pacer.reserve(alert.channel, self.clock.now())
        if wait > 0:
            self._note_due(self.clock.now() + timedelta(seconds=wait))
            return Sent.WAIT
        if lease is None:
            await self.store.mark_in_flight(alert.id, now)
        else:
            try:
                pending = await self.store.mark_claimed_in_flight(
                    alert.id, now, lease, self.lease_for
                )
            except LeaseLost:
                log.warning("channel lease taken over by another process; not sending", extra=extra)
                return Sent.WAIT
            if not pending:  # held, parked or sent since the claim: not this pass's
                return Sent.WAIT
        try:
            async with asyncio.timeout(self.policy.send_timeout):
                result: SendResult = await notifier.send(
                    self._prepared(shown), maybe_sent=delivery.maybe_sent
                )
        except Exception as exc:
            # Only a message refused on its own lets the channel go on to its next alert.
            return await self._failed(delivery, exc, extra)
        done = self.clock.now()
        await self.store.mark_sent(alert.id, result.remote_id, done)
        first_seen = delivery.queued_at if alert.kind == "alert" else None
        metrics.alert_sent(alert.channel.platform, first_seen, done)
        log.info("alert sent", extra=extra)
        return Sent.SENT

    async def _failed(self, delivery: Delivery, exc: Exception, extra: dict[str, object]) -> Sent:
        alert = delivery.alert
        assert alert.id is not None
        now = self.clock.now()
        decision = decide(exc, delivery.attempts + 1, delivery.maybe_sent, now, self.policy.retry)
        if decision.outcome == "rejected":
            await self.store.mark_rejected(alert.id, decision.reason, now)
            metrics.alert_rejected(alert.channel.platform)
            log.error("alert refused by the platform, not resent: %s", decision.reason, extra=extra)
            return Sent.REJECTED
        await self.store.mark_failed(
            alert.id, decision.reason, decision.retry_at, maybe_sent=decision.maybe_sent
        )
        metrics.alert_failed(alert.channel.platform)  # its 429s are counted by the adapter
        if decision.outcome == "permanent":
            await self._pause(alert.channel, decision.reason, extra)
            return Sent.WAIT
        if decision.outcome == "rate_limited":
            whole = isinstance(exc, RateLimited) and exc.is_global
            await self.pacer.block(alert.channel, decision.retry_at, whole_platform=whole)
            log.warning("rate limited until %s", decision.retry_at.isoformat(), extra=extra)
        else:
            log.warning(
                "alert not sent, retrying at %s: %s",
                decision.retry_at.isoformat(),
                decision.reason,
                extra=extra,
            )
        self._note_due(decision.retry_at)
        return Sent.WAIT

    async def _pause(self, channel: Channel, reason: str, extra: dict[str, object]) -> None:
        """The platform refused the channel for good: stop matching and sending for it."""
        subs = await self.store.pause_channel(channel, reason)
        kept = await self.store.park_channel(channel, reason)
        self.on_channel_paused(channel, reason)
        log.error(
            "channel paused (%d subscriptions, %d alerts kept unsent): %s",
            subs,
            kept,
            reason,
            extra=extra,
        )

    async def _enriched(self, alert: Alert) -> Alert:
        """The alert with its article lead, model summary or translated title (a digest:
        its items' titles in the channel's language); as it is when enrichment is off or
        fails (it never costs the alert)."""
        if self.enricher is None or alert.kind not in ("alert", "digest"):
            return alert
        try:
            settings = await self.store.channel_settings(alert.channel)
            return await self.enricher.enrich(alert, settings)
        except Exception:
            log.exception("enrichment failed", extra={"story_id": alert.story_id})
            return alert

    def _prepared(self, alert: Alert) -> Alert:
        """Cut to the configured summary length and the smallest title limit."""
        if alert.kind == "digest":
            return replace(alert, title=fit(alert.title, DISCORD_TITLE_LIMIT))
        return replace(
            alert,
            title=fit(" ".join(alert.title.split()), DISCORD_TITLE_LIMIT),
            summary=summarise(alert.summary, self.policy.summary_length),
        )

    def _note_due(self, when: datetime) -> None:
        if self._next_due is None or when < self._next_due:
            self._next_due = when

    def _sleep_for(self, tick: float) -> float:
        if self._next_due is None:
            return tick
        ahead = (self._next_due - self.clock.now()).total_seconds()
        return min(tick, max(0.01, ahead))

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        self._stopping = stop
        while not stop.is_set():
            # Cleared before the pass, so a wake() during it starts the next one at once.
            self._wake.clear()
            try:
                await self.deliver_pending()
                self.heartbeat.beat()  # a whole pass done: /readyz sees the loop alive
            except Exception:
                log.exception("delivery pass failed; retrying")
            waiter = asyncio.ensure_future(self._wake.wait())
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {waiter, stopper},
                timeout=self._sleep_for(tick),
                return_when=asyncio.FIRST_COMPLETED,
            )
            waiter.cancel()
            stopper.cancel()
