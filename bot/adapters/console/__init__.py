"""The console adapter: alerts to stdout, `/news ...` commands from stdin lines."""

from bot.adapters.console.adapter import ConsoleAdapter, ConsoleNotifier
from bot.adapters.console.render import render_alert

__all__ = ["ConsoleAdapter", "ConsoleNotifier", "render_alert"]
