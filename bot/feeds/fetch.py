"""Fetching feeds over HTTP with aiohttp (never feedparser's own urllib fetch).

Every fetch has a total deadline, a connect timeout, a cap on the decompressed body and at
most MAX_REDIRECTS redirects, followed here hop by hop so that each hop is checked. A feed
added from chat is fetched with `untrusted=True`: http(s) only, and only public addresses
(bot/feeds/netguard.py).

Operator feeds may also be local files: the operator is trusted, and the demo and the
tests replay feeds from disk through the same pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot import __version__
from bot.feeds.errors import (
    FetchError,
    FetchHTTPError,
    FetchTimeout,
    FetchTooLarge,
    FetchTooManyRedirects,
    UnsafeURLError,
)
from bot.feeds.netguard import AddressPolicy, check_host, guarded_connector
from bot.observe import metrics

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REDIRECTS",
    "USER_AGENT",
    "FetchError",
    "FetchHTTPError",
    "FetchResult",
    "FetchTimeout",
    "FetchTooLarge",
    "FetchTooManyRedirects",
    "Fetcher",
    "UnsafeURLError",
    "is_local",
]

log = logging.getLogger(__name__)

USER_AGENT = f"newsbot/{__version__} (+self-hosted news alert bot)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
MAX_URL = 2048
CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # where the body came from, after redirects
    status: int  # 200, or 304 when the conditional GET says nothing changed
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    # Where the feed now lives if every redirect on the way was permanent (301/308):
    # the URL worth storing instead of the one asked for. None: no permanent move.
    permanent_url: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def fetch_outcome(exc: FetchError) -> str:
    """A failed fetch's label in newsbot_feed_fetches_total: its kind, never its text."""
    if isinstance(exc, FetchHTTPError):
        if exc.status == 429:
            return "http_429"
        if 400 <= exc.status < 500:
            return "http_4xx"
        return "http_5xx" if exc.status >= 500 else "http_other"
    if isinstance(exc, FetchTimeout):
        return "timeout"
    if isinstance(exc, FetchTooLarge):
        return "too_large"
    if isinstance(exc, FetchTooManyRedirects):
        return "too_many_redirects"
    if isinstance(exc, UnsafeURLError):
        return "refused"
    return "network"


def is_local(url: str) -> bool:
    return url.startswith("file://") or "://" not in url


