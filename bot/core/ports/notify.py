"""Posting alerts: the contract each chat adapter implements, and how a send can fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.core.models import Alert


@dataclass(frozen=True, slots=True)
class SendResult:
    remote_id: str | None = None  # the platform's message id, when it has one


class SendError(Exception):
    """Base of what a Notifier raises when a send did not succeed; the message is one line.

    Raise the most specific subclass: delivery acts on the type. Anything else a notifier
    raises (a bug, an unexpected SDK error) is treated like TransientSendError.
    """


class PermanentSendError(SendError):
    """The platform refused for good (channel gone, bot removed, permission missing).

    Delivery pauses the channel's subscriptions with this message as the reason (shown in
    `/news list`) and keeps its alerts unsent; it never retries them on its own.
    """


class MessageRejected(PermanentSendError):
    """The platform refused this one message for good (HTTP 400: a rule no retry fixes).

    Unlike its parent it says nothing about the channel: delivery keeps the alert as
    "rejected" with the reason (logged, counted in `/news status`), never resends it, and
    goes on with the channel's next alert.
    """


class RateLimited(SendError):
    """The platform said "too many requests" (HTTP 429): nothing was posted.

    `retry_after` is the platform's Retry-After in seconds; delivery waits at least that
    long before the next send to that channel (to every channel when `is_global`).
    """

    def __init__(self, retry_after: float, message: str = "", *, is_global: bool = False) -> None:
        super().__init__(message or f"rate limited; retry after {retry_after:g}s")
        self.retry_after = max(0.0, float(retry_after))
        self.is_global = is_global


class TransientSendError(SendError):
    """A failure that may pass (5xx, timeout, connection lost): retried with backoff.

    The alert may have been posted before the failure, so the retry uses maybe_sent=True.
    `retry_after`, when the platform gave one, is the least wait before the retry.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Notifier(Protocol):
    """Posts alerts on one platform; implemented by each adapter."""

    platform: str

    async def send(self, alert: Alert, *, maybe_sent: bool = False) -> SendResult:
        """Post `alert` (any kind) to its channel.

        `maybe_sent` is True when an earlier attempt may have reached the platform before
        a crash: the notifier must then make sure not to post it twice (Discord: look for
        the alert's key in the channel's recent messages first, and send the same nonce
        derived from channel + alert id; Slack: look for the alert's metadata in the
        channel's recent history first).

        Delivery marks the alert in flight durably before calling this and records it
        sent after it returns, so after a crash in between the alert is sent again with
        maybe_sent=True. Use `alert.id` (unique and stable per outbox row) to derive the
        idempotency key. Raise SendError subclasses (above) for failures. Pacing below the
        platform's rate limits is delivery's job, not the notifier's.
        """
        ...


@runtime_checkable
class MessageEditor(Protocol):
    """A notifier that can edit a message it posted (issue 17: follow-ups)."""

    async def edit(self, alert: Alert, remote_id: str) -> None:
        """Make the message `remote_id` (what `send` returned for `alert`) show `alert` as
        it reads now. An edit never posts a new message and never notifies anyone again.
        Raise SendError subclasses as `send` does: PermanentSendError when the message is
        gone or cannot be edited, RateLimited or TransientSendError to try again later."""
        ...
