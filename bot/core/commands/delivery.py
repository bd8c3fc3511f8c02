"""digest, quiet, status and resume: how and when a channel gets its alerts."""

from __future__ import annotations

from datetime import datetime

from bot.core.alerts import set_channel_paused
from bot.core.channel_settings import (
    ScheduleError,
    next_digest,
    parse_digest,
    parse_quiet,
    parse_snooze,
    quiet_until,
    zone,
)
from bot.core.commands.base import CommandDeps, Invocation, Reply, command


def _when(moment: datetime, zone_name: str = "UTC") -> str:
    return moment.astimezone(zone(zone_name)).strftime("%Y-%m-%d %H:%M ") + zone_name


@command("digest", "digest hourly | daily HH:MM [time zone] | off", needs_manage=True)
async def digest(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Collect this channel's alerts into one message every hour or day, or stop (off)."""
    try:
        schedule = parse_digest(args)
    except ScheduleError as exc:
        return Reply(str(exc), ok=False)
    now = deps.clock.now()
    await deps.store.set_digest(inv.channel, schedule, now)
    if schedule is None:
        return Reply("Digest off: alerts are posted as they come.", ephemeral=False)
    first = _when(next_digest(schedule, now), schedule.zone)
    return Reply(
        f"Digest {schedule.describe()}: alerts are held and posted together; next at {first}.",
        ephemeral=False,
    )


@command("quiet", "quiet HH:MM-HH:MM <IANA time zone> | off", needs_manage=True)
async def quiet(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Hold alerts during these hours and post them as one digest when they end, or off."""
    try:
        hours = parse_quiet(args)
    except ScheduleError as exc:
        return Reply(str(exc), ok=False)
    await deps.store.set_quiet(inv.channel, hours, deps.clock.now())
    if hours is None:
        return Reply("Quiet hours off.", ephemeral=False)
    return Reply(
        f"Quiet hours {hours.describe()}: alerts are held then and posted as a digest after.",
        ephemeral=False,
    )


@command("snooze", "snooze 30m | 2h | 1d | off", needs_manage=True)
async def snooze(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Hold alerts for a while and post them as one digest when it ends (off ends it now)."""
    try:
        length = parse_snooze(args)
    except ScheduleError as exc:
        return Reply(str(exc), ok=False)
    now = deps.clock.now()
    if length is None:
        settings = await deps.store.channel_settings(inv.channel)
        if not settings.snoozed(now):
            return Reply("Not snoozed.")
        # Ended now rather than cleared: what was held goes out as a "held while snoozed"
        # digest at once (bot/delivery/holds.py tells snoozed holds by this time).
        await deps.store.set_snooze(inv.channel, now, now)
        return Reply("Snooze off: what was held goes out now as one digest.", ephemeral=False)
    until = now + length
    await deps.store.set_snooze(inv.channel, until, now)
    return Reply(
        f"Snoozed until {_when(until)}: alerts are held and posted as one digest then.",
        ephemeral=False,
    )


@command("threads", "threads on | off", needs_manage=True)
async def threads(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Post a story's later developments in a thread under its first alert (on), or not."""
    word = args.strip().casefold()
    if word not in ("on", "off"):
        return Reply("Usage: /news threads on | off", ok=False)
    await deps.store.set_threads(inv.channel, word == "on", deps.clock.now())
    if word == "off":
        return Reply("Threads off: every alert is a message of its own.", ephemeral=False)
    return Reply(
        "Threads on: a story's later developments go in a thread under its first alert.",
        ephemeral=False,
    )


@command("status", "status")
async def status(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Show this channel's pending alerts, last delivery, digest and quiet hours."""
    now = deps.clock.now()
    state = await deps.store.delivery_status(inv.channel)
    settings = await deps.store.channel_settings(inv.channel)
    subs = await deps.store.list_subscriptions(inv.channel)
    lines = ["Delivery in this channel:"]
    pending = f"pending: {state.pending}"
    if state.pending and state.next_attempt_at and state.next_attempt_at > now:
        pending += f" (next attempt {_when(state.next_attempt_at)}"
        pending += f"; last error: {state.last_error})" if state.last_error else ")"
    lines.append(pending)
    if state.held:
        lines.append(f"held for a digest: {state.held}{await _release_text(inv, deps, now)}")
    if state.rejected:
        lines.append(f"refused by the platform, not resent: {state.rejected} (see the log)")
    paused = next((s.paused_reason for s in subs if s.paused_reason), None)
    if paused or state.paused:
        lines.append(
            f"paused: {paused or state.last_error} ({state.paused} alerts kept);"
            " /news resume once it is fixed"
        )
    last = _when(state.last_sent_at) if state.last_sent_at else "never"
    lines.append(f"last delivery: {last}")
    if settings.digest is None:
        lines.append("digest: off")
    else:
        upcoming = _when(next_digest(settings.digest, now), settings.digest.zone)
        lines.append(f"digest: {settings.digest.describe()} (next {upcoming})")
    if settings.snoozed(now):
        assert settings.snooze_until is not None
        lines.append(f"snoozed until {_when(settings.snooze_until)} (/news snooze off ends it)")
    if settings.threads:
        lines.append("threads: on (later developments under a story's first alert)")
    if settings.quiet is None:
        lines.append("quiet hours: off")
    else:
        until = quiet_until(settings.quiet, now)
        now_text = f", quiet now until {_when(until, settings.quiet.zone)}" if until else ""
        lines.append(f"quiet hours: {settings.quiet.describe()}{now_text}")
    lines.append(f"summaries: {settings.summary_mode}; language: {settings.language or 'off'}")
    return Reply("\n".join(lines))


@command("resume", "resume", needs_manage=True)
async def resume(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Resume a channel paused after the platform refused it, and send what was kept."""
    subs = await deps.store.resume_channel(inv.channel)
    kept = await deps.store.unpark_channel(inv.channel, deps.clock.now())
    set_channel_paused(deps.index.by_id, inv.channel, None)
    if not subs and not kept:
        return Reply("This channel is not paused.")
    return Reply(
        f"Resumed {_count(subs, 'subscription')}; {_count(kept, 'alert')} kept while paused"
        " will be sent now.",
        ephemeral=False,
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


async def _release_text(inv: Invocation, deps: CommandDeps, now: datetime) -> str:
    """When the held alerts go out, as far as settings tell (a burst: when the window ends)."""
    settings = await deps.store.channel_settings(inv.channel)
    if settings.snoozed(now):
        assert settings.snooze_until is not None
        return f" (until the snooze ends, {_when(settings.snooze_until)})"
    if settings.quiet is not None and (until := quiet_until(settings.quiet, now)) is not None:
        return f" (until quiet hours end, {_when(until, settings.quiet.zone)})"
    held = [h for h in await deps.store.held_channels() if h.channel == inv.channel]
    if settings.digest is not None and held:
        due = next_digest(settings.digest, held[0].oldest_held_at)
        return f" (next digest {_when(due, settings.digest.zone)})"
    return " (a burst: they go out as one digest when the burst window ends)"