class Fetcher:
    """Two aiohttp sessions, trusted and untrusted; create inside a running event loop."""

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        connect_timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        policy: AddressPolicy | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        """`policy` and `resolver` shape untrusted fetches; tests inject both."""
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.policy = policy or AddressPolicy()
        self._resolver = resolver
        # The total deadline is enforced around the whole fetch, redirects included;
        # these bound each connection attempt and each silent stretch of a response.
        self._client_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=min(timeout, connect_timeout), sock_read=timeout
        )
        self._session = session
        self._owns_session = session is None
        self._untrusted: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _headers(self) -> dict[str, str]:
        return {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate, br"}

    def _get_session(self, untrusted: bool) -> aiohttp.ClientSession:
        if untrusted:
            if self._untrusted is None:
                self._untrusted = aiohttp.ClientSession(
                    connector=guarded_connector(self.policy, self._resolver),
                    timeout=self._client_timeout,
                    headers=self._headers(),
                    # No cookies: one user's feed must not shape what another feed sees.
                    cookie_jar=aiohttp.DummyCookieJar(),
                    # trust_env stays False: a proxy would hide the peer address checked.
                )
            return self._untrusted
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._client_timeout, headers=self._headers()
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None
        if self._untrusted is not None:
            await self._untrusted.close()
        self._untrusted = None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        untrusted: bool = False,
    ) -> FetchResult:
        """The feed's bytes, or FetchResult(status=304); raise a FetchError subclass.

        Each fetch is counted by outcome and timed (newsbot_feed_fetches_total)."""
        started = time.perf_counter()
        try:
            result = await self._fetch(
                url, etag=etag, last_modified=last_modified, untrusted=untrusted
            )
        except FetchError as exc:
            metrics.fetch_finished(fetch_outcome(exc), time.perf_counter() - started)
            raise
        outcome = "not_modified" if result.not_modified else "ok"
        metrics.fetch_finished(outcome, time.perf_counter() - started)
        return result

    async def _fetch(
        self,
        url: str,
        *,
        etag: str | None,
        last_modified: str | None,
        untrusted: bool,
    ) -> FetchResult:
        if is_local(url):
            if untrusted:
                raise UnsafeURLError("refused: only http and https URLs can be added")
            return await self._read_file(url)
        headers = {"Accept": _ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url, headers, untrusted)
        except TimeoutError as exc:
            raise FetchTimeout(f"timed out after {self.timeout:g} s") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise FetchError(f"cannot resolve {exc.host}") from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise FetchError(f"TLS certificate problem with {exc.host}") from exc
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(f"could not connect to {exc.host}:{exc.port}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"the response was cut short or garbled: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"request failed: {exc}") from exc

    async def _follow(self, url: str, headers: dict[str, str], untrusted: bool) -> FetchResult:
        session = self._get_session(untrusted)
        target = self._checked(url, untrusted, redirect=False)
        permanent: str | None = None
        all_permanent = True
        for _hop in range(MAX_REDIRECTS + 1):
            async with session.get(target, headers=headers, allow_redirects=False) as resp:
                location = resp.headers.get("Location")
                if resp.status in _REDIRECTS and location:
                    all_permanent = all_permanent and resp.status in _PERMANENT
                    try:
                        following = target.join(URL(location))
                    except ValueError as exc:
                        raise FetchError(f"a redirect to an invalid URL: {exc}") from exc
                    target = self._checked(following, untrusted, redirect=True)
                    if all_permanent:
                        permanent = str(target)
                    log.debug("redirected to %s", target, extra={"feed_url": url})
                    continue
                if resp.status == 304:
                    # A 304 may carry fresh caching headers (RFC 9111 §4.3.4): keep them.
                    return FetchResult(
                        str(resp.url),
                        304,
                        etag=resp.headers.get("ETag") or headers.get("If-None-Match"),
                        last_modified=resp.headers.get("Last-Modified")
                        or headers.get("If-Modified-Since"),
                        headers={k.lower(): v for k, v in resp.headers.items()},
                        permanent_url=permanent,
                    )
                if resp.status >= 300:
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
                    permanent_url=permanent,
                )
        raise FetchTooManyRedirects(f"more than {MAX_REDIRECTS} redirects")

    def _checked(self, url: str | URL, untrusted: bool, *, redirect: bool) -> URL:
        """The URL to request next, after the checks that do not need the network."""
        where = "a redirect to " if redirect else ""
        try:
            target = url if isinstance(url, URL) else URL(url)
        except ValueError as exc:
            raise FetchError(f"{where}an invalid URL: {exc}") from exc
        if target.scheme not in ("http", "https"):
            shown = target.scheme or "no scheme"
            raise UnsafeURLError(f"refused: {where}{shown} URL; only http and https are fetched")
        if not target.host:
            raise FetchError(f"{where}a URL without a host")
        if len(str(target)) > MAX_URL:
            raise FetchError(f"{where}a URL longer than {MAX_URL} characters")
        if untrusted:
            try:
                check_host(target.host, self.policy)
            except UnsafeURLError as exc:
                if redirect:
                    raise UnsafeURLError(f"{exc} (reached by a redirect)") from None
                raise
        return target

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        declared = resp.content_length
        if declared is not None and declared > self.max_bytes:
            raise FetchTooLarge(self._too_large())
        # aiohttp (since 3.13.3, CVE-2025-69223) decompresses gzip/deflate/br as the body
        # streams in, a bounded piece at a time, so counting the chunks counts decompressed
        # bytes and a gzip bomb stops at the cap (tests/test_fetch_limits.py measures it).
        # Earlier versions inflated each network chunk whole: hence the lower bound.
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchTooLarge(self._too_large())
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"feed is larger than {self.max_bytes} bytes (NEWSBOT_MAX_FEED_BYTES)"

    async def _read_file(self, url: str) -> FetchResult:
        path = Path(url.removeprefix("file://"))
        body = await asyncio.to_thread(self._read_local, path)
        return FetchResult(url=url, status=200, body=body)

    def _read_local(self, path: Path) -> bytes:
        try:
            if path.stat().st_size > self.max_bytes:
                raise FetchTooLarge(self._too_large())
            return path.read_bytes()
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from exc
