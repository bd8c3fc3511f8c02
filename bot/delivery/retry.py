"""What a failed send means: when to retry, and whether the alert may have been posted."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.core.ports import MessageRejected, PermanentSendError, RateLimited, TransientSendError

Outcome = Literal["retry", "rate_limited", "permanent", "rejected"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base: float = 2.0  # seconds before the first retry of a transient failure
    maximum: float = 600.0  # backoff doubles up to this; retries go on (nothing is lost)
    jitter: float = 0.2  # up to this fraction added, so many channels do not retry in step


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    retry_at: datetime
    maybe_sent: bool  # whether the failed attempt may have posted the alert anyway
    reason: str


def decide(
    exc: BaseException,
    attempts: int,
    was_maybe_sent: bool,
    now: datetime,
    policy: RetryPolicy,
) -> Decision:
    """`attempts` counts the attempt that just failed (1 for the first)."""
    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
    if isinstance(exc, MessageRejected):
        return Decision("rejected", now, False, reason)
    if isinstance(exc, PermanentSendError):
        return Decision("permanent", now, was_maybe_sent, reason)
    if isinstance(exc, RateLimited):
        # A 429 posted nothing: the alert is as sent-or-not as it was before the attempt.
        return Decision(
            "rate_limited", now + timedelta(seconds=exc.retry_after), was_maybe_sent, reason
        )
    backoff = min(policy.base * 2 ** max(0, attempts - 1), policy.maximum)
    backoff *= 1 + random.uniform(0, policy.jitter)
    if isinstance(exc, TransientSendError) and exc.retry_after is not None:
        backoff = max(backoff, exc.retry_after)
    # A timeout or 5xx may come after the platform posted: the retry must check.
    return Decision("retry", now + timedelta(seconds=backoff), True, reason)
