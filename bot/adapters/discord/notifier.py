"""Post alerts to Discord channels through discord.py's HTTP client, exactly once.

Exactly once across crashes, in two layers:
- every message carries a nonce derived from the channel and the outbox row (not
  discord.py's random one) with `enforce_nonce`, so a resend within Discord's few minutes
  of nonce memory returns the message Discord already created;
- a resend that may follow an earlier post (delivery's maybe_sent) first reads the
  channel's recent messages for that alert (history.py: the alert's key is in the buttons'
  custom ids) and posts nothing if it is there, which also covers a resend after the bot
  was down longer than Discord remembers nonces. If the history cannot be read (no
  permission, 5xx, timeout) the resend posts with the nonce alone, as above.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import discord
from discord.http import handle_message_parameters

from bot.adapters.discord.history import find_posted
from bot.adapters.discord.render import Rendered, alert_key, render_alert
from bot.core.mentions import DeadMentions, role_id
from bot.core.models import Alert, Channel
from bot.core.personal import dm_user
from bot.core.ports import (
    MessageRejected,
    PermanentSendError,
    RateLimited,
    SendResult,
    TransientSendError,
)
from bot.core.summary import fit
from bot.core.threads import THREAD_OF

log = logging.getLogger(__name__)

NEEDED_PERMISSIONS = "View Channel, Send Messages and Embed Links"
# Discord's code for a channel the bot cannot see at all: View Channel was taken away, or
# the bot is no longer in the server (removed while offline, so no gateway event said so).
MISSING_ACCESS = 50001
# Discord's code for a direct message it will not deliver: the person closed their DMs,
# blocked the bot, or no longer shares a server with it.
CANNOT_DM = 50007
# "A thread has already been created for this message": its id is the message's.
THREAD_EXISTS = 160004
THREAD_NAME_LIMIT = 100
# Reading the history is an extra request before a resend; if Discord is slow to answer
# it, posting with the nonce beats holding up the channel's other alerts.
HISTORY_TIMEOUT = 10.0
# What a request fails with when Discord was not reached (or did not answer).
UNREACHABLE = (TimeoutError, aiohttp.ClientError, OSError)

# topic -> subscription id for one channel, for the unsubscribe buttons.
SubscriptionLookup = Callable[[Channel], Awaitable[Mapping[str, int]]]


def message_nonce(alert: Alert) -> str:
    """The same 25 characters every time this outbox row is sent to this channel."""
    return alert_key(alert)


class DiscordNotifier:
    """The Notifier for platform "discord": one embed per alert, in the alert's channel."""

    platform = "discord"

    def __init__(
        self,
        client: discord.Client,
        lookup: SubscriptionLookup | None = None,
        *,
        history_timeout: float = HISTORY_TIMEOUT,
    ) -> None:
        self.client = client
        self.lookup = lookup
        self.history_timeout = history_timeout
        self._dm_channels: dict[str, int] = {}  # user id -> their DM channel's id
        self._gone_roles = DeadMentions()  # deleted roles' mentions, logged once each
        self._threads: dict[str, int] = {}  # message id -> the thread started on it

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        if self.client.http.token is None:
            raise TransientSendError("not connected to Discord yet")
        where = await self.in_thread(await self.channel_id(alert.channel), alert)
        alert = self._without_deleted_roles(alert)
        ids: Mapping[str, int] = {}
        if self.lookup is not None and alert.kind != "notice":
            ids = await self.lookup(alert.channel)
        rendered = render_alert(alert, ids)
        try:
            if maybe_sent:
                earlier = await self._posted_before(alert, rendered, where)
                if earlier is not None:
                    return SendResult(remote_id=earlier)
            data = await self._post(alert, rendered, where)
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

    async def edit(self, alert: Alert, remote_id: str) -> None:
        """Edit the alert's message to read as `alert` does now (more outlets, say). Edits
        never ping on Discord; allowed_mentions says none all the same."""
        if self.client.http.token is None:
            raise TransientSendError("not connected to Discord yet")
        where = await self.in_thread(await self.channel_id(alert.channel), alert)
        alert = self._without_deleted_roles(alert)
        ids: Mapping[str, int] = {}
        if self.lookup is not None:
            ids = await self.lookup(alert.channel)
        rendered = render_alert(alert, ids)
        params = handle_message_parameters(
            content=rendered.content,
            embed=rendered.embed,
            view=rendered.view if rendered.view is not None else discord.utils.MISSING,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        try:
            await self.client.http.edit_message(where, int(remote_id), params=params)
        except discord.NotFound as exc:
            raise PermanentSendError(f"Discord: the message is gone: {exc.text}") from exc
        except discord.Forbidden as exc:
            raise PermanentSendError(f"Discord refused the edit: {exc.text}") from exc
        except (discord.RateLimited, discord.HTTPException, *UNREACHABLE) as exc:
            raise _write_failure(exc, "the edit") from exc
        finally:
            if rendered.view is not None:
                rendered.view.stop()

    async def in_thread(self, channel_id: int, alert: Alert) -> int:
        """Where `alert` goes: `channel_id`, or the thread on the message it follows up
        (extra["thread_of"], bot/core/threads.py), started the first time. A thread started
        from a message has that message's id, so a restart finds the same one. Without
        Create Public Threads the alert goes to the channel itself (one log line)."""
        root = alert.extra.get(THREAD_OF)
        if not root or not root.isdigit():
            return channel_id
        known = self._threads.get(root)
        if known is not None:
            return known
        try:
            await self.client.http.start_thread_with_message(
                channel_id,
                int(root),
                name=fit(alert.title, THREAD_NAME_LIMIT) or "Follow-ups",
                auto_archive_duration=1440,
            )
        except discord.HTTPException as exc:
            if exc.code == THREAD_EXISTS:
                pass  # started already (by an earlier run, say): its id is the message's
            elif exc.status in (403, 404):
                log.warning(
                    "cannot start a thread (%s); posting in the channel itself",
                    exc.text or exc.status,
                    extra={"channel": str(alert.channel), "story_id": alert.story_id},
                )
                return channel_id
            elif isinstance(exc, discord.DiscordServerError):
                raise TransientSendError(f"Discord server error {exc.status}: {exc.text}") from exc
            else:
                raise TransientSendError(f"Discord HTTP {exc.status}: {exc.text}") from exc
        except discord.RateLimited as exc:
            raise RateLimited(exc.retry_after) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientSendError(f"Discord unreachable: {exc or type(exc).__name__}") from exc
        self._threads[root] = int(root)
        return int(root)

    def _without_deleted_roles(self, alert: Alert) -> Alert:
        """`alert` without mentions of roles its server no longer has (deleted since the
        subscription was made: the gateway keeps the guild's roles current); one log line
        per such role. A server not cached yet keeps them: Discord ignores a dead one."""
        roles = [m for m in alert.mentions if role_id(m) is not None]
        workspace = alert.channel.workspace
        guild = self.client.get_guild(int(workspace)) if roles and workspace.isdigit() else None
        if guild is None:
            return alert
        gone = {m for m in roles if guild.get_role(int(role_id(m) or 0)) is None}
        return self._gone_roles.drop(
            alert,
            gone,
            lambda mention: log.warning(
                "role mention dropped: the role no longer exists",
                extra={"channel": str(alert.channel), "role_id": role_id(mention)},
            ),
        )

    async def channel_id(self, channel: Channel) -> int:
        """The Discord channel to post in: the channel itself, or a person's DM channel.

        Discord gives the same DM channel every time (POST /users/@me/channels), so it is
        asked once per person per process; a resend after a crash finds the same channel,
        its nonce and its history.
        """
        user = dm_user(channel)
        if user is None:
            if not channel.channel.isdigit():
                raise PermanentSendError(f"not a Discord channel id: {channel.channel!r}")
            return int(channel.channel)
        known = self._dm_channels.get(user)
        if known is not None:
            return known
        if not user.isdigit():
            raise PermanentSendError(f"not a Discord user id: {user!r}")
        try:
            data = await self.client.http.start_private_message(int(user))
        except discord.DiscordServerError as exc:
            raise TransientSendError(f"Discord server error {exc.status}: {exc.text}") from exc
        except discord.RateLimited as exc:
            raise RateLimited(exc.retry_after) from exc
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status in (401, 429):
                raise TransientSendError(f"Discord HTTP {exc.status}: {exc.text}") from exc
            raise PermanentSendError(
                f"Discord refused a direct message to this person: {exc.text or exc.status}"
            ) from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise TransientSendError(f"Discord unreachable: {exc or type(exc).__name__}") from exc
        self._dm_channels[user] = int(data["id"])
        return self._dm_channels[user]

    async def _posted_before(self, alert: Alert, rendered: Rendered, where_id: int) -> str | None:
        """The id of this alert's earlier post in the channel's history, if it is there."""
        where = {"channel": str(alert.channel), "alert_id": alert.id, "story_id": alert.story_id}
        try:
            async with asyncio.timeout(self.history_timeout):
                remote_id = await find_posted(
                    self.client, where_id, alert_key(alert), rendered.embed
                )
        except (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError) as exc:
            # TimeoutError is an OSError. Nothing is lost: the post below still carries the
            # nonce, which Discord dedupes if it still remembers it.
            log.warning(
                "could not read the channel's recent messages before a resend (%s); "
                "posting with the nonce only",
                _describe(exc),
                extra=where,
            )
            return None
        if remote_id is not None:
            log.info(
                "alert already posted before a restart or timeout; not posting it again",
                extra={**where, "remote_id": remote_id},
            )
        return remote_id

    async def _post(self, alert: Alert, rendered: Rendered, where_id: int) -> Any:
        params = handle_message_parameters(
            content=rendered.content,
            embed=rendered.embed,
            view=rendered.view if rendered.view is not None else discord.utils.MISSING,
            allowed_mentions=rendered.allowed_mentions,
            nonce=message_nonce(alert),
        )
        try:
            return await self.client.http.send_message(where_id, params=params)
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                raise PermanentSendError(
                    "Discord refused a direct message: the person closed their DMs, blocked "
                    f"the bot or shares no server with it: {exc.text or exc.status}"
                ) from exc
            if exc.code == MISSING_ACCESS:
                raise PermanentSendError(
                    f"Discord refused: the bot lacks permission to see this channel, or was "
                    f"removed from its server while it was offline (it needs "
                    f"{NEEDED_PERMISSIONS}): {exc.text or exc.status}"
                ) from exc
            raise PermanentSendError(
                f"Discord refused: the bot lacks permission in this channel (it needs "
                f"{NEEDED_PERMISSIONS}): {exc.text or exc.status}"
            ) from exc
        except discord.NotFound as exc:
            raise PermanentSendError(
                f"Discord: channel not found (deleted, or the bot was removed): {exc.text}"
            ) from exc
        except (discord.RateLimited, discord.HTTPException, *UNREACHABLE) as exc:
            raise _write_failure(exc, "the message") from exc


def _write_failure(
    exc: discord.RateLimited | discord.HTTPException | TimeoutError | aiohttp.ClientError | OSError,
    what: str,
) -> RateLimited | MessageRejected | TransientSendError:
    """What a post or an edit failed with, once the failures particular to it (the
    channel or message gone, a permission missing) are told apart: the same for both."""
    if isinstance(exc, discord.RateLimited):
        return RateLimited(exc.retry_after)
    if isinstance(exc, discord.DiscordServerError):
        return TransientSendError(f"Discord server error {exc.status}: {exc.text}")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 400:
            # What we wrote broke a rule no retry will fix; never send it again.
            return MessageRejected(f"Discord rejected {what}: {exc.text}")
        # 401 (token revoked), a 429 without Via (Cloudflare), anything else: try later.
        return TransientSendError(f"Discord HTTP {exc.status}: {exc.text}")
    return TransientSendError(f"Discord unreachable: {exc or type(exc).__name__}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"HTTP {exc.status}: {exc.text or exc.response.reason}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
