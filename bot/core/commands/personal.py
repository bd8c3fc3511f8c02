"""A person's direct messages, refused once, resume at their next command (issue 17).

When the platform refuses a DM (the person left, closed their DMs, blocked the bot),
delivery pauses their personal subscriptions as it pauses a refused channel and keeps
their alerts. Whatever command that person runs next, anywhere, says they are reachable
again: their subscriptions resume and the kept alerts go out.
"""

from __future__ import annotations

import logging

from bot.core.alerts import set_channel_paused
from bot.core.commands.base import CommandDeps, Invocation

log = logging.getLogger(__name__)


async def resume_personal(inv: Invocation, deps: CommandDeps) -> str:
    """Resume `inv`'s person's paused personal subscriptions; a line saying so, or ""."""
    channel = inv.personal
    if channel is None:
        return ""
    subs = await deps.store.list_subscriptions(channel)
    if not any(s.paused_reason for s in subs):
        return ""
    resumed = await deps.store.resume_channel(channel)
    kept = await deps.store.unpark_channel(channel, deps.clock.now())
    set_channel_paused(deps.index.by_id, channel, None)
    log.info(
        "personal subscriptions resumed at the person's command (%d, %d alerts kept)",
        resumed,
        kept,
        extra={"channel": str(channel)},
    )
    return (
        f"Your direct messages were paused after the platform refused one; {resumed} personal "
        f"subscription{'s' if resumed != 1 else ''} resumed, {kept} kept alert"
        f"{'s' if kept != 1 else ''} on the way."
    )
