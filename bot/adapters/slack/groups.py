"""Slack user groups a subscription may mention (`/news subscribe NATO @analysts`).

usergroups.list (scope `usergroups:read`) names the workspace's enabled groups; it is
read at most once a minute. A command names a group by its handle (`@analysts`, as typed
with the command's escaping off) or as Slack writes one (`<!subteam^S123|@analysts>`);
an alert drops a group that has since been disabled or deleted (its mention would
notify no one and show as broken).
"""

from __future__ import annotations

import re
import time

from slack_sdk.web.async_client import AsyncWebClient

CACHE_SECONDS = 60.0
_WRITTEN = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>$")


class UserGroups:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._groups: dict[str, str] = {}  # id -> handle
        self._read_at: float | None = None

    async def enabled(self) -> dict[str, str]:
        """id -> handle of every enabled group (SlackApiError when Slack refuses)."""
        now = time.monotonic()
        if self._read_at is None or now - self._read_at > CACHE_SECONDS:
            response = await self.client.usergroups_list(include_disabled=False)
            self._groups = {
                str(g.get("id")): str(g.get("handle") or "")
                for g in response.get("usergroups") or []
                if isinstance(g, dict) and not g.get("date_delete")
            }
            self._read_at = now
        return self._groups

    def forget(self) -> None:
        """Ask Slack again at the next read, however recent the last one."""
        self._read_at = None

    async def find(self, word: str) -> str | None:
        """The id of the group `word` names (`@handle` or `<!subteam^ID|…>`), if enabled."""
        written = _WRITTEN.match(word)
        groups = await self.enabled()
        if written is not None:
            return written.group(1) if written.group(1) in groups else None
        if word.startswith("@") and len(word) > 1:
            handle = word[1:].casefold()
            return next((gid for gid, h in groups.items() if h.casefold() == handle), None)
        return None
