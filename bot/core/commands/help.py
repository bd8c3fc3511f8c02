"""help: generated from the registry, so it cannot drift from what exists."""

from __future__ import annotations

from bot.core.commands.base import REGISTRY, CommandDeps, Invocation, Reply, command

QUERY_HELP = "Queries: words must all appear, whole words, any case: `NATO`, `security guarantees`."


@command("help", "help")
async def help_command(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Show the commands and the query syntax."""
    lines = ["newsbot commands:"]
    lines += [f"/news {c.usage}  -  {c.summary}" for c in REGISTRY.values()]
    lines.append(QUERY_HELP)
    return Reply("\n".join(lines))
