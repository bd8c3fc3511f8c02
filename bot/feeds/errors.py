"""Why a fetch failed: one type per failure a caller handles differently.

Each message is one line a user can act on; the watcher shows it as the feed's last
error and `/news feed add` shows it as the reason a feed was refused.
"""

from __future__ import annotations


class FetchError(Exception):
    """A feed could not be fetched."""


class FetchTimeout(FetchError):
    pass


class FetchTooLarge(FetchError):
    pass


class FetchTooManyRedirects(FetchError):
    pass


class UnsafeURLError(FetchError):
    """An untrusted URL points somewhere a feed added from chat may not reach."""


class FetchHTTPError(FetchError):
    def __init__(self, status: int, reason: str, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status
        self.retry_after = retry_after
