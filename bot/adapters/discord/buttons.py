"""The unsubscribe button on alerts, working for every alert ever posted, across restarts.

The button's custom id carries the subscription id (`newsbot:unsub:<id>:<alert key>`; the
key lets a resend find the message, see history.py; buttons posted before it existed are
`newsbot:unsub:<id>`), and this DynamicItem, registered at start, recognises both forms by
pattern: no per-message view state has to survive a restart, and no view is kept in memory
per posted alert.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.adapters.discord.render import UNSUBSCRIBE_PATTERN, unsubscribe_custom_id
from bot.adapters.discord.runner import runner_of


class UnsubscribeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=UNSUBSCRIBE_PATTERN,
):
    def __init__(self, subscription_id: int, key: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Unsubscribe",
                style=discord.ButtonStyle.secondary,
                custom_id=unsubscribe_custom_id(subscription_id, key),
            )
        )
        self.subscription_id = subscription_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> UnsubscribeButton:
        return cls(int(match["id"]), match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # The same use-case as `/news unsubscribe <id>`; it only removes a subscription of
        # the channel the button was pressed in.
        runner = runner_of(interaction.client)
        await runner.run(interaction, f"unsubscribe {self.subscription_id}")
