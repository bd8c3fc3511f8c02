"""Who may manage feeds, digests and quiet hours: workspace admins and owners, or a list.

Slack has no per-channel "manage" permission a slash command can see, so the bot asks
`users.info` (is_admin / is_owner / is_primary_owner) and caches the answer briefly: a
demoted admin loses the right within CACHE_SECONDS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.errors import TOKEN_ERRORS

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class AdminCheck:
    def __init__(
        self,
        client: AsyncWebClient,
        extra_admins: Iterable[str] = (),
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.extra_admins = frozenset(extra_admins)
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, bool]] = {}

    async def can_manage(self, user_id: str) -> bool:
        if user_id in self.extra_admins:
            return True
        cached = self._cache.get(user_id)
        now = self.clock()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") in TOKEN_ERRORS:
                raise  # not a "no": the whole Slack side is unusable (commands.py stops it)
            # Unknown means no: a management command is refused, never wrongly allowed.
            log.warning("users.info failed for a permission check: %s", exc.response.get("error"))
            return False
        user = response.get("user") or {}
        allowed = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._cache[user_id] = (now, allowed)
        return allowed
