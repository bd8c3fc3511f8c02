"""Post alerts to Discord channels through discord.py's HTTP client, exactly once.

Exactly once across crashes: every message carries a nonce derived from the channel and
the outbox row (not discord.py's random one) with `enforce_nonce`, so when delivery
resends an alert that may have been posted before a crash, Discord returns the message it
already created instead of posting a second one. Discord keeps nonces for a few minutes;
an alert resent later than that may appear twice, which is the documented limit.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping

import aiohttp
import discord
from discord.http import handle_message_parameters

from bot.adapters.discord.render import render_alert
from bot.core.models import Alert, Channel
from bot.core.ports import (
    MessageRejected,
    PermanentSendError,
    RateLimited,
    SendResult,
    TransientSendError,
)

log = logging.getLogger(__name__)

NONCE_LENGTH = 25  # Discord's documented maximum
NEEDED_PERMISSIONS = "View Channel, Send Messages and Embed Links"

# topic -> subscription id for one channel, for the unsubscribe buttons.
SubscriptionLookup = Callable[[Channel], Awaitable[Mapping[str, int]]]


def message_nonce(alert: Alert) -> str:
    """The same 25 characters every time this outbox row is sent to this channel.

    The story identity is mixed in so that a fresh database reusing row ids can never
    make Discord hand back an earlier, different alert.
    """
    key = f"{alert.channel}|{alert.id}|{alert.feed_id}|{alert.story_id}|{alert.kind}"
    digest = hashlib.sha256(key.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:NONCE_LENGTH]


class DiscordNotifier:
    """The Notifier for platform "discord": one embed per alert, in the alert's channel."""

    platform = "discord"

    def __init__(self, client: discord.Client, lookup: SubscriptionLookup | None = None) -> None:
        self.client = client
        self.lookup = lookup

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        # maybe_sent needs nothing extra here: every attempt already carries the same nonce.
        if not alert.channel.channel.isdigit():
            raise PermanentSendError(f"not a Discord channel id: {alert.channel.channel!r}")
        if self.client.http.token is None:
            raise TransientSendError("not connected to Discord yet")
        ids: Mapping[str, int] = {}
        if self.lookup is not None and alert.kind != "notice":
            ids = await self.lookup(alert.channel)
        rendered = render_alert(alert, ids)
        params = handle_message_parameters(
            content=rendered.content,
            embed=rendered.embed,
            view=rendered.view if rendered.view is not None else discord.utils.MISSING,
            allowed_mentions=rendered.allowed_mentions,
            nonce=message_nonce(alert),
        )
        try:
            data = await self.client.http.send_message(int(alert.channel.channel), params=params)
        except discord.Forbidden as exc:
            raise PermanentSendError(
                f"Discord refused: the bot lacks permission in this channel (it needs "
                f"{NEEDED_PERMISSIONS}): {exc.text or exc.status}"
            ) from exc
        except discord.NotFound as exc:
            raise PermanentSendError(
                f"Discord: channel not found (deleted, or the bot was removed): {exc.text}"
            ) from exc
        except discord.RateLimited as exc:
            raise RateLimited(exc.retry_after) from exc
        except discord.DiscordServerError as exc:
            raise TransientSendError(f"Discord server error {exc.status}: {exc.text}") from exc
        except discord.HTTPException as exc:
            if exc.status == 400:
                # Our message broke a rule no retry will fix; never resend it.
                raise MessageRejected(f"Discord rejected the message: {exc.text}") from exc
            # 401 (token revoked), a 429 without Via (Cloudflare), anything else: try later.
            raise TransientSendError(f"Discord HTTP {exc.status}: {exc.text}") from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientSendError(f"Discord unreachable: {exc or type(exc).__name__}") from exc
        finally:
            if rendered.view is not None:
                rendered.view.stop()
        remote_id = str(data["id"])
        log.debug(
            "posted to discord",
            extra={
                "channel": str(alert.channel),
                "story_id": alert.story_id,
                "remote_id": remote_id,
            },
        )
        return SendResult(remote_id=remote_id)
