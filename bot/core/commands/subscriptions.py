"""subscribe, unsubscribe and list: the keyword subscriptions of one channel."""

from __future__ import annotations

from bot.core.commands.base import CommandDeps, Invocation, Reply, command
from bot.core.query import QueryError, parse_query, split_queries


@command("subscribe", "subscribe <query>[, <query> ...]")
async def subscribe(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Alert this channel about stories matching a query; commas make several subscriptions."""
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
    existing = {s.query.casefold() for s in await deps.store.list_subscriptions(inv.channel)}
    fresh = [q for q in parsed if q.text.casefold() not in existing]
    refusal = deps.limits.refusal(inv.channel, len(fresh), deps.index.by_id.values())
    if fresh and refusal is not None:
        return Reply(f"Not subscribed: {refusal}", ok=False)
    created = await deps.store.add_subscriptions(
        inv.channel, [q.text for q in fresh], created_by=inv.user, mention=inv.mention
    )
    for sub, query in zip(created, fresh, strict=True):
        deps.index.add(sub, query)
    lines = [f"Subscribed #{s.id}: {s.query}" for s in created]
    lines += [f"Already subscribed: {q.text}" for q in parsed if q not in fresh]
    return Reply("\n".join(lines), ephemeral=False)


@command("unsubscribe", "unsubscribe <id>")
async def unsubscribe(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Stop one subscription of this channel (ids are shown by /news list)."""
    text = args.strip().lstrip("#")
    if not text.isdigit():
        return Reply(
            "Usage: /news unsubscribe <id>; /news list shows the ids of this channel", ok=False
        )
    removed = await deps.store.remove_subscription(inv.channel, int(text))
    if removed is None:
        return Reply(f"No subscription #{text} in this channel; see /news list", ok=False)
    deps.index.remove(removed.id)
    return Reply(f"Unsubscribed #{removed.id}: {removed.query}", ephemeral=False)


@command("list", "list")
async def list_subscriptions(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Show this channel's subscriptions and their ids."""
    subs = await deps.store.list_subscriptions(inv.channel)
    if not subs:
        return Reply("No subscriptions in this channel yet. Try /news subscribe NATO")
    lines = [f"Subscriptions in this channel ({len(subs)}):"]
    lines += [
        f"#{s.id}  {s.query}  (by {inv.show_user(s.created_by)})"
        + (f"  paused: {s.paused_reason}" if s.paused_reason else "")
        for s in subs
    ]
    return Reply("\n".join(lines))
