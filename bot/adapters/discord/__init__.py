"""The Discord adapter (discord.py): `/news` application commands and embed alerts."""

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.notifier import DiscordNotifier, message_nonce

__all__ = ["DiscordAdapter", "DiscordNotifier", "message_nonce"]
