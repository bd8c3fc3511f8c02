"""The delivery policy from the operator's settings."""

from __future__ import annotations

from bot.config import Settings
from bot.delivery.dispatcher import DeliveryPolicy
from bot.delivery.holds import BurstPolicy
from bot.delivery.pacing import Rate
from bot.delivery.retry import RetryPolicy


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        summary_length=settings.newsbot_summary_length,
        burst=BurstPolicy(settings.newsbot_burst_count, settings.newsbot_burst_window),
        retry=RetryPolicy(
            base=settings.newsbot_retry_base,
            maximum=max(settings.newsbot_retry_max, settings.newsbot_retry_base),
        ),
        channel_rates={
            "discord": Rate.parse(settings.newsbot_rate_discord_channel),
            "slack": Rate.parse(settings.newsbot_rate_slack_channel),
        },
        platform_rates={
            "discord": Rate.parse(settings.newsbot_rate_discord_global),
            "slack": Rate.parse(settings.newsbot_rate_slack_global),
        },
        lease_seconds=settings.newsbot_lease_seconds,
    )
