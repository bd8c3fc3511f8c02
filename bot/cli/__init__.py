"""The `newsbot` command: `run`, `demo`, `match` (see `bot.cli.main`)."""

from bot.cli.main import main

__all__ = ["main"]
