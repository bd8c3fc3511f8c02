"""Command use-cases shared by every adapter: `/news <command> [args]`.

Importing this package registers every command module.
"""

from bot.core.commands import delivery as _delivery
from bot.core.commands import feeds as _feeds
from bot.core.commands import help as _help
from bot.core.commands import preview as _preview
from bot.core.commands import subscriptions as _subscriptions
from bot.core.commands import summaries as _summaries
from bot.core.commands import topics as _topics
from bot.core.commands.base import REGISTRY, Command, CommandDeps, Invocation, Reply
from bot.core.commands.dispatch import handle_command, split_command

__all__ = [
    "REGISTRY",
    "Command",
    "CommandDeps",
    "Invocation",
    "Reply",
    "handle_command",
    "split_command",
]

_REGISTERED = (_summaries, _subscriptions, _preview, _delivery, _feeds, _topics, _help)
