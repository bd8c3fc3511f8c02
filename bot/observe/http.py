"""The operator's port (NEWSBOT_HTTP_PORT): /metrics, /livez and /readyz on one aiohttp app.

/livez answers 200 whenever the event loop runs this handler at all: a blocked loop
answers nothing, and the prober's timeout says so. /readyz answers 200 or 503 with a JSON
body naming each check (bot/observe/health.py). /metrics is Prometheus' text format,
with the gauges read from the store just before (bot/observe/gauges.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.config import ConfigError
from bot.observe.health import Readiness

log = logging.getLogger(__name__)


async def listen(runner: web.AppRunner, host: str, port: int, setting: str) -> int:
    """Serve `runner` (set up) on host:port and return the port bound (0 asks for a free
    one). A port that cannot be had is a ConfigError naming `setting`, the one to change."""
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        raise ConfigError(
            f"invalid setting {setting}: cannot listen on port {port}: {exc.strerror or exc}"
        ) from None
    sockets = getattr(site._server, "sockets", None)
    return int(sockets[0].getsockname()[1]) if sockets else port


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class PostMount(Protocol):
    """A port shared with another server's POST route (Slack's HTTP mode): the route is
    answered by whatever handler is mounted now, 503 while there is none."""

    port: int

    def mount_post(self, path: str, handler: Handler | None) -> None: ...


class OpsServer:
    def __init__(
        self,
        readiness: Readiness,
        *,
        port: int,
        host: str = "0.0.0.0",
        before_scrape: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.readiness = readiness
        self.host = host
        self.port = port  # the port actually bound once started (0 asks for a free one)
        self._before_scrape = before_scrape
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.app.router.add_get("/livez", self._livez)
        self.app.router.add_get("/readyz", self._readyz)
        self.app.router.add_get("/metrics", self._metrics)
        self._posts: dict[str, Handler | None] = {}

    def forward_post(self, path: str) -> None:
        """Route POST `path` to the handler mounted later (mount_post); before start, as
        aiohttp's routes are fixed once it serves."""
        self._posts[path] = None

        async def forwarded(request: web.Request) -> web.StreamResponse:
            handler = self._posts.get(path)
            if handler is None:
                raise web.HTTPServiceUnavailable(text="not serving this path now")
            return await handler(request)

        self.app.router.add_post(path, forwarded)

    def mount_post(self, path: str, handler: Handler | None) -> None:
        if path not in self._posts:
            raise KeyError(f"{path} was not set up with forward_post before start")
        self._posts[path] = handler

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        try:
            self.port = await listen(self._runner, self.host, self.port, "NEWSBOT_HTTP_PORT")
        except ConfigError:
            await self.stop()
            raise
        log.info("metrics and health on %s:%d (/metrics, /livez, /readyz)", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _livez(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, request: web.Request) -> web.Response:
        verdict = await self.readiness.check()
        return web.json_response(verdict.as_json(), status=200 if verdict.ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._before_scrape is not None:
            try:
                await self._before_scrape()
            except Exception:
                # The counters are still worth serving; the gauges keep their last values.
                log.exception("could not read the gauges for /metrics")
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )
