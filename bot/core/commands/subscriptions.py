"""subscribe, unsubscribe and list: the keyword subscriptions of one channel."""

from __future__ import annotations

from bot.core.commands.base import CommandDeps, Invocation, Reply, command
from bot.core.mentions import NEEDS_MANAGE, is_group
from bot.core.models import Subscription
from bot.core.personal import split_dm_flag
from bot.core.query import QueryError, parse_query, split_queries

NO_DMS = "Personal alerts by direct message are not available here."


@command("subscribe", "subscribe <query>[, <query> ...] [dm]")
async def subscribe(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Alert this channel about stories matching a query (`dm`: you, by direct message)."""
    args, personal = split_dm_flag(args)
    target, mention = inv.channel, inv.mention
    if personal or inv.channel == inv.personal:
        if inv.personal is None:
            return Reply(NO_DMS, ok=False)
        # A personal alert goes to one person: there is nobody to mention.
        target, mention = inv.personal, None
    elif is_group(mention) and not inv.can_manage:
        return Reply(NEEDS_MANAGE, ok=False)
    queries = split_queries(args)
    if not queries:
        return Reply("Usage: /news subscribe <query>, e.g. /news subscribe NATO", ok=False)
    parsed = []
    for text in queries:
        try:
            parsed.append(parse_query(text))
        except QueryError as exc:
            # Nothing is stored when any part is invalid, so a typo never half-applies.
            return Reply(f"Not subscribed: `{text}`: {exc}", ok=False)
    existing = {s.query.casefold() for s in await deps.store.list_subscriptions(target)}
    fresh = [q for q in parsed if q.text.casefold() not in existing]
    refusal = deps.limits.refusal(target, len(fresh), deps.index.by_id.values())
    if fresh and refusal is not None:
        return Reply(f"Not subscribed: {refusal}", ok=False)
    created = await deps.store.add_subscriptions(
        target, [q.text for q in fresh], created_by=inv.user, mention=mention
    )
    for sub, query in zip(created, fresh, strict=True):
        deps.index.add(sub, query)
    how = " (to you, by direct message)" if target == inv.personal else ""
    lines = [f"Subscribed #{s.id}: {s.query}{how}" for s in created]
    lines += [f"Already subscribed: {q.text}" for q in parsed if q not in fresh]
    # A personal subscription is nobody else's business: only its owner sees the reply.
    return Reply("\n".join(lines), ephemeral=target == inv.personal)


@command("unsubscribe", "unsubscribe <id>")
async def unsubscribe(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Stop one subscription of this channel (ids are shown by /news list)."""
    text = args.strip().lstrip("#")
    if not text.isdigit():
        return Reply(
            "Usage: /news unsubscribe <id>; /news list shows the ids of this channel", ok=False
        )
    removed = await deps.store.remove_subscription(inv.channel, int(text))
    if removed is None and inv.personal is not None and inv.personal != inv.channel:
        removed = await deps.store.remove_subscription(inv.personal, int(text))
        if removed is not None:
            deps.index.remove(removed.id)
            return Reply(f"Unsubscribed #{removed.id}: {removed.query} (your direct messages)")
    if removed is None:
        return Reply(f"No subscription #{text} in this channel; see /news list", ok=False)
    deps.index.remove(removed.id)
    return Reply(f"Unsubscribed #{removed.id}: {removed.query}", ephemeral=False)


@command("list", "list")
async def list_subscriptions(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Show this channel's subscriptions and their ids (and yours by direct message)."""
    if inv.channel == inv.personal:
        mine = await deps.store.list_subscriptions(inv.channel)
        if not mine:
            return Reply("You have no personal subscriptions yet. Try /news subscribe NATO")
        return Reply("\n".join(_listed("Your personal subscriptions", mine, inv)))
    subs = await deps.store.list_subscriptions(inv.channel)
    mine = await deps.store.list_subscriptions(inv.personal) if inv.personal else []
    lines = (
        _listed("Subscriptions in this channel", subs, inv)
        if subs
        else ["No subscriptions in this channel yet. Try /news subscribe NATO"]
    )
    if mine:
        lines += _listed("Yours, by direct message", mine, inv)
    return Reply("\n".join(lines))


def _listed(heading: str, subs: list[Subscription], inv: Invocation) -> list[str]:
    lines = [f"{heading} ({len(subs)}):"]
    lines += [
        f"#{s.id}  {s.query}  (by {inv.show_user(s.created_by)})"
        + (f"  paused: {s.paused_reason}" if s.paused_reason else "")
        for s in subs
    ]
    return lines
