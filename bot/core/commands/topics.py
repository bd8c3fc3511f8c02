"""topics: the names `topic:` knows, so people can find the one they mean."""

from __future__ import annotations

from bot.core.commands.base import CommandDeps, Invocation, Reply, command
from bot.core.topics.pack import current

SHOWN = 60  # a chat reply: past this, ask for a longer prefix


@command("topics", "topics [prefix]")
async def topics_command(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """List the topics `topic:` knows, or those whose name starts with a prefix."""
    prefix = args.strip().strip('"')
    pack = current()
    found = pack.listing(prefix)
    if not found:
        close = pack.suggestions(prefix) if prefix else []
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        return Reply(f"No topic starts with `{prefix}`.{hint}", ok=False)
    organisations = [t.display for t in found if t.kind == "organisation"]
    places = [t.display for t in found if t.kind != "organisation"]
    lines = []
    if not prefix:
        lines.append(
            f"{len(found)} topics: every country and territory, and these organisations: "
            f"{', '.join(organisations)}."
        )
        lines.append("/news topics <prefix> lists the countries, e.g. /news topics united")
    else:
        shown = (organisations + places)[:SHOWN]
        lines.append(f"{len(found)} topics start with `{prefix}`: {', '.join(shown)}")
        if len(found) > SHOWN:
            lines.append(f"…and {len(found) - SHOWN} more: give a longer prefix.")
    lines.append(
        'Subscribe with /news subscribe topic:Russia (topic:"United Kingdom" for several '
        "words): its names in 16 languages, capital, officials; alerts say which name fired."
    )
    return Reply("\n".join(lines))
