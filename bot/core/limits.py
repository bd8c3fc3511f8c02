"""How many subscriptions one channel and one workspace (Slack team, Discord guild) may hold.

The matcher's cost does not grow with subscriptions, but a single channel or server could
still fill the database and flood itself with alerts; these keep each tenant's share
bounded. The runtime fills them from NEWSBOT_MAX_SUBSCRIPTIONS_PER_CHANNEL / _PER_WORKSPACE.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.models import Channel, Subscription
from bot.core.personal import dm_user


@dataclass(frozen=True, slots=True)
class SubscriptionLimits:
    per_channel: int = 100
    per_workspace: int = 1000

    def refusal(
        self, channel: Channel, adding: int, everyone: Iterable[Subscription]
    ) -> str | None:
        """Why adding `adding` subscriptions to `channel` is refused, or None if it fits."""
        in_channel = in_workspace = 0
        # A person's DMs are no server's share (on Discord they belong to none).
        personal = dm_user(channel) is not None
        for sub in everyone:
            where = sub.channel
            if where.platform == channel.platform and where.workspace == channel.workspace:
                in_workspace += 1
                if where.channel == channel.channel:
                    in_channel += 1
        if in_channel + adding > self.per_channel:
            return (
                f"this channel has {in_channel} subscriptions and may have at most "
                f"{self.per_channel}; remove some with /news unsubscribe <id>"
            )
        if not personal and in_workspace + adding > self.per_workspace:
            return (
                f"this workspace has {in_workspace} subscriptions and may have at most "
                f"{self.per_workspace}; remove some with /news unsubscribe <id>"
            )
        return None
