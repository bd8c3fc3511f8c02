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
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from bot.core.clock import Clock
from bot.core.models import Alert
from bot.core.ports import (
    ChannelSettingsStore,
    FollowUpStore,
    Notifier,
    PermanentSendError,
    RateLimited,
)
from bot.core.ports.notify import MessageEditor
from bot.core.threads import THREAD_OF, thread_root

log = logging.getLogger(__name__)

# The key of the outlets an alert lists (bot/store/payload.py writes it).
ALSO_REPORTED_BY = "also_reported_by"
EDIT_BATCH = 50  # edits per pass; the rest wait for the next one
EDIT_TIMEOUT = 60.0  # an edit that hangs this long is tried again later
RETRY_AFTER = timedelta(seconds=30)  # after a failure that may pass
THREAD_WINDOW = timedelta(days=1)  # how far back a later development finds its story
THREAD_LOOKBACK = 200  # the channel's latest sent alerts a development is compared with


class FollowUpsStore(FollowUpStore, ChannelSettingsStore, Protocol):
    """The outbox's follow-up side and the channel's settings (is `threads` on?)."""


class FollowUps:
    def __init__(
        self,
        store: FollowUpsStore,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        prepare: Callable[[Alert], Alert] = lambda alert: alert,
        *,
        lease_for: timedelta,
    ) -> None:
        self.store = store
        self.clock = clock
        # How long a claimed edit is this process's (FollowUpStore.due_edits): the fleet's
        # lease, longer than an edit may take (EDIT_TIMEOUT) at its default.
        self.lease_for = lease_for
        self.prepare = prepare  # cut as the first send was, so the edit reads the same
        self.editors = {p: n for p, n in notifiers.items() if isinstance(n, MessageEditor)}

    async def in_thread(self, alert: Alert) -> Alert:
        """`alert`, marked (extra["thread_of"]) to go in the thread of an earlier alert when
        its channel has threads on and it is a later development of that alert's story
        (bot/core/threads.py). Worked out from what was sent before it, so a resend after a
        crash goes to the same thread."""
        if alert.kind != "alert" or alert.channel.platform not in self.editors:
            return alert
        if (
            THREAD_OF in alert.extra
            or not (await self.store.channel_settings(alert.channel)).threads
        ):
            return alert
        since = self.clock.now() - THREAD_WINDOW
        root = thread_root(
            alert, await self.store.recent_sent(alert.channel, since, THREAD_LOOKBACK)
        )
        return alert if root is None else replace(alert, extra={**alert.extra, THREAD_OF: root})

    async def edit_due(self) -> int:
        """Make the edits that are due; how many were made."""
        if not self.editors:
            return 0
        due = await self.store.due_edits(
            self.clock.now(), list(self.editors), EDIT_BATCH, lease_for=self.lease_for
        )
        made = 0
        for pending in due:
            alert = pending.alert
            assert alert.id is not None
            alert_id = alert.id
            extra = {
                "channel": str(alert.channel),
                "story_id": alert.story_id,
                "alert_id": alert.id,
            }
            shown = alert.extra.get(ALSO_REPORTED_BY, "")
            try:
                alert = await self.in_thread(alert)  # a reply is edited in its thread
                async with asyncio.timeout(EDIT_TIMEOUT):
                    await self.editors[alert.channel.platform].edit(
                        self.prepare(alert), pending.remote_id
                    )
            except RateLimited as exc:
                await self.store.defer_edit(
                    alert_id, self.clock.now() + timedelta(seconds=max(1.0, exc.retry_after))
                )
                log.warning("edit rate limited; trying again later", extra=extra)
                continue
            except PermanentSendError as exc:
                # The message is gone or cannot be edited: the outlets stay recorded.
                await self.store.defer_edit(alert_id, None)
                log.warning("alert not edited, and will not be: %s", exc, extra=extra)
                continue
            except Exception as exc:  # one failed edit never stops the others
                await self.store.defer_edit(alert_id, self.clock.now() + RETRY_AFTER)
                log.warning("alert not edited, trying again later: %s", exc, extra=extra)
                continue
            await self.store.mark_edited(alert_id, shown, self.clock.now())
            log.info("alert edited: also reported by %s", shown, extra=extra)
            made += 1
        return made
