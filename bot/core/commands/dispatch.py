"""Route one command line (`/news subscribe NATO`) to its use-case."""

from __future__ import annotations

from dataclasses import replace

from bot.core.commands.base import REGISTRY, CommandDeps, Invocation, Reply
from bot.core.commands.personal import resume_personal

PREFIX = "/news"


def split_command(text: str) -> tuple[str, str]:
    """`/news subscribe NATO, Russia` -> ("subscribe", "NATO, Russia"). The prefix is optional."""
    text = text.strip()
    if text.casefold().startswith(PREFIX):
        text = text[len(PREFIX) :].strip()
    name, _, args = text.partition(" ")
    return name.casefold(), args.strip()


async def handle_command(text: str, inv: Invocation, deps: CommandDeps) -> Reply:
    name, args = split_command(text)
    if not name:
        name = "help"
    cmd = REGISTRY.get(name)
    if cmd is None:
        return Reply(f"Unknown command `{name}`. Try /news help", ok=False)
    if cmd.needs_manage and not inv.can_manage:
        return Reply(
            f"/news {name} needs the Manage Channels permission (Discord) or a workspace "
            "admin (Slack); ask someone who has it.",
            ok=False,
        )
    resumed = await resume_personal(inv, deps)
    reply = await cmd.handler(args, inv, deps)
    return replace(reply, text=f"{resumed}\n{reply.text}") if resumed else reply
