"""SlackNotifier: one alert -> one chat.postMessage, at most once across crashes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import blocks
from bot.adapters.slack.dms import DirectMessages
from bot.adapters.slack.errors import (
    MESSAGE_ERRORS,
    TOKEN_ERRORS,
    SlackStopped,
    error_code,
    error_details,
    image_refused,
    to_send_error,
)
from bot.adapters.slack.groups import UserGroups
from bot.core.mentions import DeadMentions, group_id
from bot.core.models import Alert, Channel
from bot.core.personal import dm_user
from bot.core.ports import PermanentSendError, SendResult
from bot.core.threads import THREAD_OF

log = logging.getLogger(__name__)

# chat.update answers for a message that can no longer be edited: never retried.
UPDATE_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# How far back a resend looks for its first post. Slack posts about one message per
# second per channel, so an alert in flight at a crash is among the last few.
HISTORY_LOOKBACK = 100


class SlackNotifier:
    platform = "slack"

    def __init__(
        self, client: AsyncWebClient, on_token_error: Callable[[str], None] | None = None
    ) -> None:
        self.client = client
        self.on_token_error = on_token_error
        self.stopped_reason: str | None = None
        self.dms = DirectMessages(client)
        self.groups = UserGroups(client)
        self._gone_groups = DeadMentions()  # disabled or deleted groups, logged once each

    def stop(self, reason: str) -> None:
        self.stopped_reason = reason

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        if self.stopped_reason is not None:
            raise SlackStopped(f"Slack is stopped: {self.stopped_reason}")
        try:
            channel = await self.channel_id(alert.channel)
            alert = await self._without_dead_groups(alert)
            if maybe_sent and alert.id is not None:
                ts = await self._find_posted(channel, alert.id, alert.extra.get(THREAD_OF))
                if ts is not None:
                    log.info(
                        "alert already posted before a restart; not posting again",
                        extra={"channel": str(alert.channel), "story_id": alert.story_id},
                    )
                    return SendResult(ts)
            message = blocks.render(alert)
            try:
                response = await self._post_blocks(alert, message, channel)
            except SlackApiError as exc:
                if error_code(exc) not in MESSAGE_ERRORS:
                    raise
                # A layout Slack refuses must not cost the alert: send the plain text.
                log.warning(
                    "Slack refused the blocks (%s); sending plain text",
                    error_code(exc),
                    extra={"channel": str(alert.channel), "story_id": alert.story_id},
                )
                response = await self._post(
                    channel, message.text, None, message.metadata, alert.extra.get(THREAD_OF)
                )
        except Exception as exc:
            error = to_send_error(exc)
            if isinstance(exc, SlackApiError) and error_code(exc) in TOKEN_ERRORS:
                self._token_refused(error_code(exc))
            raise error from exc
        return SendResult(str(response.get("ts")) if response.get("ts") else None)

    async def edit(self, alert: Alert, remote_id: str) -> None:
        """chat.update the alert's message (its ts) to read as `alert` does now. An update
        never notifies anyone again on Slack."""
        if self.stopped_reason is not None:
            raise SlackStopped(f"Slack is stopped: {self.stopped_reason}")
        try:
            channel = await self.channel_id(alert.channel)
            alert = await self._without_dead_groups(alert)
            message = blocks.render(alert)
            try:
                await self._update(channel, remote_id, message)
            except SlackApiError as exc:
                if message.image is None or not image_refused(exc, blocks.IMAGE_POINTER):
                    raise
                # As when it was posted: the story matters more than its picture.
                await self._update(channel, remote_id, blocks.render(alert, image=False))
        except Exception as exc:
            if isinstance(exc, SlackApiError) and error_code(exc) in UPDATE_GONE:
                raise PermanentSendError(f"Slack: cannot edit ({error_code(exc)})") from exc
            error = to_send_error(exc)
            if isinstance(exc, SlackApiError) and error_code(exc) in TOKEN_ERRORS:
                self._token_refused(error_code(exc))
            raise error from exc

    async def _update(self, channel: str, ts: str, message: blocks.Message) -> Any:
        return await self.client.chat_update(
            channel=channel,
            ts=ts,
            text=message.text,
            blocks=message.blocks,
            metadata=message.metadata,
        )

    async def _without_dead_groups(self, alert: Alert) -> Alert:
        """`alert` without user groups disabled or deleted since they were subscribed (one
        log line each); if Slack will not list the groups now, it keeps them."""
        groups = [m for m in alert.mentions if group_id(m) is not None]
        if not groups:
            return alert
        try:
            enabled = await self.groups.enabled()
        except SlackApiError as exc:
            if error_code(exc) in TOKEN_ERRORS:
                raise
            return alert
        gone = {m for m in groups if group_id(m) not in enabled}
        return self._gone_groups.drop(
            alert,
            gone,
            lambda mention: log.warning(
                "user group mention dropped: the group is disabled or deleted",
                extra={"channel": str(alert.channel), "group_id": group_id(mention)},
            ),
        )

    async def channel_id(self, channel: Channel) -> str:
        """Where to post: the channel itself, or the IM of a personal subscription's owner."""
        user = dm_user(channel)
        return channel.channel if user is None else await self.dms.channel_of(user)

    async def _post_blocks(self, alert: Alert, message: blocks.Message, channel: str) -> Any:
        """Post the blocks; if Slack refuses them only for the image, at once without it."""
        try:
            return await self._post(
                channel, message.text, message.blocks, message.metadata, alert.extra.get(THREAD_OF)
            )
        except SlackApiError as exc:
            if message.image is None or not image_refused(exc, blocks.IMAGE_POINTER):
                raise
            # Slack fetches the picture itself and refuses the whole message when it cannot
            # (a dead link, a host that blocks it): the story matters more than its picture.
            details = error_details(exc)
            log.warning(
                "Slack could not use the story's image (%s); sending the alert without it",
                details[0] if details else error_code(exc),
                extra={
                    "channel": str(alert.channel),
                    "alert_id": alert.id,
                    "story_id": alert.story_id,
                    "image_url": message.image,
                },
            )
        bare = blocks.render(alert, image=False)
        return await self._post(
            channel, bare.text, bare.blocks, bare.metadata, alert.extra.get(THREAD_OF)
        )

    async def _post(
        self,
        channel: str,
        text: str,
        layout: list[blocks.Block] | None,
        metadata: dict[str, Any] | None,
        thread_ts: str | None = None,
    ) -> Any:
        # unfurl off: the alert already shows the story, a preview would double it.
        # No link_names, no parse=full: they would turn plain "@channel" into a ping.
        # thread_ts: a later development, in the thread of its story's first alert.
        return await self.client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=layout,
            unfurl_links=False,
            unfurl_media=False,
            metadata=metadata,
            thread_ts=thread_ts,
        )

    async def _find_posted(
        self, channel: str, alert_id: int, thread_ts: str | None = None
    ) -> str | None:
        """The ts of an earlier post of this alert in the channel's recent history (in the
        thread's replies for a threaded one: the history does not show replies)."""
        if thread_ts:
            response = await self.client.conversations_replies(
                channel=channel, ts=thread_ts, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        else:
            response = await self.client.conversations_history(
                channel=channel, limit=HISTORY_LOOKBACK, include_all_metadata=True
            )
        for message in response.get("messages") or []:
            if isinstance(message, dict) and blocks.is_alert_message(message, alert_id):
                return str(message.get("ts"))
        return None

    def _token_refused(self, code: str) -> None:
        if self.stopped_reason is None:
            self.stopped_reason = f"the bot token was refused ({code})"
            if self.on_token_error is not None:
                self.on_token_error(code)
