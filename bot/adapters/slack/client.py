"""Slack Web API clients: where they point and how they wait out rate limits."""

from __future__ import annotations

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.observe import metrics

DEFAULT_API_URL = "https://slack.com/api/"
MAX_INLINE_WAIT = 30.0  # seconds; a longer Retry-After goes back to delivery as RateLimited
RATE_LIMIT_RETRIES = 3
REQUEST_TIMEOUT = 15  # seconds per Web API call


class BoundedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """Waits out a 429 per its Retry-After (plus up to 1 s of jitter), when it is short.

    A long wait is not slept through here: the call fails with the 429, which the
    notifier turns into RateLimited so delivery holds the channel without blocking
    everything else behind one sleeping request.
    """

    def __init__(
        self, max_wait: float = MAX_INLINE_WAIT, max_retry_count: int = RATE_LIMIT_RETRIES
    ):
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        # Every 429 passes here, the ones waited out and the ones handed to delivery.
        if response is not None and response.status_code == 429:
            metrics.rate_limited("slack")
        return await super().can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        for key, values in response.headers.items():
            if key.lower() == "retry-after":
                try:
                    return float(values[0]) <= self.max_wait
                except (IndexError, TypeError, ValueError):
                    return True  # unreadable: the handler waits about a second
        return True


def api_url(override: str | None) -> str:
    """The Web API base; slack_sdk joins method names onto it, so it must end with `/`."""
    base = (override or DEFAULT_API_URL).strip()
    return base if base.endswith("/") else base + "/"


def web_client(
    token: str | None, base_url: str, *, retry_connection_errors: bool
) -> AsyncWebClient:
    """A client that waits out short 429s.

    Connection errors are retried only where repeating the call cannot duplicate a post:
    the notifier's client leaves them to delivery, which resends with maybe_sent=True.
    """
    handlers: list[AsyncRetryHandler] = [BoundedRateLimitRetryHandler()]
    if retry_connection_errors:
        handlers.append(AsyncConnectionErrorRetryHandler())
    return AsyncWebClient(
        token=token, base_url=base_url, timeout=REQUEST_TIMEOUT, retry_handlers=handlers
    )
