"""A local aiohttp server that serves feeds and records every request it receives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.routes: dict[str, Route] = {}
        self.requests: list[web.Request] = []
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()
        self._arrived = asyncio.Condition()
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def handle(self, path: str, handler: Handler) -> str:
        """Answer `path` with a handler of its own (streams, delays, odd protocols)."""
        self.routes[path] = Route(handler=handler)
        return self.url(path)

    def redirect(self, path: str, to: str, *, status: int = 302) -> str:
        self.routes[path] = Route(status=status, headers={"Location": to}, body=b"")
        return self.url(path)

    def hang(self, path: str) -> str:
        """A server that accepts the request and never answers (until the server stops)."""

        async def never(request: web.Request) -> web.StreamResponse:
            await self._released.wait()
            return web.Response(status=503)

        return self.handle(path, never)

    def serve(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(data, status, dict(headers or {}))
        return self.url(path)

    def hits(self, path: str) -> list[web.Request]:
        return [r for r in self.requests if r.path == path]

    async def wait_for_hits(self, path: str, count: int, timeout: float = 20.0) -> None:
        """Wait until `path` has been asked for `count` times in all.

        Woken by each request as it arrives, not by polling. The watcher never asks for a
        feed again while its refresh is running, and a refresh records the feed's stories
        and queues its alerts before it ends: so once request n+1 has arrived, everything
        the first n answers caused is in the bot's database.
        """
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.hits(path)) >= count)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        async with self._arrived:
            self._arrived.notify_all()
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no such feed")
        if route.handler is not None:
            return await route.handler(request)
        return web.Response(
            body=route.body,
            status=route.status,
            headers=route.headers,
            content_type=None if "Content-Type" in route.headers else "application/rss+xml",
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # (host, port) of the site's socket

    async def stop(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()


def rss(*items: tuple[str, str, str], title: str = "Test Wire") -> str:
    """An RSS 2.0 document; each item is (guid, title, description)."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{t}</title>"
        f"<link>https://news.example/{guid}</link><description>{d}</description>"
        "<pubDate>Mon, 27 Dec 2021 14:10:00 GMT</pubDate></item>"
        for guid, t, d in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{title}</title><link>https://news.example/</link>{body}</channel></rss>"
    )
