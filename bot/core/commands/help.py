"""help: generated from the registry, so it cannot drift from what exists."""

from __future__ import annotations

from bot.core.commands.base import REGISTRY, CommandDeps, Invocation, Reply, command

QUERY_HELP = """Queries (whole words, any case or accent, any script):
  NATO                  the word, and NATO's; Russia also finds Russian(s), Russia's
  =NATO                 exactly that word, no other forms
  sanction*             any word starting with it (3 letters or more)
  "security guarantees" the words next to each other, in order
  Russia Ukraine        both (AND);  Russia OR Ukraine: either
  NATO -Turkey          NATO without Turkey (also NOT Turkey); ( ) group
  title:NATO            in the title only (also title:"a phrase", title:(a OR b))
  topic:Russia          stories about Russia in any of 16 languages: Россия, Russland,
                        the Kremlin, Moscow, Lavrov...; alerts say which name fired;
                        a passing mention is not enough (/news topics lists them)
  NATO source:reuters   only from feeds whose title or host has it
                        (source:"Moscow Times"; -source:tabloid.example leaves one out)
  Russia, NATO          commas make separate subscriptions
At most 200 characters and 20 terms; a query needs a word to look for."""


@command("help", "help")
async def help_command(args: str, inv: Invocation, deps: CommandDeps) -> Reply:
    """Show the commands and the query syntax."""
    lines = ["newsbot commands:"]
    lines += [f"/news {c.usage}  -  {c.summary}" for c in REGISTRY.values()]
    lines.append(QUERY_HELP)
    return Reply("\n".join(lines))
