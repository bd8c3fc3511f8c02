"""Fetching feeds over HTTP with aiohttp (never feedparser's own urllib fetch).

Operator feeds may also be local files: the operator is trusted, and the demo and the
tests replay feeds from disk through the same pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot import __version__

log = logging.getLogger(__name__)

USER_AGENT = f"newsbot/{__version__} (+self-hosted news alert bot)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5


class FetchError(Exception):
    """A feed could not be fetched; the message is shown to users as the feed's last error."""


class FetchTimeout(FetchError):
    pass


class FetchTooLarge(FetchError):
    pass


class FetchHTTPError(FetchError):
    def __init__(self, status: int, reason: str, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str
    status: int  # 200, or 304 when the conditional GET says nothing changed
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_local(url: str) -> bool:
    return url.startswith("file://") or "://" not in url


class Fetcher:
    """One aiohttp session for every feed; create inside a running event loop."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 10.0))
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate, br"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        if is_local(url):
            return await self._read_file(url)
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(f"unsupported URL scheme {scheme!r}: only http and https")
        headers = {
            "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, "
            "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with self._get_session().get(
                url, headers=headers, max_redirects=MAX_REDIRECTS, timeout=self._timeout
            ) as resp:
                if resp.status == 304:
                    return FetchResult(str(resp.url), 304, etag=etag, last_modified=last_modified)
                if resp.status >= 400:
                    raise FetchHTTPError(
                        resp.status, resp.reason or "", resp.headers.get("Retry-After")
                    )
                body = await self._read_capped(resp)
                return FetchResult(
                    url=str(resp.url),
                    status=resp.status,
                    body=body,
                    etag=resp.headers.get("ETag"),
                    last_modified=resp.headers.get("Last-Modified"),
                    headers={k.lower(): v for k, v in resp.headers.items()},
                )
        except TimeoutError as exc:
            raise FetchTimeout("timed out") from exc
        except aiohttp.TooManyRedirects as exc:
            raise FetchError(f"more than {MAX_REDIRECTS} redirects") from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"could not connect: {exc}") from exc

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        # aiohttp decompresses as it streams, so this caps the decompressed size and a
        # gzip bomb stops at the cap instead of filling memory.
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchTooLarge(f"feed is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _read_file(self, url: str) -> FetchResult:
        path = Path(url.removeprefix("file://"))
        body = await asyncio.to_thread(self._read_local, path)
        return FetchResult(url=url, status=200, body=body)

    def _read_local(self, path: Path) -> bytes:
        try:
            if path.stat().st_size > self.max_bytes:
                raise FetchTooLarge(f"feed is larger than {self.max_bytes} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc
