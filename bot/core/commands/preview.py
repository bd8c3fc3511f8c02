"""preview: what a query would have caught lately, so it can be tuned before subscribing."""

from __future__ import annotations

from datetime import timedelta

from bot.core.commands.base import CommandDeps, Invocation, Reply, command
from bot.core.matching.matcher import Matcher
from bot.core.query import QueryError, parse_query

PREVIEW_WINDOW = timedelta(hours=24)
PREVIEW_SHOWN = 10  # a chat reply, not a report: the newest ones and a count of the rest


@command("preview", "preview <query>")
async def preview(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Show the stories of the last 24 hours a query would have caught, without subscribing."""
    text = args.strip()
    if not text:
        return Reply("Usage: /news preview <query>, e.g. /news preview NATO -Turkey", ok=False)
    try:
        query = parse_query(text)
    except QueryError as exc:
        return Reply(f"Cannot preview `{text}`: {exc}", ok=False)
    matcher = Matcher()
    matcher.add(0, query)
    stories = await deps.store.recent_stories(deps.clock.now() - PREVIEW_WINDOW)
    caught = [
        (s, m[0])
        for s in stories
        if (m := matcher.match(s.title, s.summary)) and query.sources.accepts(s.source, s.link)
    ]
    if not caught:
        return Reply(
            f"`{query.text}` would have caught none of the {len(stories)} stories "
            "of the last 24 hours."
        )
    lines = [
        f"`{query.text}` would have caught {len(caught)} of the {len(stories)} stories "
        "of the last 24 hours (not subscribed):"
    ]
    for story, match in caught[:PREVIEW_SHOWN]:
        lines.append(f"• {story.title} ({story.source}), matched {', '.join(match.matched)}")
        lines.append(f"  {story.link}")
    if len(caught) > PREVIEW_SHOWN:
        lines.append(f"…and {len(caught) - PREVIEW_SHOWN} more.")
    return Reply("\n".join(lines))
