"""A person's DM with the bot: conversations.open, asked once per person per process.

Slack answers conversations.open with the same IM channel (`D…`) every time, so the id
is kept in memory; a resend after a crash opens it again and finds the same channel and
history. Opening needs the `im:write` scope; a bot user (`cannot_dm_bot`), a person no
longer in the workspace (`user_not_found`) or deactivated (`user_disabled`) is refused
for good (errors.CHANNEL_REASONS), which pauses that person's subscriptions.
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient


class DirectMessages:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._opened: dict[str, str] = {}  # user id -> their IM channel with the bot

    async def channel_of(self, user: str) -> str:
        """The IM channel id of `user`'s DM with the bot (SlackApiError when refused)."""
        known = self._opened.get(user)
        if known is None:
            # return_im: the IM itself, so its id is there even when it existed already.
            response = await self.client.conversations_open(users=user, return_im=True)
            channel = response.get("channel") or {}
            known = self._opened[user] = str(channel.get("id"))
        return known

    def known(self, user: str) -> str | None:
        return self._opened.get(user)
