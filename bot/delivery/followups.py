"""Follow-ups: edit a sent alert's message when its story came from more outlets since.

The store owes an edit (FollowUpStore: the payload lists the outlets, `edit_due_at` says
when, at most once a minute per alert); this pass makes each due edit through the
platform's notifier (Discord: PATCH the message; Slack: chat.update). An edit never posts
a new message and never notifies anyone again, and repeating one is harmless (it sets the
same content), so a crash between the edit and its record loses nothing and sends
nothing twice: the edit is simply made again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.core.clock import Clock
from bot.core.models import Alert
from bot.core.ports import FollowUpStore, Notifier, PermanentSendError, RateLimited
from bot.core.ports.notify import MessageEditor

log = logging.getLogger(__name__)

# The key of the outlets an alert lists (bot/store/payload.py writes it).
ALSO_REPORTED_BY = "also_reported_by"
EDIT_BATCH = 50  # edits per pass; the rest wait for the next one
EDIT_TIMEOUT = 60.0  # an edit that hangs this long is tried again later
RETRY_AFTER = timedelta(seconds=30)  # after a failure that may pass


class FollowUps:
    def __init__(
        self,
        store: FollowUpStore,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        prepare: Callable[[Alert], Alert] = lambda alert: alert,
    ) -> None:
        self.store = store
        self.clock = clock
        self.prepare = prepare  # cut as the first send was, so the edit reads the same
        self.editors = {p: n for p, n in notifiers.items() if isinstance(n, MessageEditor)}

    async def edit_due(self) -> int:
        """Make the edits that are due; how many were made."""
        if not self.editors:
            return 0
        due = await self.store.due_edits(self.clock.now(), list(self.editors), EDIT_BATCH)
        made = 0
        for pending in due:
            alert = pending.alert
            assert alert.id is not None
            extra = {
                "channel": str(alert.channel),
                "story_id": alert.story_id,
                "alert_id": alert.id,
            }
            shown = alert.extra.get(ALSO_REPORTED_BY, "")
            try:
                async with asyncio.timeout(EDIT_TIMEOUT):
                    await self.editors[alert.channel.platform].edit(
                        self.prepare(alert), pending.remote_id
                    )
            except RateLimited as exc:
                await self.store.defer_edit(
                    alert.id, self.clock.now() + timedelta(seconds=max(1.0, exc.retry_after))
                )
                log.warning("edit rate limited; trying again later", extra=extra)
                continue
            except PermanentSendError as exc:
                # The message is gone or cannot be edited: the outlets stay recorded.
                await self.store.defer_edit(alert.id, None)
                log.warning("alert not edited, and will not be: %s", exc, extra=extra)
                continue
            except Exception as exc:  # one failed edit never stops the others
                await self.store.defer_edit(alert.id, self.clock.now() + RETRY_AFTER)
                log.warning("alert not edited, trying again later: %s", exc, extra=extra)
                continue
            await self.store.mark_edited(alert.id, shown, self.clock.now())
            log.info("alert edited: also reported by %s", shown, extra=extra)
            made += 1
        return made
